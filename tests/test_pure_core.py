"""The pure core (policy engine, snapshot, checks, report, parsers) imports no I/O library."""

from __future__ import annotations

import json
import subprocess
import sys

#: every module of these packages is imported in a fresh interpreter
PURE = ["bot.iam", "bot.snapshot", "bot.report", "bot.checks", "bot.explain", "bot.timeline"]
FORBIDDEN = ("boto3", "botocore", "redis", "slack_sdk", "slack_bolt", "aiohttp", "saq", "moto")

CODE = """
import importlib, importlib.util, json, pkgutil, sys
names = json.loads(sys.argv[1])
for name in names:
    if importlib.util.find_spec(name) is None:
        continue
    module = importlib.import_module(name)
    for info in pkgutil.walk_packages(getattr(module, "__path__", []), name + "."):
        importlib.import_module(info.name)
print(json.dumps(sorted(sys.modules)))
"""


def test_pure_core_imports_no_io_library() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CODE, json.dumps(PURE)], capture_output=True, text=True, check=True
    ).stdout
    loaded = json.loads(out)
    bad = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert bad == [], f"pure core pulled in {bad}"
    assert "bot.iam.model" in loaded
    assert "bot.snapshot" in loaded
