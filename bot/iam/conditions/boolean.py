"""Bool: compares "true"/"false" without regard to case. Policy variables are resolved
(the operator page lists Bool among the operators that take them).

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Boolean
"""

from __future__ import annotations

from collections.abc import Callable

from bot.iam.variables import Context, Template, parse_template

OPERATORS: dict[str, tuple[str, bool]] = {"Bool": ("bool", False)}


def compile(op: str, values: list[str], variables: bool) -> Callable[[str, Context], bool]:
    del op
    templates: list[Template] = []
    static: set[str] = set()
    for value in values:
        template = parse_template(value, variables)
        if template is None:
            static.add(value.strip().lower())
        else:
            templates.append(template)
    wanted = frozenset(static)

    def test(value: str, ctx: Context) -> bool:
        probe = value.strip().lower()
        if probe in wanted:
            return True
        for template in templates:
            resolved = template.resolve(ctx)
            if resolved is not None and resolved.strip().lower() == probe:
                return True
        return False

    return test
