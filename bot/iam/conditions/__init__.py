"""Condition blocks: operators, `...IfExists`, `ForAllValues:` / `ForAnyValue:`.

One module per operator family returns a *positive* test (does any policy value match this
request value?); this module adds negation, IfExists, set operators and missing keys.

- Several operators, and several keys under one operator: AND. Several values for a key:
  OR, and NOR for a negated operator (StringNotEquals, ...).
- A key absent from the request: the condition is false, except for negated operators
  (true), `...IfExists` (true), `ForAllValues:` (true) and `ForAnyValue:` (false).
- A multivalued key without a set operator: a positive operator matches when any value
  matches, a negated one when no value matches.
- Context key names are case-insensitive.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.iam.conditions import arn, binary, boolean, date, ip, numeric, string
from bot.iam.variables import Context, parse_template

#: a compiled positive test: (request value, context) -> does any policy value match it
ValueTest = Callable[[str, Context], bool]
#: compiles the policy values of one operator
Compiler = Callable[[str, list[str], bool], ValueTest]

#: operator name (lower case) -> (compiler, negated)
OPERATORS: dict[str, tuple[Compiler, bool]] = {}
for _family in (string, numeric, date, boolean, binary, ip, arn):
    for _name, (_base, _negated) in _family.OPERATORS.items():
        OPERATORS[_name.lower()] = (_family.compile, _negated)
#: canonical spelling of every operator, for messages
OPERATOR_NAMES: dict[str, str] = {
    name.lower(): name
    for family in (string, numeric, date, boolean, binary, ip, arn)
    for name in family.OPERATORS
} | {"null": "Null"}

ALL = 1
ANY = 2


class ConditionError(ValueError):
    """A malformed condition; the message names the operator and key."""


class Condition:
    """One (operator, key, values) triple of a Condition block."""

    __slots__ = ("if_exists", "key", "negated", "null", "operator", "reads", "set_mode", "test")

    def __init__(
        self,
        operator: str,
        key: str,
        test: ValueTest | None,
        *,
        negated: bool = False,
        if_exists: bool = False,
        set_mode: int = 0,
        null: tuple[bool, ...] = (),
        reads: frozenset[str] = frozenset(),
    ) -> None:
        self.operator = operator
        self.key = key
        #: every context key the condition reads: its key and its values' variables (the
        #: evaluator may hand it a context holding only these)
        self.reads = reads | {key}
        self.test = test
        self.negated = negated
        self.if_exists = if_exists
        self.set_mode = set_mode
        self.null = null

    def holds(self, ctx: Context) -> bool:
        values = ctx.get(self.key)
        test = self.test
        if test is None:  # Null: "true" = absent, "false" = present; several values OR
            present = bool(values)
            return any(want_absent is not present for want_absent in self.null)
        if not values:
            if self.if_exists or self.set_mode == ALL:
                return True
            if self.set_mode == ANY:
                return False
            return self.negated
        if len(values) == 1:
            # one value: every mode below reduces to the one test (negated: its opposite)
            if self.negated:
                return not test(values[0], ctx)
            return test(values[0], ctx)
        if self.negated:
            if self.set_mode == ANY:
                return any(not test(v, ctx) for v in values)
            # ForAllValues or plain: no request value matches any policy value
            return not any(test(v, ctx) for v in values)
        if self.set_mode == ALL:
            return all(test(v, ctx) for v in values)
        return any(test(v, ctx) for v in values)


def holds_all(conditions: tuple[Condition, ...], ctx: Context) -> bool:
    return all(condition.holds(ctx) for condition in conditions)


def _values(raw: Any, where: str) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str):
            out.append(item)
        elif isinstance(item, int | float):
            out.append(str(item))
        else:
            raise ConditionError(f"{where}: a value must be a string, number or boolean")
    return out


def parse_operator(name: str) -> tuple[str, int, bool]:
    """Split `ForAnyValue:StringLikeIfExists` into ("stringlike", ANY, True)."""
    set_mode = 0
    base = name
    if ":" in name:
        prefix, base = name.split(":", 1)
        lowered = prefix.lower()
        if lowered == "forallvalues":
            set_mode = ALL
        elif lowered == "foranyvalue":
            set_mode = ANY
        else:
            raise ConditionError(f"unknown condition set operator {prefix!r} in {name!r}")
    if_exists = False
    if base.lower().endswith("ifexists"):
        if_exists = True
        base = base[: -len("IfExists")]
    lowered = base.lower()
    if lowered != "null" and lowered not in OPERATORS:
        raise ConditionError(f"unknown condition operator {name!r}")
    if lowered == "null" and (if_exists or set_mode):
        raise ConditionError(f"unknown condition operator {name!r}")
    return lowered, set_mode, if_exists


def parse_block(block: Any, variables: bool) -> tuple[Condition, ...]:
    """Compile a Condition element. Raises ConditionError naming the operator and key."""
    if not isinstance(block, Mapping):
        raise ConditionError("must be an object of operators")
    out: list[Condition] = []
    for operator, keys in block.items():
        if not isinstance(operator, str):
            raise ConditionError("operator names must be strings")
        base, set_mode, if_exists = parse_operator(operator)
        if not isinstance(keys, Mapping):
            raise ConditionError(f"{operator}: must be an object of condition keys")
        for key, raw in keys.items():
            where = f"{operator} {key}"
            if not isinstance(key, str) or not key:
                raise ConditionError(f"{operator}: a condition key must be a non-empty string")
            values = _values(raw, where)
            lowered_key = key.lower()
            reads: set[str] = set()
            for value in values:
                template = parse_template(value, variables)
                if template is not None:
                    reads |= template.keys
            if base == "null":
                wants: list[bool] = []
                for value in values:
                    if value.lower() not in ("true", "false"):
                        raise ConditionError(f"{where}: Null takes true or false, not {value!r}")
                    wants.append(value.lower() == "true")
                out.append(
                    Condition(
                        operator, lowered_key, None, null=tuple(wants), reads=frozenset(reads)
                    )
                )
                continue
            compiler, negated = OPERATORS[base]
            try:
                test = compiler(base, values, variables)
            except ValueError as exc:
                raise ConditionError(f"{where}: {exc}") from None
            out.append(
                Condition(
                    operator,
                    lowered_key,
                    test,
                    negated=negated,
                    if_exists=if_exists,
                    set_mode=set_mode,
                    reads=frozenset(reads),
                )
            )
    return tuple(out)
