"""The evaluator's memo tables: one switch for all of them (on by default).

Memo tables keep what matching worked out for a request's static parts (the action,
resource and principal against parsed policies) so that a repeated request shape only
re-checks what depends on the request context. Every table is keyed by everything its
entries depend on and bounded (cleared when full). `set_memoisation(False)` turns them
off, so benchmarks and tests can show the evaluator without them and compare answers.
"""

from __future__ import annotations

from collections.abc import Callable

#: entries kept per memo table before it is cleared (bounds memory on long runs)
LIMIT = 4096

#: [on?]: a one-item list so hot paths can bind it once and read it cheaply
ENABLED = [True]
_clearers: list[Callable[[], None]] = []


def enabled() -> bool:
    return ENABLED[0]


def set_memoisation(on: bool) -> None:
    """Turn every memo table on or off; either way they are emptied."""
    ENABLED[0] = on
    clear_memos()


def clear_memos() -> None:
    """Empty every process-wide memo table."""
    for clear in _clearers:
        clear()


def on_clear(clear: Callable[[], None]) -> None:
    """Register a process-wide table's clear function."""
    _clearers.append(clear)
