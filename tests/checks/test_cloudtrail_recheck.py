"""cloudtrail-denials re-evaluates a past denial with the target's resource policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.checks import cloudtrail_denials
from bot.report import Status
from bot.snapshot import KmsKey, NamedPolicy, Snapshot
from tests.cloudtrail import records as r
from tests.cloudtrail.conftest import FUNCTION, KEY_ARN, NOW, ROLE, make_snapshot

ACCOUNT = KEY_ARN.split(":")[4]


def _decrypt_denied() -> dict[str, Any]:
    return r.code_denied(
        ROLE,
        FUNCTION,
        action="kms:Decrypt",
        resource=KEY_ARN,
        params={"keyId": KEY_ARN},
        time=NOW - timedelta(minutes=10),
    )


def _snapshot(key_policy_statements: list[dict[str, Any]]) -> Snapshot:
    snapshot = make_snapshot([_decrypt_denied()], kms=True)
    snapshot.kms_keys[KEY_ARN] = KmsKey(
        arn=KEY_ARN,
        key_manager="CUSTOMER",
        key_state="Enabled",
        policy={"Version": "2012-10-17", "Statement": key_policy_statements},
    )
    assert snapshot.role is not None
    snapshot.role.inline_policies.append(
        NamedPolicy(
            name="decrypt",
            document={
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY_ARN}],
            },
        )
    )
    return snapshot


def test_key_policy_that_still_denies_keeps_the_failure() -> None:
    admin_only = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/KeyAdministrator"},
        "Action": "kms:*",
        "Resource": "*",
    }
    [finding] = cloudtrail_denials.run(_snapshot([admin_only]))
    assert finding.status is Status.FAIL
    assert finding.denied_by == ["resource"]


def test_key_policy_that_delegates_to_the_account_makes_it_fixed_since() -> None:
    root = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    [finding] = cloudtrail_denials.run(_snapshot([root]))
    assert finding.status is Status.WARN
