"""String operators: StringEquals, StringNotEquals, StringEqualsIgnoreCase,
StringNotEqualsIgnoreCase, StringLike, StringNotLike. Policy variables are resolved.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.iam.variables import Context, Template, compile_source, parse_template
from bot.iam.wildcard import glob_to_regex

#: operator -> (positive base, negated)
OPERATORS: dict[str, tuple[str, bool]] = {
    "StringEquals": ("stringequals", False),
    "StringNotEquals": ("stringequals", True),
    "StringEqualsIgnoreCase": ("stringequalsignorecase", False),
    "StringNotEqualsIgnoreCase": ("stringequalsignorecase", True),
    "StringLike": ("stringlike", False),
    "StringNotLike": ("stringlike", True),
}


def compile(op: str, values: list[str], variables: bool) -> Callable[[str, Context], bool]:
    base = OPERATORS_BY_LOWER[op]
    templates: list[Template] = []
    static: list[str] = []
    for value in values:
        template = parse_template(value, variables)
        if template is None:
            static.append(value)
        else:
            templates.append(template)
    if base == "stringlike":
        return _like(static, templates)
    ignore_case = base == "stringequalsignorecase"
    return _equals(static, templates, ignore_case)


OPERATORS_BY_LOWER = {name.lower(): base for name, (base, _) in OPERATORS.items()}


def _equals(
    static: list[str], templates: list[Template], ignore_case: bool
) -> Callable[[str, Context], bool]:
    fold = str.lower if ignore_case else None
    exact = frozenset(v.lower() for v in static) if fold else frozenset(static)
    if not templates:  # fast paths: a set lookup
        if fold:

            def folded(value: str, ctx: Context) -> bool:
                return value.lower() in exact

            return folded

        def plain(value: str, ctx: Context) -> bool:
            return value in exact

        return plain

    def test(value: str, ctx: Context) -> bool:
        probe = value.lower() if fold else value
        if probe in exact:
            return True
        for template in templates:
            resolved = template.resolve(ctx)
            if resolved is not None and (resolved.lower() if fold else resolved) == probe:
                return True
        return False

    return test


def _like(static: list[str], templates: list[Template]) -> Callable[[str, Context], bool]:
    # the values' globs as one alternation: one regex match per request value
    patterns = (
        [re.compile("|".join(f"(?:{glob_to_regex(v)})" for v in static), re.DOTALL)]
        if static
        else []
    )

    def test(value: str, ctx: Context) -> bool:
        for pattern in patterns:
            if pattern.fullmatch(value):
                return True
        for template in templates:
            source = template.glob_source(ctx)
            if source is not None and compile_source(source).fullmatch(value):
                return True
        return False

    return test
