"""Date operators: DateEquals, DateNotEquals, DateLessThan(Equals), DateGreaterThan(Equals).

Values are ISO 8601 dates/times (a time without zone is UTC) or epoch seconds.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date
"""

from __future__ import annotations

import operator as _op
from collections.abc import Callable
from datetime import UTC, datetime

from bot.iam.variables import Context

OPERATORS: dict[str, tuple[str, bool]] = {
    "DateEquals": ("eq", False),
    "DateNotEquals": ("eq", True),
    "DateLessThan": ("lt", False),
    "DateLessThanEquals": ("le", False),
    "DateGreaterThan": ("gt", False),
    "DateGreaterThanEquals": ("ge", False),
}
_BY_LOWER = {name.lower(): base for name, (base, _) in OPERATORS.items()}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "eq": _op.eq,
    "lt": _op.lt,
    "le": _op.le,
    "gt": _op.gt,
    "ge": _op.ge,
}


def to_epoch(text: str) -> float | None:
    """Seconds since the epoch for an ISO 8601 date/time or an epoch number, or None."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    candidate = text[:-1] + "+00:00" if text[-1] in "zZ" else text
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def compile(op: str, values: list[str], variables: bool) -> Callable[[str, Context], bool]:
    del variables
    compare = _COMPARE[_BY_LOWER[op]]
    moments: list[float] = []
    for value in values:
        moment = to_epoch(value)
        if moment is None:
            raise ValueError(f"{value!r} is not an ISO 8601 date or epoch time")
        moments.append(moment)

    def test(value: str, ctx: Context) -> bool:
        got = to_epoch(value)
        if got is None:
            return False
        return any(compare(got, m) for m in moments)

    return test
