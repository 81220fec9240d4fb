"""Glob patterns of IAM policies (`*` any run of characters, `?` one character) as regexes.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
"""

from __future__ import annotations

import re
from functools import lru_cache


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def glob_to_regex(pattern: str, *, segment: bool = False) -> str:
    """Regex source for a glob; with `segment`, wildcards do not cross a colon.

    Matching stays linear-ish whatever the pattern: every `*` but the last is written
    as an atomic lazy group holding the literal run after it (`(?>.*?run)`), so the run
    is placed at its leftmost occurrence and never re-tried. Leftmost placement is what
    a glob matcher does anyway (a later placement never leaves more room for the rest),
    so the language is unchanged; without it `a*a*a*...b` backtracks exponentially.
    """
    star, one = ("[^:]", "[^:]") if segment else (".", ".")
    chunks = pattern.split("*")
    out = [_run(chunks[0], one)]
    for middle in chunks[1:-1]:
        if middle:  # `**` is one star
            out.append(f"(?>{star}*?{_run(middle, one)})")
    if len(chunks) > 1:
        out.append(f"{star}*{_run(chunks[-1], one)}")
    return "".join(out)


def _run(text: str, one: str) -> str:
    """A literal run of a glob (no `*`): `?` is one character, the rest is literal."""
    return one.join(re.escape(piece) for piece in text.split("?"))


@lru_cache(maxsize=8192)
def compile_glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """A compiled full-match regex for a glob pattern (cached)."""
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(glob_to_regex(pattern), flags)


def arn_glob_to_regex(pattern: str, *, strict: bool = False) -> str:
    """Regex source for an ARN pattern matched segment by segment.

    The partition, service, region and account segments are matched each on its own
    (a wildcard there stays inside the segment); in the resource part (everything after
    the fifth colon) `*` spans `/` and `:` as AWS does. A pattern with fewer than six
    segments is matched as a plain glob over the whole ARN, or with `strict` (ARN
    condition operators, which compare the six segments one by one) segment by segment.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
    """
    parts = pattern.split(":", 5)
    if len(parts) < 6:
        if strict:
            return ":".join(glob_to_regex(p, segment=True) for p in parts)
        return glob_to_regex(pattern)
    head = ":".join(glob_to_regex(p, segment=True) for p in parts[:5])
    return head + ":" + glob_to_regex(parts[5])


@lru_cache(maxsize=8192)
def compile_arn_glob(pattern: str, strict: bool = False) -> re.Pattern[str]:
    return re.compile(arn_glob_to_regex(pattern, strict=strict), re.DOTALL)
