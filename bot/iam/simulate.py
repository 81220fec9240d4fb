"""One `lambda-why simulate` input line in, one result object out (CONTRACTS §1). Pure.

A result is `{"id", "decision", "denied_by", "statements", "error": null}`, or
`{"id", "error": "<reason>"}` for a line that cannot be read or evaluated (id null when
it is not known). Fields of a line other than `id`, `request` and `policies` are ignored,
so test suites may carry their expectations alongside.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from bot.iam.evaluate import evaluate
from bot.iam.model import Decision
from bot.iam.policy import PolicyError
from bot.iam.wire import WireError, policy_set_from_json, request_from_json


def _id(value: Any) -> Any:
    """The line's id as given when it is a JSON scalar, else its text (an overflowing
    number such as 1e400 too: the output line must stay valid JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, sort_keys=True)


def _not_json(constant: str) -> Any:
    """`json.loads` accepts NaN and Infinity, which JSON does not: refuse them."""
    raise ValueError(f"{constant} is not a JSON value")


def simulate_object(line: Any) -> tuple[dict[str, Any], Decision | None]:
    """Evaluate one parsed line; the result object and the Decision (None on error)."""
    if not isinstance(line, Mapping):
        return {
            "id": None,
            "error": "a line must be a JSON object with id, request, policies",
        }, None
    line_id = _id(line.get("id"))
    if "request" not in line:
        return {"id": line_id, "error": 'missing "request"'}, None
    try:
        request = request_from_json(line["request"])
        policies = policy_set_from_json(line.get("policies"))
    except (WireError, PolicyError) as exc:
        return {"id": line_id, "error": str(exc)}, None
    decision = evaluate(request, policies)
    return {"id": line_id, **decision.contract_dict(), "error": None}, decision


def simulate_line(text: str, lineno: int = 0) -> tuple[dict[str, Any], Decision | None]:
    """Evaluate one JSON text line (`lineno` only names it in error messages)."""
    where = f"line {lineno}: " if lineno else ""
    try:
        line = json.loads(text, parse_constant=_not_json)
    except RecursionError:
        return {"id": None, "error": f"{where}JSON nested too deeply"}, None
    except ValueError as exc:
        return {"id": None, "error": f"{where}not valid JSON ({exc})"}, None
    result, decision = simulate_object(line)
    if result.get("error") and where:
        result["error"] = where + result["error"]
    return result, decision
