"""What findings say: causes, fixes, evidence, ordering, the JSON document's shape."""

from __future__ import annotations

import json
import re
from types import ModuleType

import pytest

from bot import checks
from bot.checks import CHECKS, build_report, run_checks
from bot.checks.common import normalize_lambda_policy, sort_findings
from bot.report import Finding, Severity, Status
from bot.snapshot import EventSource, EventSourceMapping, Gap, NamedPolicy
from tests.checks.conftest import load

ROLE = "arn:aws:iam::111111111111:role/orders-role"


def _one(name: str, check: str) -> Finding:
    found = [f for f in run_checks(load(name)) if f.check == check and f.status is not Status.PASS]
    assert len(found) == 1, found
    return found[0]


MINE = {
    "execution-role-trust",
    "function-state",
    "log-delivery",
    "vpc-eni",
    "event-source",
    "invoke-permission",
    "function-url",
    "env-kms",
    "destinations",
    "efs-mount",
    "xray",
    "unknown-actions",
}


def test_registry_ids_are_unique_kebab_case_and_runnable() -> None:
    ids = [c.ID for c in CHECKS]
    assert len(ids) == len(set(ids))
    assert set(ids) >= MINE
    for module in CHECKS:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", module.ID)
        assert callable(module.run)
        if module.ID in MINE:  # one module per check, named after it
            assert module.__name__.rsplit(".", 1)[-1] == module.ID.replace("-", "_")


def test_scp_denial_says_identity_policy_cannot_help() -> None:
    f = _one("broken_vpc_scp", "vpc-eni")
    assert f.denied_by == ["scp"]
    assert f.fix is not None
    assert "can't help" in f.fix.summary
    assert "p-denyeni1" in f.fix.summary
    assert "management account 999999999999" in f.fix.summary
    assert not any("put-role-policy" in c for c in f.fix.commands)
    assert any(e.sid == "NoENIs" and "Deny" in e.text for e in f.evidence)


def test_boundary_denial_names_the_boundary() -> None:
    f = _one("broken_vpc_boundary", "vpc-eni")
    assert f.fix is not None
    assert "permissions boundary arn:aws:iam::111111111111:policy/dev-boundary" in f.fix.summary
    assert "can't help" in f.fix.summary
    assert any("create-policy-version" in c for c in f.fix.commands)
    assert any(e.policy == "arn:aws:iam::111111111111:policy/dev-boundary" for e in f.evidence)


def test_identity_denial_fix_is_least_privilege_and_attaches_managed_policy() -> None:
    f = _one("broken_vpc_identity", "vpc-eni")
    assert f.fix is not None
    assert f.fix.policy is not None
    statements = f.fix.policy["Statement"]
    create = next(s for s in statements if "ec2:CreateNetworkInterface" in json.dumps(s))
    assert "arn:aws:ec2:us-east-1:111111111111:subnet/subnet-0aaa" in create["Resource"]
    assert any("put-role-policy --role-name orders-role" in c for c in f.fix.commands)
    assert any("AWSLambdaVPCAccessExecutionRole" in c for c in f.fix.commands)


def test_explicit_deny_fix_rewrites_the_policy_without_the_deny() -> None:
    f = _one("broken_logs_identity_deny", "log-delivery")
    assert f.fix is not None
    assert "NoLogs" in f.fix.summary
    cmd = next(c for c in f.fix.commands if "put-role-policy" in c)
    assert "--policy-name no-logs" in cmd
    assert "Deny" not in cmd


def test_wrong_source_permission_is_a_failure_that_says_so() -> None:
    f = _one("broken_s3_wrong_source", "invoke-permission")
    assert f.status is Status.FAIL
    assert f.source == "arn:aws:s3:::orders-uploads"
    assert f.actions == ["lambda:InvokeFunction"]
    assert "another source" in f.title
    assert "arn:aws:s3:::old-uploads" in f.detail
    assert f.fix is not None
    cmd = f.fix.commands[0]
    assert "--principal s3.amazonaws.com" in cmd
    assert "--source-arn arn:aws:s3:::orders-uploads" in cmd
    assert "--source-account 111111111111" in cmd


def test_public_principal_without_condition_is_a_warning() -> None:
    f = _one("warn_public_invoke", "invoke-permission")
    assert f.status is Status.WARN
    assert f.principal == "*"
    assert f.evidence
    assert f.evidence[0].sid == "anyone"


def test_cross_account_source_fix_goes_to_the_queue_owner() -> None:
    f = _one("broken_sqs_cross_account", "event-source")
    assert f.fix is not None
    assert "account 222222222222" in f.fix.summary
    assert any("set-queue-attributes" in c for c in f.fix.commands)


def test_key_policy_denial_offers_a_grant() -> None:
    f = _one("broken_env_kms_key_policy", "env-kms")
    assert f.fix is not None
    assert any("aws kms create-grant" in c and ROLE in c for c in f.fix.commands)


def test_unknown_names_the_gap() -> None:
    f = _one("unknown_policy_unreadable", "log-delivery")
    assert "AWSLambdaBasicExecutionRole" in f.detail
    report = build_report(load("unknown_policy_unreadable"))
    assert report.gaps
    assert report.gaps[0].operation == "iam:GetPolicyVersion"


def test_uncovered_gap_becomes_an_unknown_finding() -> None:
    snapshot = load("healthy_basic")
    snapshot.gaps.append(Gap(operation="s3:ListBuckets", error="AccessDenied"))
    snapshot.gaps.append(Gap(operation="cloudtrail:LookupEvents", error="AccessDenied"))
    findings = run_checks(snapshot)
    gaps = [f for f in findings if f.check == "read-gaps"]
    assert len(gaps) == 1
    assert gaps[0].status is Status.UNKNOWN
    assert "s3:ListBuckets" in gaps[0].title


def test_mapping_problem_with_permissions_in_order_is_a_warning() -> None:
    snapshot = load("healthy_full")
    snapshot.event_source_mappings[0].last_processing_result = "PROBLEM: Connection error."
    f = next(f for f in run_checks(snapshot) if f.check == "event-source")
    assert f.status is Status.WARN
    assert "PROBLEM: Connection error." in f.detail


def test_mapping_to_deleted_queue_fails() -> None:
    snapshot = load("healthy_full")
    snapshot.event_source_mappings[0].source.exists = False
    f = next(f for f in run_checks(snapshot) if f.check == "event-source")
    assert f.status is Status.FAIL
    assert "does not exist" in f.title


@pytest.mark.parametrize(
    ("kind", "arn", "needed"),
    [
        (
            "msk",
            "arn:aws:kafka:us-east-1:111111111111:cluster/orders/abc-1",
            {"kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers", "ec2:CreateNetworkInterface"},
        ),
        (
            "mq",
            "arn:aws:mq:us-east-1:111111111111:broker:orders:b-1234",
            {"mq:DescribeBroker", "ec2:DescribeVpcs", "secretsmanager:GetSecretValue"},
        ),
        (
            "docdb",
            "arn:aws:rds:us-east-1:111111111111:cluster:orders-docs",
            {"rds:DescribeDBClusters", "rds:DescribeDBClusterParameters", "ec2:DescribeSubnets"},
        ),
        (
            "kinesis",
            "arn:aws:kinesis:us-east-1:111111111111:stream/clicks",
            {"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream"},
        ),
        (
            "dynamodb",
            "arn:aws:dynamodb:us-east-1:111111111111:table/t/stream/2026-01-01T00:00:00.000",
            {"dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream"},
        ),
    ],
)
def test_each_source_type_needs_its_documented_actions(
    kind: str, arn: str, needed: set[str]
) -> None:
    snapshot = load("healthy_basic")
    secret = "arn:aws:secretsmanager:us-east-1:111111111111:secret:mq-creds-AbCdEf"
    snapshot.event_source_mappings.append(
        EventSourceMapping(
            uuid="e1",
            source=EventSource(arn=arn, type=kind, exists=True),  # type: ignore[arg-type]
            source_access_configurations=[{"Type": "BASIC_AUTH", "URI": secret}],
        )
    )
    f = next(f for f in run_checks(snapshot) if f.check == "event-source")
    assert f.status is Status.FAIL
    assert needed <= set(f.actions)
    assert f.principal == ROLE
    assert f.source == arn


def test_self_managed_kafka_in_a_vpc_needs_eni_actions_and_secret() -> None:
    snapshot = load("healthy_basic")
    secret = "arn:aws:secretsmanager:us-east-1:111111111111:secret:kafka-AbCdEf"
    snapshot.event_source_mappings.append(
        EventSourceMapping(
            uuid="k1",
            source=EventSource(type="kafka"),
            self_managed_endpoints={"KAFKA_BOOTSTRAP_SERVERS": ["b-1.example.com:9092"]},
            source_access_configurations=[
                {"Type": "VPC_SUBNET", "URI": "subnet:subnet-0aaa"},
                {"Type": "SASL_SCRAM_512_AUTH", "URI": secret},
            ],
        )
    )
    f = next(f for f in run_checks(snapshot) if f.check == "event-source")
    assert f.status is Status.FAIL
    assert {"ec2:CreateNetworkInterface", "secretsmanager:GetSecretValue"} <= set(f.actions)
    assert "b-1.example.com:9092" in f.title


def test_function_state_failure_is_reported() -> None:
    snapshot = load("healthy_basic")
    snapshot.function.state = "Failed"
    snapshot.function.state_reason_code = "KMSKeyAccessDenied"
    snapshot.function.state_reason = "Lambda was unable to decrypt the environment variables"
    f = next(f for f in run_checks(snapshot) if f.check == "function-state")
    assert f.status is Status.FAIL
    assert f.actions == ["kms:Decrypt"]


def test_findings_are_sorted_fail_unknown_warn_pass() -> None:
    mk = lambda s, sev: Finding(check="c", status=s, severity=sev, title=s.value)  # noqa: E731
    ordered = sort_findings(
        [
            mk(Status.PASS, Severity.INFO),
            mk(Status.WARN, Severity.LOW),
            mk(Status.FAIL, Severity.MEDIUM),
            mk(Status.UNKNOWN, Severity.HIGH),
            mk(Status.FAIL, Severity.HIGH),
        ]
    )
    assert [(f.status, f.severity) for f in ordered] == [
        (Status.FAIL, Severity.HIGH),
        (Status.FAIL, Severity.MEDIUM),
        (Status.UNKNOWN, Severity.HIGH),
        (Status.WARN, Severity.LOW),
        (Status.PASS, Severity.INFO),
    ]


def test_a_crashing_check_becomes_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = ModuleType("bot.checks.exploding")
    broken.ID = "exploding"  # type: ignore[attr-defined]

    def run(_: object) -> list[Finding]:
        raise KeyError("boom")

    broken.run = run  # type: ignore[attr-defined]
    monkeypatch.setattr(checks, "CHECKS", [*CHECKS, broken])
    found = [f for f in checks.run_checks(load("healthy_basic")) if f.check == "exploding"]
    assert found
    assert found[0].status is Status.UNKNOWN
    assert "KeyError" in found[0].detail


def test_notes_say_scps_were_not_evaluated_without_organization() -> None:
    report = build_report(load("healthy_basic"))
    assert "SCPs and RCPs were not evaluated (no [organization] configured)" in report.notes


CONTRACT_TOP = {
    "function",
    "account",
    "region",
    "checked_at",
    "summary",
    "findings",
    "events",
    "gaps",
}
CONTRACT_FINDING = {
    "check",
    "status",
    "severity",
    "title",
    "detail",
    "principal",
    "actions",
    "resources",
    "source",
    "denied_by",
    "evidence",
    "fix",
}


@pytest.mark.parametrize("name", ["broken_vpc_scp", "broken_s3_wrong_source", "healthy_full"])
def test_json_document_has_the_contract_shape(name: str) -> None:
    doc = json.loads(json.dumps(build_report(load(name)).to_json_dict()))
    assert set(doc) >= CONTRACT_TOP
    assert set(doc["summary"]) == {"fail", "warn", "pass", "unknown"}
    assert doc["checked_at"].endswith("Z")
    for f in doc["findings"]:
        assert set(f) >= CONTRACT_FINDING
        assert f["status"] in {"pass", "fail", "warn", "unknown"}
        assert f["severity"] in {"high", "medium", "low", "info"}
        assert set(f["denied_by"]) <= {"identity", "resource", "boundary", "session", "scp", "rcp"}
        for ev in f["evidence"]:
            assert set(ev) == {"policy", "sid", "text"}
        if f["fix"] is not None:
            assert set(f["fix"]) == {"summary", "policy", "commands"}
    assert sum(doc["summary"].values()) == len(doc["findings"])


def test_moto_shaped_policies_are_normalised() -> None:
    doc = normalize_lambda_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "lambda:InvokeFunctionUrl",
                    "Principal": "*",
                    "FunctionUrlAuthType": "NONE",
                    "Effect": "Allow",
                    "Resource": "arn:aws:lambda:us-east-1:1:function:f",
                    "Sid": "u",
                },
                {
                    "Action": "lambda:InvokeFunction",
                    "Principal": "222222222222",
                    "Effect": "Allow",
                    "Resource": "arn:aws:lambda:us-east-1:1:function:f",
                    "Sid": "a",
                },
                {
                    "Action": "lambda:InvokeFunction",
                    "Principal": "sns.amazonaws.com",
                    "Effect": "Allow",
                    "Resource": "arn:aws:lambda:us-east-1:1:function:f",
                    "Sid": "s",
                },
            ],
        }
    )
    url, account, sns = doc["Statement"]
    assert url["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    assert "FunctionUrlAuthType" not in url
    assert account["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}
    assert sns["Principal"] == {"Service": "sns.amazonaws.com"}


def test_typo_action_suggests_the_real_one() -> None:
    f = _one("warn_typo_action", "unknown-actions")
    assert "did you mean lambda:InvokeFunction?" in f.detail
    assert f.fix is not None
    assert f.fix.policy is not None
    assert "lambda:InvokeFunction" in json.dumps(f.fix.policy)
    assert any(
        "put-role-policy --role-name orders-role --policy-name fanout-invoke" in c
        for c in f.fix.commands
    )


def test_disabled_env_key_fails_with_enable_fix() -> None:
    snapshot = load("healthy_full")
    key = next(iter(snapshot.kms_keys.values()))
    key.key_state = "Disabled"
    f = next(f for f in run_checks(snapshot) if f.check == "env-kms")
    assert f.status is Status.FAIL
    assert "Disabled" in f.title
    assert f.fix is not None
    assert any("aws kms enable-key" in c for c in f.fix.commands)


def test_scp_allow_list_names_the_level_that_does_not_allow() -> None:
    f = _one("broken_vpc_scp_allow_list", "vpc-eni")
    assert f.denied_by == ["scp"]
    texts = [e.text for e in f.evidence]
    assert any(t.startswith("SCP level 1") and "p-allowlst" in t for t in texts), texts
    assert not any(t.startswith("SCP level 0") for t in texts)
    assert f.fix is not None
    assert "can't help" in f.fix.summary


def test_secret_policy_and_key_are_evaluated_for_source_auth() -> None:
    from bot.snapshot import KmsKey, Secret

    snapshot = load("healthy_basic")
    secret = "arn:aws:secretsmanager:us-east-1:111111111111:secret:mq-creds-AbCdEf"
    key = "arn:aws:kms:us-east-1:111111111111:key/5ec7e700-0000-0000-0000-000000000000"
    snapshot.role.inline_policies.append(  # type: ignore[union-attr]
        NamedPolicy(
            name="mq",
            document={
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["mq:DescribeBroker", "ec2:*"], "Resource": "*"},
                    {
                        "Effect": "Allow",
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": secret,
                    },
                ],
            },
        )
    )
    snapshot.secrets[secret] = Secret(arn=secret, kms_key_arn=key, exists=True)
    snapshot.kms_keys[key] = KmsKey(
        arn=key,
        key_manager="CUSTOMER",
        policy={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        },
    )
    snapshot.event_source_mappings.append(
        EventSourceMapping(
            uuid="mq1",
            source=EventSource(arn="arn:aws:mq:us-east-1:111111111111:broker:b:b-1", type="mq"),
            source_access_configurations=[{"Type": "BASIC_AUTH", "URI": secret}],
        )
    )
    f = next(f for f in run_checks(snapshot) if f.check == "event-source")
    assert f.status is Status.FAIL
    assert f.actions == ["kms:Decrypt"]
    assert f.denied_by == ["identity"]


def test_aws_managed_alias_needs_no_key_permissions() -> None:
    snapshot = load("healthy_full")
    snapshot.event_source_mappings[
        0
    ].source.kms_key_arn = "arn:aws:kms:us-east-1:111111111111:alias/aws/sqs"
    f = next(f for f in run_checks(snapshot) if f.check == "event-source")
    assert f.status is Status.PASS
