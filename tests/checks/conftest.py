from __future__ import annotations

from pathlib import Path

import pytest

from bot.snapshot import Snapshot

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> Snapshot:
    return Snapshot.load(FIXTURES / f"{name}.json")


@pytest.fixture
def fixture_dir() -> Path:
    return FIXTURES
