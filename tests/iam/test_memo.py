"""The evaluator's memo tables never change an answer.

Every JSON case and a stream of random requests against a fixed policy set are decided
with the memo tables off, then on (first sight and again, warm); the Decisions must be
identical, explanation included.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.iam import (
    Decision,
    PolicySet,
    Request,
    clear_memos,
    evaluate,
    parse_policy,
    set_memoisation,
)
from bot.iam.wire import policy_set_from_json, request_from_json
from tests.iam.test_cases import CASES


@pytest.fixture(autouse=True)
def _memo_back_on() -> Iterator[None]:
    yield
    set_memoisation(True)


def _three_ways(request: Request, policies: PolicySet) -> list[dict[str, Any]]:
    set_memoisation(False)
    off = evaluate(request, policies)
    set_memoisation(True)
    first = evaluate(request, policies)
    warm = evaluate(request, policies)
    return [_dump(off), _dump(first), _dump(warm)]


def _dump(decision: Decision) -> dict[str, Any]:
    return decision.model_dump()


@pytest.mark.parametrize("case", CASES)
def test_case_same_with_and_without_memo(case: dict[str, Any]) -> None:
    request = request_from_json(case["request"])
    policies = policy_set_from_json(case["policies"])
    off, first, warm = _three_ways(request, policies)
    assert first == off
    assert warm == off


def test_decisions_do_not_share_lists() -> None:
    policy = parse_policy(
        {"Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}}, "identity[0]"
    )
    request = Request(principal="arn:aws:iam::111111111111:user/a", action="s3:x", resource="*")
    one = evaluate(request, PolicySet(identity=[policy]))
    one.statements.clear()
    one.denied_by.clear()
    two = evaluate(request, PolicySet(identity=[policy]))
    assert len(two.statements) == 1
    assert two.denied_by


A = "111111111111"
DOCS: list[dict[str, Any]] = [
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {
                "Sid": "Home",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b/${aws:username}/*",
            },
            {
                "Sid": "Tls",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "Net",
                "Effect": "Deny",
                "NotAction": "iam:*",
                "Resource": "arn:aws:s3:::b/secret*",
                "Condition": {"NotIpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}},
            },
            {
                "Sid": "Tags",
                "Effect": "Allow",
                "Action": ["dynamodb:*", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"},
                    "ForAllValues:StringLike": {"aws:TagKeys": ["t*", "env"]},
                },
            },
        ],
    },
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:*", "dynamodb:*", "kms:*"], "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "s3:DeleteObject",
                "Resource": "*",
                "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}},
            },
        ],
    },
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Bucket",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{A}:user/a", "222222222222"]},
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            },
            {
                "Sid": "Key",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {"StringLike": {"kms:ViaService": "s3.*"}},
            },
            {
                "Sid": "NotMe",
                "Effect": "Deny",
                "NotPrincipal": {"AWS": [f"arn:aws:iam::{A}:user/a", f"arn:aws:iam::{A}:root"]},
                "Action": "s3:DeleteBucket",
                "Resource": "*",
            },
        ],
    },
    {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
]
IDENTITY = parse_policy(DOCS[0], "identity[0]")
BOUNDARY = parse_policy(DOCS[1], "boundary")
RESOURCE = parse_policy(DOCS[2], "resource")
SCP = parse_policy(DOCS[3], "scp[0][0]")
SETS = [
    PolicySet(identity=[IDENTITY]),
    PolicySet(identity=[IDENTITY], boundary=BOUNDARY, resource=RESOURCE),
    PolicySet(identity=[IDENTITY, BOUNDARY], resource=RESOURCE, scp=[[SCP], [BOUNDARY]]),
    PolicySet(identity=[], resource=RESOURCE, session=BOUNDARY, rcp=[[SCP]]),
]
requests = st.builds(
    Request,
    principal=st.sampled_from(
        [
            f"arn:aws:iam::{A}:user/a",
            f"arn:aws:iam::{A}:user/b",
            f"arn:aws:sts::{A}:assumed-role/r/s",
            "arn:aws:iam::222222222222:user/a",
            A,
            "s3.amazonaws.com",
            "*",
        ]
    ),
    action=st.sampled_from(
        [
            *("s3:GetObject", "S3:putobject", "s3:DeleteObject", "s3:DeleteBucket"),
            *("iam:PassRole", "dynamodb:GetItem", "kms:Decrypt"),
        ]
    ),
    resource=st.sampled_from(
        [
            *("arn:aws:s3:::b/a/k", "arn:aws:s3:::b/secret/k", "arn:aws:s3:::b", "*"),
            *(f"arn:aws:dynamodb:us-east-1:{A}:table/t", f"arn:aws:kms:us-east-1:{A}:key/k"),
        ]
    ),
    resource_account=st.sampled_from([None, A, "222222222222"]),
    context=st.fixed_dictionaries(
        {},
        optional={
            "aws:SecureTransport": st.sampled_from(["true", "false", "TRUE"]),
            "AWS:SourceIp": st.sampled_from(["10.1.2.3", "192.0.2.1", "nonsense"]),
            "aws:username": st.sampled_from(["a", "b"]),
            "aws:PrincipalTag/team": st.sampled_from(["x", "y"]),
            "aws:resourcetag/team": st.sampled_from(["x", "y"]),
            "aws:TagKeys": st.lists(st.sampled_from(["team", "env", "cost"]), max_size=3),
            "kms:ViaService": st.sampled_from(["s3.us-east-1.amazonaws.com", "sqs.x"]),
        },
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(requests, st.sampled_from(range(len(SETS)))), min_size=1, max_size=8))
def test_random_streams_same_with_and_without_memo(
    stream: list[tuple[Request, int]],
) -> None:
    # the memo tables carry over from one example to the next, as in a long run
    for request, which in stream:
        off, first, warm = _three_ways(request, SETS[which])
        assert first == off, request
        assert warm == off, request


def test_clear_memos_keeps_answers() -> None:
    request = Request(
        principal=f"arn:aws:iam::{A}:user/a",
        action="s3:PutObject",
        resource="arn:aws:s3:::b/a/k",
        context={"aws:SecureTransport": "true"},
    )
    before = evaluate(request, SETS[1])
    clear_memos()
    assert evaluate(request, SETS[1]) == before


def test_a_changed_policy_set_is_not_answered_from_the_memo() -> None:
    allow = parse_policy({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}})
    deny = parse_policy({"Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}})
    request = Request(principal=f"arn:aws:iam::{A}:user/a", action="s3:GetObject", resource="*")
    policies = PolicySet(identity=[allow], scp=[[SCP]])
    assert evaluate(request, policies).allowed
    policies.identity.append(deny)  # the same list, changed in place
    assert evaluate(request, policies).verdict.value == "explicit_deny"
    policies.identity.pop()
    assert evaluate(request, policies).allowed
    assert policies.scp is not None
    policies.scp[0][0] = deny
    assert evaluate(request, policies).verdict.value == "explicit_deny"
    policies.scp[0][0] = SCP
    policies.scp.append([])  # a level that allows nothing
    assert evaluate(request, policies).denied_by[0].value == "scp"
    # sequences of other types than lists are compared as they are
    as_tuples = PolicySet(identity=(allow,), scp=([SCP],))  # type: ignore[arg-type]
    assert evaluate(request, as_tuples).allowed
    assert evaluate(request, as_tuples).allowed
