"""BinaryEquals: base64-encoded values compared byte for byte.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_BinaryEquals
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from bot.iam.variables import Context

OPERATORS: dict[str, tuple[str, bool]] = {"BinaryEquals": ("binary", False)}


def decode(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def compile(op: str, values: list[str], variables: bool) -> Callable[[str, Context], bool]:
    del op, variables
    wanted: set[bytes] = set()
    raw: set[str] = set()
    for value in values:
        decoded = decode(value)
        if decoded is None:
            raw.add(value)
        else:
            wanted.add(decoded)

    def test(value: str, ctx: Context) -> bool:
        decoded = decode(value)
        if decoded is not None and decoded in wanted:
            return True
        return value in raw

    return test
