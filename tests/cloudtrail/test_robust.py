"""timeline / correlate / pattern / cloudtrail-denials never raise on odd CloudTrail shapes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.checks import cloudtrail_denials
from bot.report import Finding, Severity, Status
from bot.timeline import correlate, pattern, timeline
from tests.cloudtrail import records as r
from tests.cloudtrail.conftest import FUNCTION, NOW, ROLE, ROLE_ARN, make_snapshot

NAMES = [
    ("lambda.amazonaws.com", "RemovePermission20150331v2"),
    ("lambda.amazonaws.com", "AddPermission20150331v2"),
    ("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2"),
    ("lambda.amazonaws.com", "CreateFunction20150331"),
    ("lambda.amazonaws.com", "UpdateEventSourceMapping20150331"),
    ("lambda.amazonaws.com", "TagResource20170331v2"),
    ("iam.amazonaws.com", "DetachRolePolicy"),
    ("iam.amazonaws.com", "PutRolePolicy"),
    ("iam.amazonaws.com", "CreatePolicyVersion"),
    ("kms.amazonaws.com", "RevokeGrant"),
    ("sqs.amazonaws.com", "SetQueueAttributes"),
    ("ec2.amazonaws.com", "CreateNetworkInterface"),
    ("secretsmanager.amazonaws.com", "GetSecretValue"),
]
KEYS = [
    "functionName",
    "statementId",
    "role",
    "vpcConfig",
    "kMSKeyArn",
    "layers",
    "environment",
    "deadLetterConfig",
    "tags",
    "tagKeys",
    "roleName",
    "policyArn",
    "policyName",
    "keyId",
    "queueUrl",
    "attributes",
    "uUID",
    "enabled",
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.just(FUNCTION),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    source, name = draw(st.sampled_from(NAMES))
    params = draw(st.dictionaries(st.sampled_from(KEYS), JSON, max_size=5))
    session = draw(st.sampled_from([FUNCTION, "awslambda_1_2", "alice"]))
    rec = r.record(
        name,
        source,
        time=NOW - timedelta(minutes=draw(st.integers(0, 2000))),
        identity=r.assumed_role(draw(st.sampled_from([ROLE, "deployer"])), session),
        params=params or None,
        error_code=draw(st.sampled_from([None, "AccessDenied", "Client.UnauthorizedOperation"])),
        error_message=draw(st.sampled_from([None, "", "User: x is not authorized to perform: y"])),
        read_only=draw(st.booleans()),
    )
    return rec


FINDINGS = [
    Finding(
        check="x",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title="t",
        principal=principal,
        actions=actions,
        resources=["*"],
        source="arn:aws:s3:::b",
    )
    for principal, actions in [
        ("s3.amazonaws.com", ["lambda:InvokeFunction"]),
        (ROLE_ARN, ["ec2:CreateNetworkInterface", "kms:Decrypt", "lambda:GetLayerVersion"]),
        ("lambda.amazonaws.com", ["sts:AssumeRole"]),
    ]
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), max_size=8))
def test_never_raises(recs: list[dict[str, Any]]) -> None:
    snapshot = make_snapshot(recs, vpc=True, kms=True)
    events = timeline(snapshot)
    assert [e.time for e in events] == sorted((e.time for e in events), reverse=True)
    out = correlate(FINDINGS, snapshot)
    assert len(out) == len(FINDINGS)
    assert pattern(snapshot) in ("intermittent", "continuous", "unknown")
    for finding in cloudtrail_denials.run(snapshot):
        assert finding.check == "cloudtrail-denials"
