"""User-facing Slack text in English and Japanese.

Catalogues are JSON files beside this module (`en.json`, `ja.json`) with the same keys and
the same `{placeholders}`; `tests/slack/test_i18n.py` keeps them in step. Finding titles and
details come from the checks and stay English; only the framing is translated.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

LOCALES = ("en", "ja")
DEFAULT_LOCALE = "en"


@cache
def catalogue(locale: str) -> dict[str, str]:
    """The catalogue of one locale (`en` or `ja`)."""
    text = resources.files(__package__).joinpath(f"{locale}.json").read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def normalise_locale(value: str | None) -> str:
    """`ja-JP` -> `ja`; anything unknown -> `en`."""
    if not value:
        return DEFAULT_LOCALE
    short = value.replace("_", "-").split("-")[0].lower()
    return short if short in LOCALES else DEFAULT_LOCALE


class Translator:
    """`tr("key", name=value)`: the text of `key` in one locale, placeholders filled."""

    def __init__(self, locale: str = DEFAULT_LOCALE) -> None:
        self.locale = normalise_locale(locale)
        self._texts = catalogue(self.locale)

    def __call__(self, key: str, **values: Any) -> str:
        template = self._texts.get(key)
        if template is None:
            template = catalogue(DEFAULT_LOCALE)[key]
        return template.format(**values) if values else template
