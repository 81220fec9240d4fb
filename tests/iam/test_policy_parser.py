"""parse_policy: accepted shapes, and malformed documents named by statement and field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.iam import PolicyError, PolicyType, parse_policy


def doc(*statements: Any, version: str | None = "2012-10-17") -> dict[str, Any]:
    out: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        out["Version"] = version
    return out


OK = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def test_accepts_object_statement_json_text_and_both_versions() -> None:
    assert len(parse_policy({"Version": "2012-10-17", "Statement": OK}, "p").statements) == 1
    assert parse_policy(json.dumps(doc(OK, OK)), "p").version == "2012-10-17"
    assert parse_policy(doc(OK, version="2008-10-17"), "p").version == "2008-10-17"
    assert parse_policy(doc(OK, version=None), "p").version == "2008-10-17"
    policy = parse_policy(doc({**OK, "Sid": "S1"}), "arn:aws:iam::1:policy/x")
    assert policy.label == "arn:aws:iam::1:policy/x"
    assert policy.statements[0].sid == "S1"
    assert policy.statements[0].index == 0


def test_empty_statement_list_is_a_policy_that_allows_nothing() -> None:
    assert parse_policy(doc(), "p").statements == ()


@pytest.mark.parametrize(
    ("document", "fragments"),
    [
        ("{not json", ["p:", "not valid JSON"]),
        ("[]", ["JSON object"]),
        ({"Version": "2012-10-17"}, ["missing Statement"]),
        ({"Version": "2020-01-01", "Statement": []}, ["Version"]),
        ({"Version": "2012-10-17", "Statement": [], "Extra": 1}, ["'Extra'"]),
        (
            doc(OK, {"Sid": "Bad", "Effect": "allow", "Action": "s3:*", "Resource": "*"}),
            ["statement 1 (Sid 'Bad')", "Effect"],
        ),
        (doc({"Action": "s3:*", "Resource": "*"}), ["statement 0", "Effect", "missing"]),
        (doc({"Effect": "Allow", "Resource": "*"}), ["statement 0", "Action", "exactly one"]),
        (
            doc({"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"}),
            ["Action", "exactly one"],
        ),
        (doc({"Effect": "Allow", "Action": "s3", "Resource": "*"}), ["Action", "'s3'"]),
        (doc({"Effect": "Allow", "Action": [], "Resource": "*"}), ["Action", "empty"]),
        (doc({"Effect": "Allow", "Action": ["s3:Get*", 5], "Resource": "*"}), ["Action"]),
        (
            doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": "x"}),
            ["Resource", "cannot both"],
        ),
        (doc({"Effect": "Allow", "Action": "s3:*", "Resource": ""}), ["Resource"]),
        (
            doc({**OK, "Condition": {"StringEquals": {"k": ["a", None]}}}),
            ["Condition", "StringEquals k"],
        ),
        (doc({**OK, "Condition": {"Bogus": {"k": "v"}}}), ["Condition", "'Bogus'"]),
        (doc({**OK, "Principal": {"AWSS": "*"}}), ["Principal", "'AWSS'"]),
        (doc({**OK, "Principal": {"AWS": []}}), ["Principal"]),
        (doc({**OK, "Principal": "everyone"}), ["Principal"]),
        (doc({**OK, "Principal": "*", "NotPrincipal": "*"}), ["cannot both"]),
        (doc({**OK, "Sid": 5}), ["Sid", "string"]),
        (doc({**OK, "Effects": "Allow"}), ["Effects", "unknown element"]),
        (doc("not an object"), ["statement 0", "object"]),
    ],
)
def test_malformed_policy_names_statement_and_field(document: Any, fragments: list[str]) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(document, "p")
    message = str(info.value)
    assert message.startswith("p:")
    for fragment in fragments:
        assert fragment in message, message


def test_policy_type_rules() -> None:
    with_principal = doc({**OK, "Principal": "*"})
    parse_policy(with_principal, "r", PolicyType.RESOURCE)
    with pytest.raises(PolicyError, match="Principal"):
        parse_policy(with_principal, "i", PolicyType.IDENTITY)
    with pytest.raises(PolicyError, match="Principal"):
        parse_policy(with_principal, "s", PolicyType.SCP)
    with pytest.raises(PolicyError, match="Principal or NotPrincipal"):
        parse_policy(doc(OK), "r", PolicyType.RESOURCE)
    with pytest.raises(PolicyError, match="Resource"):
        parse_policy(doc({"Effect": "Allow", "Action": "s3:*"}), "i", PolicyType.IDENTITY)
    trust = doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "x"}})
    parse_policy(trust, "trust", PolicyType.RESOURCE)
    with pytest.raises(PolicyError, match="NotPrincipal"):
        parse_policy(doc({**OK, "NotPrincipal": {"AWS": "1"}}), "rcp", PolicyType.RCP)
