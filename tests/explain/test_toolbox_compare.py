"""AWS's own evaluation (GetRequestAuthorizationDetails) compared with the local one (pure)."""

from __future__ import annotations

from typing import Any

from bot.explain.evaluate import ExplainInputs, explain_findings
from bot.explain.inputs import PrincipalPolicies, ResourcePolicy
from bot.explain.parser import parse_message
from bot.report import Status
from bot.snapshot import NamedPolicy

ROLE = "arn:aws:iam::111111111111:role/orders-role"
SESSION = "arn:aws:sts::111111111111:assumed-role/orders-role/orders"
TABLE = "arn:aws:dynamodb:us-east-1:111111111111:table/orders"
MESSAGE = (
    f"User: {SESSION} is not authorized to perform: dynamodb:PutItem on resource: {TABLE} "
    "because no identity-based policy allows the dynamodb:PutItem action. Go to "
    "https://eu-west-1.console.aws.amazon.com/iam/home?region=eu-west-1#/authorization-details/"
    "abc123 for complete details, or call the GetRequestAuthorizationDetails API with the "
    "following authorization id: abc123"
)


def details(check_type: str, effect: str) -> dict[str, Any]:
    return {
        "requestContext": {},
        "policies": [],
        "evaluations": [
            {
                "action": "dynamodb:PutItem",
                "resource": TABLE,
                "evaluatedEffect": effect,
                "checks": [{"checkType": check_type, "evaluatedEffect": effect}],
            }
        ],
    }


def inputs(aws: dict[str, Any] | None, *, allow: bool = False) -> ExplainInputs:
    statements = (
        [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": TABLE}] if allow else []
    )
    return ExplainInputs(
        principal=PrincipalPolicies(
            arn=SESSION,
            kind="role",
            account="111111111111",
            entity_arn=ROLE,
            read=True,
            identity=[
                NamedPolicy(
                    name="orders-role/app",
                    document={"Version": "2012-10-17", "Statement": statements},
                )
            ],
        ),
        resource=ResourcePolicy(state="not-applicable"),
        authorization_details=aws,
    )


def test_region_of_the_console_link_is_kept() -> None:
    parsed = parse_message(MESSAGE)
    assert parsed is not None
    assert parsed.authorization_id == "abc123"
    assert parsed.authorization_region == "eu-west-1"


def test_agreement_is_a_pass() -> None:
    parsed = parse_message(MESSAGE)
    assert parsed is not None
    local, aws = explain_findings(parsed, inputs(details("PRINCIPAL", "IMPLICIT_DENY")))
    assert local.status is Status.FAIL
    assert aws.check == "explain-authorization-details"
    assert aws.status is Status.PASS
    assert aws.denied_by == ["identity"]


def test_difference_is_a_warning_that_names_it() -> None:
    parsed = parse_message(MESSAGE)
    assert parsed is not None
    _, aws = explain_findings(
        parsed, inputs(details("SERVICE_CONTROL_POLICY", "EXPLICIT_DENY"), allow=True)
    )
    assert aws.status is Status.WARN
    assert "AWS denied in a service control policy" in aws.detail
    assert aws.denied_by == ["scp"]


def test_failed_call_is_unknown() -> None:
    parsed = parse_message(MESSAGE)
    assert parsed is not None
    _, aws = explain_findings(parsed, inputs(None))
    assert aws.status is Status.UNKNOWN
    assert "abc123" in aws.detail
