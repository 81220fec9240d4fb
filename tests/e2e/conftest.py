"""End-to-end fixtures: the scenarios seeded in one moto server, `lambda-why` as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.demo.moto import MotoEndpoint, moto_server
from bot.demo.scenarios import Scenario, config_toml, seed_sync

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Seeded:
    endpoint: MotoEndpoint
    scenarios: dict[str, Scenario]
    config: Path
    home: Path

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment: fake credentials, the moto endpoint, the demo config."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "PYTHONPATH": str(ROOT),
            "AWS_CONFIG_FILE": str(self.home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "aws-credentials"),
            "LAMBDA_WHY_CONFIG": str(self.config),
            "NO_COLOR": "1",
            **self.endpoint.client_env(),
        }
        env.update(extra)
        return env


@dataclass
class CheckRun:
    code: int
    stdout: str
    stderr: str

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.stdout)  # type: ignore[no-any-return]


def lambda_why(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> CheckRun:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CheckRun(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="package")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    home = tmp_path_factory.mktemp("e2e-home")
    for name in ("aws-config", "aws-credentials"):
        (home / name).write_text("", encoding="utf-8")
    with moto_server() as endpoint:
        scenarios = seed_sync(endpoint.endpoint_url)
        config = home / "lambda-why.toml"
        config.write_text(config_toml(scenarios), encoding="utf-8")
        yield Seeded(endpoint, {s.key: s for s in scenarios}, config, home)
