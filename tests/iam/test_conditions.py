"""Unit tests per condition operator family (bot/iam/conditions/*)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.iam.conditions import ConditionError, holds_all, parse_block
from bot.iam.variables import Context


def ctx(**values: Any) -> Context:
    out: Context = {}
    for key, value in values.items():
        name = key.replace("__", ":").replace("_", "/").lower()
        out[name] = tuple(value) if isinstance(value, list) else (value,)
    return out


def check(block: dict[str, Any], context: Context, *, variables: bool = True) -> bool:
    return holds_all(parse_block(block, variables), context)


@pytest.mark.parametrize(
    ("operator", "policy", "request_value", "expected"),
    [
        ("StringEquals", "a", "a", True),
        ("StringEquals", "a", "A", False),
        ("StringNotEquals", "a", "b", True),
        ("StringNotEquals", ["a", "b"], "b", False),
        ("StringEqualsIgnoreCase", "ABC", "abc", True),
        ("StringNotEqualsIgnoreCase", "ABC", "abc", False),
        ("StringLike", "a*c", "abbbc", True),
        ("StringLike", "a?c", "abbc", False),
        ("StringLike", "*", "", True),
        ("StringLike", "a.c", "abc", False),
        ("StringLike", "a[b]c", "a[b]c", True),
        ("StringNotLike", "a*", "ba", True),
        ("StringNotLike", "a*", "ab", False),
    ],
)
def test_string(operator: str, policy: Any, request_value: str, expected: bool) -> None:
    assert check({operator: {"k:x": policy}}, ctx(k__x=request_value)) is expected


@pytest.mark.parametrize(
    ("operator", "policy", "request_value", "expected"),
    [
        ("NumericEquals", "10", "10", True),
        ("NumericEquals", "10", "10.0", True),
        ("NumericEquals", 10, "11", False),
        ("NumericNotEquals", "10", "11", True),
        ("NumericLessThan", "10", "-1", True),
        ("NumericLessThanEquals", "10", "10", True),
        ("NumericGreaterThan", "10", "10", False),
        ("NumericGreaterThanEquals", "10", "10", True),
        ("NumericLessThan", "10", "abc", False),
        ("NumericLessThan", "10", "nan", False),
    ],
)
def test_numeric(operator: str, policy: Any, request_value: str, expected: bool) -> None:
    assert check({operator: {"k:n": policy}}, ctx(k__n=request_value)) is expected


@pytest.mark.parametrize(
    ("operator", "policy", "request_value", "expected"),
    [
        ("DateEquals", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00", True),
        ("DateEquals", "2026-01-01T00:00:00Z", "1767225600", True),
        ("DateNotEquals", "2026-01-01", "2026-01-02", True),
        ("DateLessThan", "2026-01-01T00:00:00Z", "2025-12-31T23:59:59Z", True),
        ("DateLessThanEquals", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", True),
        ("DateGreaterThan", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.001Z", True),
        ("DateGreaterThanEquals", "1767225600", "2025-12-31T23:59:59Z", False),
        ("DateLessThan", "2026-01-01", "yesterday", False),
    ],
)
def test_date(operator: str, policy: Any, request_value: str, expected: bool) -> None:
    assert check({operator: {"k:d": policy}}, ctx(k__d=request_value)) is expected


@pytest.mark.parametrize(
    ("policy", "request_value", "expected"),
    [("true", "true", True), ("true", "True", True), (False, "false", True), ("true", "1", False)],
)
def test_bool(policy: Any, request_value: str, expected: bool) -> None:
    assert check({"Bool": {"k:b": policy}}, ctx(k__b=request_value)) is expected


def test_binary() -> None:
    assert check({"BinaryEquals": {"k:x": "AAEC"}}, ctx(k__x="AAEC"))
    assert not check({"BinaryEquals": {"k:x": "AAEC"}}, ctx(k__x="AAED"))


@pytest.mark.parametrize(
    ("operator", "policy", "request_value", "expected"),
    [
        ("IpAddress", "10.0.0.0/8", "10.1.2.3", True),
        ("IpAddress", "10.0.0.0/8", "11.1.2.3", False),
        ("IpAddress", "10.1.2.3", "10.1.2.3", True),
        ("IpAddress", "10.1.2.3/24", "10.1.2.200", True),
        ("IpAddress", "2001:db8::/32", "2001:DB8::1", True),
        ("IpAddress", "2001:db8::/32", "10.0.0.1", False),
        ("IpAddress", "10.0.0.0/8", "::ffff:10.0.0.1", True),
        ("IpAddress", "10.0.0.0/8", "garbage", False),
        ("NotIpAddress", "10.0.0.0/8", "192.168.0.1", True),
        ("NotIpAddress", "10.0.0.0/8", "10.9.9.9", False),
    ],
)
def test_ip(operator: str, policy: Any, request_value: str, expected: bool) -> None:
    assert check({operator: {"aws:SourceIp": policy}}, ctx(aws__SourceIp=request_value)) is expected


@pytest.mark.parametrize(
    ("operator", "policy", "request_value", "expected"),
    [
        ("ArnEquals", "arn:aws:sns:us-east-1:1:t", "arn:aws:sns:us-east-1:1:t", True),
        ("ArnLike", "arn:aws:sns:*:1:t", "arn:aws:sns:eu-west-1:1:t", True),
        ("ArnLike", "arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b:c", True),
        ("ArnLike", "arn:aws:sns:*", "arn:aws:sns:us-east-1:1:t", False),
        ("ArnLike", "arn:aws:*:*:*:*", "arn:aws:sns:us-east-1:1:t", True),
        ("ArnNotEquals", "arn:aws:sns:us-east-1:1:t", "arn:aws:sns:us-east-1:1:u", True),
        ("ArnNotLike", "arn:aws:sns:*:1:*", "arn:aws:sns:us-east-1:1:u", False),
    ],
)
def test_arn(operator: str, policy: Any, request_value: str, expected: bool) -> None:
    assert (
        check({operator: {"aws:SourceArn": policy}}, ctx(aws__SourceArn=request_value)) is expected
    )


def test_null() -> None:
    assert check({"Null": {"k:x": "true"}}, {})
    assert not check({"Null": {"k:x": "true"}}, ctx(k__x="v"))
    assert check({"Null": {"k:x": "false"}}, ctx(k__x="v"))
    assert check({"Null": {"k:x": "true"}}, {"k:x": ()})


@pytest.mark.parametrize(
    ("operator", "missing"),
    [
        ("StringEquals", False),
        ("StringNotEquals", True),
        ("StringNotLike", True),
        ("NumericNotEquals", True),
        ("ArnNotLike", True),
        ("NotIpAddress", True),
        ("StringEqualsIfExists", True),
        ("NumericLessThanIfExists", True),
        ("ForAllValues:StringEquals", True),
        ("ForAnyValue:StringEquals", False),
        ("ForAllValues:StringNotEquals", True),
        ("ForAnyValue:StringNotEquals", False),
        ("ForAnyValue:StringEqualsIfExists", True),
    ],
)
def test_missing_key(operator: str, missing: bool) -> None:
    value = "1" if "Numeric" in operator else "10.0.0.0/8" if "Ip" in operator else "a"
    assert check({operator: {"k:x": value}}, {}) is missing


def test_operator_names_are_case_insensitive() -> None:
    assert check({"stringequals": {"k:x": "a"}}, ctx(k__x="a"))
    assert check({"forallvalues:STRINGLIKE": {"k:x": "a*"}}, ctx(k__x=["ab", "ac"]))


def test_variables_off_in_2008_policies() -> None:
    assert check(
        {"StringEquals": {"k:x": "${aws:username}"}}, ctx(k__x="${aws:username}"), variables=False
    )
    assert not check({"StringEquals": {"k:x": "${aws:username}"}}, ctx(k__x="${aws:username}"))


@pytest.mark.parametrize(
    ("block", "fragment"),
    [
        ({"StringEqual": {"k": "v"}}, "unknown condition operator"),
        ({"ForSomeValues:StringEquals": {"k": "v"}}, "set operator"),
        ({"NullIfExists": {"k": "true"}}, "unknown condition operator"),
        ({"Null": {"k": "maybe"}}, "Null takes true or false"),
        ({"NumericLessThan": {"k": "ten"}}, "not a number"),
        ({"DateLessThan": {"k": "soon"}}, "ISO 8601"),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}, "CIDR"),
        ({"StringEquals": {"k": {"nested": 1}}}, "string, number or boolean"),
        ({"StringEquals": "k"}, "object of condition keys"),
        ({"StringEquals": {"": "v"}}, "non-empty"),
    ],
)
def test_malformed_conditions(block: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConditionError, match=fragment):
        parse_block(block, True)
    with pytest.raises(ConditionError):
        parse_block("not a block", True)
