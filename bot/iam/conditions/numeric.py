"""Numeric operators: NumericEquals, NumericNotEquals, NumericLessThan(Equals),
NumericGreaterThan(Equals). A request value that is not a number matches nothing.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Numeric
"""

from __future__ import annotations

import math
import operator as _op
from collections.abc import Callable

from bot.iam.variables import Context

OPERATORS: dict[str, tuple[str, bool]] = {
    "NumericEquals": ("eq", False),
    "NumericNotEquals": ("eq", True),
    "NumericLessThan": ("lt", False),
    "NumericLessThanEquals": ("le", False),
    "NumericGreaterThan": ("gt", False),
    "NumericGreaterThanEquals": ("ge", False),
}
_BY_LOWER = {name.lower(): base for name, (base, _) in OPERATORS.items()}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "eq": _op.eq,
    "lt": _op.lt,
    "le": _op.le,
    "gt": _op.gt,
    "ge": _op.ge,
}


def to_number(text: str) -> float | None:
    """A decimal number (integer or float), or None."""
    try:
        number = float(text.strip())
    except ValueError:
        return None
    if math.isnan(number) or math.isinf(number):
        return None
    return number


def compile(op: str, values: list[str], variables: bool) -> Callable[[str, Context], bool]:
    del variables
    compare = _COMPARE[_BY_LOWER[op]]
    numbers: list[float] = []
    for value in values:
        number = to_number(value)
        if number is None:
            raise ValueError(f"{value!r} is not a number")
        numbers.append(number)

    def test(value: str, ctx: Context) -> bool:
        got = to_number(value)
        if got is None:
            return False
        return any(compare(got, n) for n in numbers)

    return test
