"""Policy variables: `${aws:username}`, `${aws:PrincipalTag/k, 'default'}`, `${*}`, `${?}`, `${$}`.

Variables are recognised only in policies of Version 2012-10-17; in 2008-10-17 policies a
`${...}` is literal text. A variable whose key is absent (or multivalued) from the request
context and has no default cannot be resolved, and the element holding it matches nothing.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.iam.wildcard import glob_to_regex

#: the prepared request context: lower-cased key -> its values
Context = dict[str, tuple[str, ...]]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Var:
    """A `${key}` or `${key, 'default'}` reference."""

    __slots__ = ("default", "key")

    def __init__(self, key: str, default: str | None) -> None:
        self.key = key
        self.default = default

    def resolve(self, ctx: Context) -> str | None:
        values = ctx.get(self.key)
        if values is not None and len(values) == 1:
            return values[0]
        return self.default


class Escaped:
    """`${*}`, `${?}` or `${$}`: a literal character where a wildcard would be read."""

    __slots__ = ("char",)

    def __init__(self, char: str) -> None:
        self.char = char


Part = str | Var | Escaped


class Template:
    """A policy string split into literal text and variables."""

    __slots__ = ("keys", "parts", "text")

    def __init__(self, text: str, parts: tuple[Part, ...]) -> None:
        self.text = text
        self.parts = parts
        #: the context keys its variables read
        self.keys = frozenset(p.key for p in parts if isinstance(p, Var))

    def resolve(self, ctx: Context) -> str | None:
        """The string with variables substituted, or None when one cannot be resolved."""
        parts = self.parts
        if len(parts) == 1 and isinstance(parts[0], Var):  # "${key}" alone
            return parts[0].resolve(ctx)
        out: list[str] = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, Escaped):
                out.append(part.char)
            else:
                value = part.resolve(ctx)
                if value is None:
                    return None
                out.append(value)
        return "".join(out)

    def glob_source(self, ctx: Context, *, arn: bool = False, strict: bool = False) -> str | None:
        """Regex source: literal text keeps its wildcards, substituted values are literal.

        With `arn`, wildcards in the first five ARN segments stay inside their segment
        (see `bot.iam.wildcard.arn_glob_to_regex`).
        """
        segmented = arn and (strict or self.text.count(":") >= 5)
        colons = 0
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                if not segmented:
                    out.append(glob_to_regex(part))
                    continue
                pieces = part.split(":")
                for i, piece in enumerate(pieces):
                    if i:
                        out.append(":")
                        colons += 1
                    if colons >= 5:
                        out.append(glob_to_regex(":".join(pieces[i:])))
                        break
                    out.append(glob_to_regex(piece, segment=True))
            elif isinstance(part, Escaped):
                out.append(re.escape(part.char))
            else:
                value = part.resolve(ctx)
                if value is None:
                    return None
                out.append(re.escape(value))
        return "".join(out)


def parse_template(text: str, variables: bool) -> Template | None:
    """A Template when `text` holds variables (and they are enabled), else None."""
    if not variables or "${" not in text:
        return None
    parts: list[Part] = []
    pos = 0
    for match in _VARIABLE.finditer(text):
        if match.start() > pos:
            parts.append(text[pos : match.start()])
        inner = match.group(1).strip()
        if inner in ("*", "?", "$"):
            parts.append(Escaped(inner))
        else:
            key, default = _split_default(inner)
            parts.append(Var(key.lower(), default))
        pos = match.end()
    if pos < len(text):
        parts.append(text[pos:])
    if not any(isinstance(p, Var | Escaped) for p in parts):
        return None
    return Template(text, tuple(parts))


def _split_default(inner: str) -> tuple[str, str | None]:
    """`key, 'default'` -> (key, default); anything else is a bare key. (A split rather
    than a regex: a backtracking pattern is quadratic on long runs of spaces.)"""
    key, comma, rest = inner.partition(",")
    key, rest = key.strip(), rest.strip()
    if comma and key and len(rest) >= 2 and rest[0] == rest[-1] == "'" and "'" not in rest[1:-1]:
        return key, rest[1:-1]
    return inner, None


@lru_cache(maxsize=8192)
def compile_source(source: str, ignore_case: bool = False) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL | (re.IGNORECASE if ignore_case else 0))
