"""Fast paths agree with the plain way: the action/resource matchers (exact names,
`service:*`, prefixes, the per-policy action index) with glob matching, and the IPv4
dotted-quad parser of IpAddress with `ipaddress`."""

from __future__ import annotations

import ipaddress
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.iam import set_memoisation
from bot.iam.conditions import ip
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
) | st.sampled_from(["*:Get*", "s?:*", "sqs:Send*", "iam:PassRole", "ec2:RunInstances"])


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.lists(service_actions, min_size=1, max_size=3)),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from(
        [
            *("s3:getobject", "s3:putobject", "s3:listbucket", "ec2:runinstances"),
            *("iam:passrole", "s3", "iam:passroles", "sqs:sendmessage", "ec2:getx"),
            *("s3:getobject:x", "lambda:invokefunction", "sx:y", "*", ""),
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
    set_memoisation(False)
    try:
        assert policy.candidates(action) == scanned
    finally:
        set_memoisation(True)
    assert policy.candidates(action) == scanned
    assert policy.candidates(action) == scanned


def _ip_reference(ranges: list[str], text: str) -> bool:
    networks = [ipaddress.ip_network(r, strict=False) for r in ranges]
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return any(address in n for n in networks)


octets = st.sampled_from(["0", "1", "00", "01", "9", "10", "99", "100", "199", "200", "249"])
octets |= st.sampled_from(["250", "255", "256", "300", "1000", "", " 1", "١", "+1", "0x1"])
quads = st.lists(octets, min_size=3, max_size=5).map(".".join)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(["10.0.0.0/8", "192.0.2.0/24", "0.0.0.0/0", "::/0", "2001:db8::/32"])
        | st.sampled_from(["1.2.3.4", "255.255.255.255/32", "100.64.0.0/10"]),
        min_size=1,
        max_size=3,
    ),
    quads | st.sampled_from(["2001:db8::1", "::ffff:10.1.2.3", "10.1.2.3/32", " 10.1.2.3 "]),
)
def test_ipv4_fast_path_agrees_with_ipaddress(ranges: list[str], text: str) -> None:
    test = ip.compile("ipaddress", ranges, False)
    if "/" in text or ":" in text:
        return  # networks and IPv6 take the ipaddress path itself
    assert test(text, {}) == _ip_reference(ranges, text)
