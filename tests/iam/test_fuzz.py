"""Property tests: random policies never crash the parser (only PolicyError) or the
evaluator, and `simulate` turns any line into a result object."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.iam import PolicyError, PolicySet, PolicyType, Request, evaluate, parse_policy
from bot.iam.simulate import simulate_line, simulate_object

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.sampled_from(
    [
        "*",
        "s3:*",
        "s3:GetObject",
        "arn:aws:s3:::b/*",
        "${aws:username}",
        "${aws:x, 'd'}",
        "${*}",
        "111111111111",
        "arn:aws:iam::111111111111:root",
        "true",
        "10",
        "10.0.0.0/8",
        "2026-01-01T00:00:00Z",
        "",
        "a?b",
        "arn:aws:iam::1:role/r",
        "lambda.amazonaws.com",
    ]
) | st.text(max_size=12)
scalar = st.one_of(text, st.integers(-5, 5), st.booleans(), st.none(), st.floats(allow_nan=True))
value = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
operators = st.sampled_from(
    [
        "StringEquals",
        "StringNotLike",
        "ForAllValues:StringLike",
        "ForAnyValue:StringEquals",
        "NumericLessThan",
        "DateGreaterThan",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnLike",
        "ArnNotEquals",
        "Null",
        "StringEqualsIfExists",
        "Bogus",
        "NullIfExists",
    ]
)
condition = st.dictionaries(operators, st.dictionaries(text, value, max_size=2), max_size=2)
statement = st.fixed_dictionaries(
    {},
    optional={
        "Sid": st.one_of(text, st.integers()),
        "Effect": st.sampled_from(["Allow", "Deny", "allow", 1]),
        "Action": value,
        "NotAction": value,
        "Resource": value,
        "NotResource": value,
        "Principal": st.one_of(
            st.just("*"),
            st.dictionaries(
                st.sampled_from(["AWS", "Service", "Federated", "CanonicalUser", "X"]),
                value,
                max_size=2,
            ),
        ),
        "NotPrincipal": st.dictionaries(st.sampled_from(["AWS", "Service"]), value, max_size=2),
        "Condition": st.one_of(condition, value),
    },
)
document = st.fixed_dictionaries(
    {"Statement": st.one_of(statement, st.lists(statement, max_size=3), value)},
    optional={"Version": st.sampled_from(["2012-10-17", "2008-10-17", "2020"]), "Id": value},
)
principals = st.sampled_from(
    [
        "arn:aws:iam::111111111111:user/a",
        "arn:aws:sts::111111111111:assumed-role/r/s",
        "arn:aws:iam::222222222222:root",
        "111111111111",
        "*",
        "s3.amazonaws.com",
        "arn:aws:sts::1:federated-user/x",
        "garbage",
        "arn:aws:iam::1:role/aws-service-role/x",
    ]
) | st.text(max_size=20)
context = st.dictionaries(text, st.one_of(text, st.lists(text, max_size=3)), max_size=4)


def parse_or_none(raw: Any, ptype: PolicyType | None) -> Any:
    try:
        return parse_policy(raw, "p", ptype)
    except PolicyError:
        return None


@SETTINGS
@given(document, st.sampled_from([None, *PolicyType]))
def test_parser_raises_only_policy_error(raw: Any, ptype: PolicyType | None) -> None:
    error: PolicyError | None = None
    try:
        policy = parse_policy(raw, "p", ptype)
    except PolicyError as exc:
        error = exc
    if error is not None:
        assert str(error).startswith("p"), error  # the message names the policy
    else:
        assert policy.label == "p"


@SETTINGS
@given(
    st.lists(document, min_size=1, max_size=4),
    principals,
    text,
    text,
    context,
    st.booleans(),
)
def test_evaluator_never_raises(
    raws: list[Any], principal: str, action: str, resource: str, ctx: Any, with_orgs: bool
) -> None:
    parsed = [p for p in (parse_or_none(r, None) for r in raws) if p is not None]
    policies = PolicySet(
        identity=parsed,
        resource=parsed[0] if parsed else None,
        boundary=parsed[-1] if len(parsed) > 1 else None,
        session=parsed[1] if len(parsed) > 2 else None,
        scp=[parsed] if with_orgs else None,
        rcp=[parsed, []] if with_orgs else None,
    )
    request = Request(
        principal=principal or "*", action=action or "s3:x", resource=resource or "*", context=ctx
    )
    decision = evaluate(request, policies)
    assert decision.verdict.value in {"allowed", "implicit_deny", "explicit_deny"}
    if decision.allowed:
        assert decision.denied_by == []


@SETTINGS
@given(st.text(max_size=200))
def test_simulate_line_never_raises_on_text(line: str) -> None:
    result, _ = simulate_line(line, 1)
    assert "id" in result


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(["id", "request", "policies", "x"]),
        st.one_of(
            value,
            st.fixed_dictionaries(
                {"principal": principals, "action": text, "resource": text},
                optional={"context": st.one_of(context, value), "resource_account": value},
            ),
            st.fixed_dictionaries(
                {},
                optional={
                    "identity": st.one_of(st.lists(document, max_size=2), value),
                    "resource": st.one_of(document, value),
                    "boundary": document,
                    "scp": st.one_of(st.lists(st.lists(document, max_size=2), max_size=2), value),
                    "rcp": value,
                },
            ),
        ),
    )
)
def test_simulate_never_raises_on_objects(line: dict[str, Any]) -> None:
    result, decision = simulate_object(line)
    json.dumps(result)
    assert (decision is None) == (result.get("error") is not None)
