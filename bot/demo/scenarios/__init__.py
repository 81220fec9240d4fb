"""Realistic broken and healthy Lambda setups, seeded in a moto server.

Each `Scenario` declares the root cause a correct diagnosis must find (check id, status,
principal, actions, source), so the end-to-end tests and the demo can assert on it. The
setups follow the AWS Lambda troubleshooting guide
(https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-execution.html) and the
permission pages of each feature (linked per scenario).

Seeding uses boto3 WRITES: this is demo and test data, never the read-only collectors.
The second account is reached the way moto supports it: `sts:AssumeRole` into a role ARN
of that account returns credentials moto maps to it
(https://docs.getmoto.org/en/latest/docs/multi_account.html).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Collection, Sequence

import boto3

from bot.demo.scenarios import advanced, execution, healthy, sources, triggers
from bot.demo.scenarios.base import Account, read_only_role
from bot.demo.scenarios.model import (
    BASIC_EXECUTION,
    DEFAULT_ACCOUNTS,
    LAMBDA_TRUST,
    PRIMARY_ACCOUNT,
    READ_ONLY_ROLE,
    REGION,
    SECOND_ACCOUNT,
    VPC_EXECUTION,
    Expected,
    Scenario,
)

__all__ = [
    "BASIC_EXECUTION",
    "DEFAULT_ACCOUNTS",
    "PRIMARY_ACCOUNT",
    "READ_ONLY_ROLE",
    "REGION",
    "SCENARIO_KEYS",
    "SECOND_ACCOUNT",
    "Expected",
    "Scenario",
    "config_toml",
    "remedy",
    "remedy_sync",
    "seed",
    "seed_sync",
]

Seeder = Callable[[Account], Scenario]


def _fix_trust(acct: Account, scenario: Scenario) -> None:
    acct.client("iam").update_assume_role_policy(
        RoleName=scenario.role_arn.rsplit("/", 1)[-1], PolicyDocument=json.dumps(LAMBDA_TRUST)
    )


def _fix_vpc(acct: Account, scenario: Scenario) -> None:
    acct.client("iam").attach_role_policy(
        RoleName=scenario.role_arn.rsplit("/", 1)[-1], PolicyArn=VPC_EXECUTION
    )


def _fix_xray(acct: Account, scenario: Scenario) -> None:
    acct.client("iam").attach_role_policy(
        RoleName=scenario.role_arn.rsplit("/", 1)[-1],
        PolicyArn="arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
    )


#: how to repair a scenario (the demo fixes one, then clicks Rerun)
REMEDIES: dict[str, Callable[[Account, Scenario], None]] = {
    "trust-wrong": _fix_trust,
    "vpc-no-eni": _fix_vpc,
    "xray-no-permission": _fix_xray,
}


#: seeders of the primary (own) account, in presentation order
PRIMARY_SEEDERS: dict[str, Seeder] = {
    "healthy": healthy.healthy,
    "healthy-full": healthy.healthy_full,
    "healthy-streams": healthy.healthy_streams,
    "healthy-variants": healthy.healthy_variants,
    "sns-ok": healthy.sns_ok,
    "trust-wrong": execution.trust_wrong,
    "vpc-no-eni": execution.vpc_no_eni,
    "vpc-boundary": execution.vpc_boundary,
    "sqs-no-receive": sources.sqs_no_receive,
    "kinesis-no-getrecords": sources.kinesis_no_getrecords,
    "dynamodb-no-getrecords": sources.dynamodb_no_getrecords,
    "s3-wrong-source": triggers.s3_wrong_source,
    "events-no-permission": triggers.events_no_permission,
    "url-not-public": triggers.url_not_public,
    "kms-env": execution.kms_env,
    "dlq-no-send": execution.dlq_no_send,
    "xray-no-permission": execution.xray_no_permission,
    "typo-action": execution.typo_action,
    "trust-condition": execution.trust_condition,
    "sqs-explicit-deny": sources.sqs_explicit_deny,
    "sqs-kms": sources.sqs_kms,
    "sns-no-permission": triggers.sns_no_permission,
    "s3-wrong-account": triggers.s3_wrong_account,
    "public-invoke": triggers.public_invoke,
    "apigw-no-permission": triggers.apigw_no_permission,
    "apigw-ok": healthy.apigw_ok,
    "role-deleted": execution.role_deleted,
    "sqs-queue-policy-deny": sources.sqs_queue_policy_deny,
    "destination-lambda": execution.destination_lambda,
    "alias-permission": triggers.alias_permission,
    "sqs-wrong-region": sources.sqs_wrong_region,
    "abac-tags": advanced.abac_tags,
    "abac-tag-mismatch": advanced.abac_tag_mismatch,
    "kms-env-context": advanced.kms_env_context,
    "vpc-subnet-scoped": advanced.vpc_subnet_scoped,
    "image-same-account": advanced.image_same_account,
    "s3-denied-unnamed": advanced.s3_denied_unnamed,
}


#: seeders of every other account
OTHER_SEEDERS: dict[str, Seeder] = {
    "xacct-logging": execution.xacct_logging,
    "xacct-healthy": healthy.xacct_healthy,
}


CrossSeeder = Callable[[Account, Account], Scenario]


#: seeders that span the primary and the second account
CROSS_SEEDERS: dict[str, CrossSeeder] = {
    "xacct-s3-ok": healthy.xacct_s3_ok,
    "xacct-events-wrong-account": advanced.xacct_events_wrong_account,
    "xacct-sns-ok": advanced.xacct_sns_ok,
}


SCENARIO_KEYS = (*PRIMARY_SEEDERS, *OTHER_SEEDERS, *CROSS_SEEDERS)


def _account_session(endpoint_url: str, account: str, region: str) -> boto3.session.Session:
    """Credentials for `account`: the primary one directly, others by assuming a role there."""
    base = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        region_name=region,
    )
    if account == PRIMARY_ACCOUNT:
        return base
    creds = base.client("sts", endpoint_url=endpoint_url, region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="lambda-why-demo-seed",
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def seed_sync(
    endpoint_url: str,
    *,
    accounts: Sequence[str] = DEFAULT_ACCOUNTS,
    only: Collection[str] | None = None,
    region: str = REGION,
) -> list[Scenario]:
    """Seed the scenarios (all, or the keys in `only`) and return them, in order."""
    unknown = set(only or ()) - set(SCENARIO_KEYS)
    if unknown:
        raise ValueError(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    scenarios: list[Scenario] = []
    seeded: dict[str, Account] = {}
    for account in accounts:
        acct = Account(
            account, _account_session(endpoint_url, account, region), endpoint_url, region
        )
        seeded[account] = acct
        if account == PRIMARY_ACCOUNT:
            seeders = PRIMARY_SEEDERS
        else:
            read_only_role(acct, PRIMARY_ACCOUNT)
            seeders = OTHER_SEEDERS
        for key, seeder in seeders.items():
            if only is None or key in only:
                scenarios.append(seeder(acct))
    own = seeded.get(PRIMARY_ACCOUNT)
    others = [a for a in seeded.values() if a.account != PRIMARY_ACCOUNT]
    if own is not None and others:
        for key, cross in CROSS_SEEDERS.items():
            if only is None or key in only:
                scenarios.append(cross(own, others[0]))
    return scenarios


async def seed(
    endpoint_url: str,
    *,
    accounts: Sequence[str] = DEFAULT_ACCOUNTS,
    only: Collection[str] | None = None,
    region: str = REGION,
) -> list[Scenario]:
    """Seed the scenarios in the moto server at `endpoint_url` (boto3 in a worker thread)."""
    return await asyncio.to_thread(
        seed_sync, endpoint_url, accounts=accounts, only=only, region=region
    )


def remedy_sync(endpoint_url: str, scenario: Scenario) -> None:
    """Repair a seeded scenario (a boto3 write), as its owner would after reading the fix."""
    fix = REMEDIES.get(scenario.key)
    if fix is None:
        raise ValueError(f"no remedy for scenario {scenario.key}")
    session = _account_session(endpoint_url, scenario.account, scenario.region)
    fix(Account(scenario.account, session, endpoint_url, scenario.region), scenario)


async def remedy(endpoint_url: str, scenario: Scenario) -> None:
    await asyncio.to_thread(remedy_sync, endpoint_url, scenario)


def config_toml(scenarios: Sequence[Scenario]) -> str:
    """A `LAMBDA_WHY_CONFIG` file that lets the bot read every seeded account."""
    accounts = sorted({s.account for s in scenarios} | {PRIMARY_ACCOUNT})
    if any(s.key in CROSS_SEEDERS for s in scenarios) and SECOND_ACCOUNT not in accounts:
        accounts.append(SECOND_ACCOUNT)  # the cross-account scenarios' other side
    return "".join(f'[accounts."{account}"]\n\n' for account in accounts)
