"""Decisions explain themselves: verdict, deciding types and statements, one sentence."""

from __future__ import annotations

from bot.iam import PolicySet, PolicyType, Request, Verdict, evaluate, parse_policy

A = "111111111111"
SESSION = f"arn:aws:sts::{A}:assumed-role/app/s1"


def doc(*statements: dict[str, object]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_explicit_deny_names_the_statement() -> None:
    identity = parse_policy(
        doc(
            {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
        ),
        "arn:aws:iam::111111111111:policy/base",
    )
    decision = evaluate(
        Request(principal=SESSION, action="s3:DeleteBucket", resource="arn:aws:s3:::b"),
        PolicySet(identity=[identity]),
    )
    assert decision.verdict is Verdict.EXPLICIT_DENY
    assert decision.denied_by == [PolicyType.IDENTITY]
    [ref] = decision.statements
    assert (ref.policy, ref.sid, ref.index, ref.effect) == (identity.label, None, 1, "Deny")
    assert ref.policy_type is PolicyType.IDENTITY
    assert "statement 1 of arn:aws:iam::111111111111:policy/base" in decision.explanation


def test_implicit_deny_names_what_failed_and_keeps_partial_allows() -> None:
    identity = parse_policy(
        doc({"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}), "id"
    )
    decision = evaluate(
        Request(
            principal="arn:aws:sts::222222222222:assumed-role/app/s",
            action="s3:GetObject",
            resource="arn:aws:s3:::b/k",
            resource_account=A,
        ),
        PolicySet(identity=[identity]),
    )
    assert decision.verdict is Verdict.IMPLICIT_DENY
    assert decision.denied_by == [PolicyType.RESOURCE]
    assert [s.sid for s in decision.statements] == ["Read"]
    assert "resource-based policy" in decision.explanation
    assert "cross-account" in decision.explanation
    assert decision.contract_dict() == {
        "decision": "implicit_deny",
        "denied_by": ["resource"],
        "statements": [{"policy": "id", "sid": "Read", "effect": "Allow"}],
    }


def test_allowed_has_no_denied_by() -> None:
    identity = parse_policy(doc({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}), "id")
    decision = evaluate(
        Request(
            principal=SESSION, action="sqs:SendMessage", resource=f"arn:aws:sqs:us-east-1:{A}:q"
        ),
        PolicySet(identity=[identity]),
    )
    assert decision.allowed
    assert decision.denied_by == []
    assert decision.explanation.startswith("Allowed: identity-based policy allows sqs:SendMessage")


def test_the_same_policy_object_serves_many_requests() -> None:
    identity = parse_policy(
        doc(
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::${aws:PrincipalTag/team}/*",
            }
        ),
        "id",
    )
    policies = PolicySet(identity=[identity])
    for team, key, allowed in [("a", "a/x", True), ("b", "a/x", False), ("b", "b/y", True)]:
        request = Request(
            principal=SESSION,
            action="s3:GetObject",
            resource=f"arn:aws:s3:::{key}",
            context={"aws:PrincipalTag/team": team},
        )
        assert evaluate(request, policies).allowed is allowed
