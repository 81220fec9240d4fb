"""Which rules and topics of other accounts a function's resource policy names."""

from __future__ import annotations

from bot.aws.named_triggers import named_sources

OWN = "111111111111"
RULE = "arn:aws:events:us-east-1:222222222222:rule/partner-bus/hourly"
TOPIC = "arn:aws:sns:us-east-1:222222222222:alerts"


def _policy(*statements: dict[str, object]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(service: str, condition: dict[str, object]) -> dict[str, object]:
    return {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "lambda:InvokeFunction",
        "Resource": f"arn:aws:lambda:us-east-1:{OWN}:function:f",
        "Condition": condition,
    }


def test_rules_and_topics_of_other_accounts() -> None:
    policy = _policy(
        _allow("events.amazonaws.com", {"ArnLike": {"AWS:SourceArn": RULE}}),
        _allow("sns.amazonaws.com", {"ArnLike": {"AWS:SourceArn": TOPIC}}),
    )
    assert named_sources(policy, "events.amazonaws.com", OWN) == [RULE]
    assert named_sources(policy, "sns.amazonaws.com", OWN) == [TOPIC]


def test_own_account_wildcards_other_services_and_denies_are_skipped() -> None:
    own_rule = f"arn:aws:events:us-east-1:{OWN}:rule/nightly"
    policy = _policy(
        _allow("events.amazonaws.com", {"ArnLike": {"AWS:SourceArn": own_rule}}),
        _allow("events.amazonaws.com", {"ArnLike": {"AWS:SourceArn": RULE[:-6] + "*"}}),
        _allow("s3.amazonaws.com", {"ArnLike": {"AWS:SourceArn": TOPIC}}),
        {**_allow("sns.amazonaws.com", {"ArnLike": {"AWS:SourceArn": TOPIC}}), "Effect": "Deny"},
    )
    assert named_sources(policy, "events.amazonaws.com", OWN) == []
    assert named_sources(policy, "sns.amazonaws.com", OWN) == []
    assert named_sources(None, "sns.amazonaws.com", OWN) == []
