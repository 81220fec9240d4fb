"""Glob matching (`bot/iam/wildcard.py`): same language as a plain glob matcher, and
linear on patterns that make a backtracking regex explode."""

from __future__ import annotations

import re
import time
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.iam.wildcard import compile_arn_glob, compile_glob, glob_to_regex


def reference(pattern: str, text: str, *, segment: bool = False) -> bool:
    """A textbook dynamic-programming glob matcher (`*` any run, `?` one character)."""

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(text)
        char = pattern[i]
        if char == "*":
            if match(i + 1, j):
                return True
            return j < len(text) and not (segment and text[j] == ":") and match(i, j + 1)
        if j == len(text):
            return False
        if char == "?":
            return not (segment and text[j] == ":") and match(i + 1, j + 1)
        return char == text[j] and match(i + 1, j + 1)

    return match(0, 0)


alphabet = st.text(alphabet="ab:*?/", max_size=9)
subject = st.text(alphabet="ab:/", max_size=12)


@settings(max_examples=1500, deadline=None)
@given(alphabet, subject)
def test_glob_agrees_with_reference(pattern: str, text: str) -> None:
    assert (compile_glob(pattern).fullmatch(text) is not None) == reference(pattern, text)


@settings(max_examples=1500, deadline=None)
@given(alphabet, subject)
def test_segment_glob_agrees_with_reference(pattern: str, text: str) -> None:
    regex = re.compile(glob_to_regex(pattern, segment=True), re.DOTALL)
    assert (regex.fullmatch(text) is not None) == reference(pattern, text, segment=True)


def test_many_stars_do_not_backtrack_exponentially() -> None:
    pattern = "arn:aws:s3:::" + "a*" * 40 + "b"
    subject = "arn:aws:s3:::" + "a" * 5000
    started = time.perf_counter()
    assert compile_arn_glob(pattern).fullmatch(subject) is None
    assert compile_glob("*a" * 40 + "b").fullmatch("a" * 5000) is None
    assert compile_glob("*a" * 40).fullmatch("a" * 5000) is not None
    # a backtracking translation takes hours here; generous bound for slow CI machines
    assert time.perf_counter() - started < 5
