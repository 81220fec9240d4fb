"""The action/resource matchers' fast paths (exact names, `service:*`, prefixes, the
per-policy action index) agree with plain glob matching."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.iam.policy import ActionMatcher, ResourceMatcher, parse_policy
from bot.iam.wildcard import arn_glob_to_regex, glob_to_regex

pieces = st.sampled_from(["s3", "S3", "ec2", ":", "*", "?", "get", "Get", "object", "a", ""])
actions = st.lists(pieces, min_size=1, max_size=5).map("".join)
arn_pieces = st.sampled_from(
    ["arn", ":", "aws", "s3", "iam", "111111111111", "b", "/", "*", "?", "k", "x.y", "\n", ""]
)
arns = st.lists(arn_pieces, min_size=1, max_size=12).map("".join)


def _glob_action(patterns: list[str], action: str) -> bool:
    return any(re.fullmatch(glob_to_regex(p.lower()), action.lower(), re.DOTALL) for p in patterns)


def _glob_resource(patterns: list[str], resource: str) -> bool:
    return any(re.fullmatch(arn_glob_to_regex(p), resource, re.DOTALL) for p in patterns)


@settings(max_examples=500, deadline=None)
@given(st.lists(actions.filter(bool), min_size=1, max_size=3), actions)
def test_action_matcher_agrees_with_globs(patterns: list[str], action: str) -> None:
    assert ActionMatcher(patterns).matches(action.lower()) == _glob_action(patterns, action)


@settings(max_examples=500, deadline=None)
@given(st.lists(arns.filter(bool), min_size=1, max_size=3), arns)
def test_resource_matcher_agrees_with_globs(patterns: list[str], resource: str) -> None:
    matcher = ResourceMatcher(patterns, variables=False)
    assert matcher.matches(resource, {}) == _glob_resource(patterns, resource)


service_actions = st.sampled_from(
    ["s3:GetObject", "s3:*", "s3:Get*", "ec2:*", "*", "s3:PutObject", "iam:?assRole"]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.lists(service_actions, min_size=1, max_size=3)),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from(
        [
            *("s3:getobject", "s3:putobject", "s3:listbucket", "ec2:runinstances"),
            *("iam:passrole", "s3", "iam:passroles", "sqs:sendmessage"),
        ]
    ),
)
def test_action_index_agrees_with_a_scan(
    statements: list[tuple[bool, list[str]]], action: str
) -> None:
    policy = parse_policy(
        {
            "Statement": [
                {"Effect": "Allow", "NotAction" if negated else "Action": names, "Resource": "*"}
                for negated, names in statements
            ]
        }
    )
    scanned = tuple(s for s in policy.statements if s.matches_action(action))
    assert policy.candidates(action) == scanned
