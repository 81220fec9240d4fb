"""Bool: compares "true"/"false" without regard to case.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Boolean
"""

from __future__ import annotations

from collections.abc import Callable

from bot.iam.variables import Context

OPERATORS: dict[str, tuple[str, bool]] = {"Bool": ("bool", False)}


def compile(op: str, values: list[str], variables: bool) -> Callable[[str, Context], bool]:
    del op, variables
    wanted = frozenset(v.strip().lower() for v in values)

    def test(value: str, ctx: Context) -> bool:
        return value.strip().lower() in wanted

    return test
