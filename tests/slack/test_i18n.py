"""The English and Japanese catalogues stay in step."""

from __future__ import annotations

import string

import pytest

from bot.slack.i18n import LOCALES, Translator, catalogue, normalise_locale


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_same_keys() -> None:
    english = catalogue("en")
    for locale in LOCALES:
        assert set(catalogue(locale)) == set(english), locale


@pytest.mark.parametrize("key", sorted(catalogue("en")))
def test_same_placeholders(key: str) -> None:
    expected = placeholders(catalogue("en")[key])
    for locale in LOCALES:
        assert placeholders(catalogue(locale)[key]) == expected, (locale, key)


def test_buttons_keep_the_english_words() -> None:
    en = Translator("en")
    assert (en("button.rerun"), en("button.escalate"), en("button.export")) == (
        "Rerun",
        "Escalate",
        "Export",
    )
    ja = Translator("ja")
    assert ja("button.rerun") != "Rerun"
    assert "再実行" in ja("button.rerun")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("ja-JP", "ja"), ("en-US", "en"), ("ja_JP", "ja"), ("fr-FR", "en"), (None, "en"), ("", "en")],
)
def test_normalise_locale(raw: str | None, expected: str) -> None:
    assert normalise_locale(raw) == expected


def test_placeholders_filled() -> None:
    assert Translator("ja")("error.rate_limited", limit=3).startswith("直近1分間に 3 回")
