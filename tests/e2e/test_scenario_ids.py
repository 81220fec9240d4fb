"""The check ids the scenarios expect exist in the checks registry (a rename fails here)."""

from __future__ import annotations

from bot.checks import CHECKS
from bot.demo.scenarios import model


def test_expected_check_ids_are_registered() -> None:
    registered = {module.ID for module in CHECKS}
    expected = {value for name, value in vars(model).items() if name.startswith("CHECK_")}
    assert expected <= registered, sorted(expected - registered)
