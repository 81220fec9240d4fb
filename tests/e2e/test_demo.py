"""`lambda-why demo` on a "fresh machine": clean environment, no config, no network."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from .conftest import ROOT

BUNDLE_FILES = {"summary.txt", "findings.json", "logs.txt", "snapshot.json"}


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "bundles"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
        # a configured real Slack token must never be used by the demo
        "SLACK_BOT_TOKEN": "xoxb-must-not-be-used",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--out", str(out)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    assert elapsed < 60, f"demo took {elapsed:.0f}s"
    stdout = done.stdout
    assert "Traceback" not in done.stderr
    assert "Seeded" in stdout
    assert "billing-sync" in stdout
    assert "as expected" in stdout
    if "(slack mode)" in stdout:
        # threads: the parent with its buttons, findings as replies
        assert "/lambda-why" in stdout
        for label in ("Rerun", "Escalate", "Export"):
            assert label in stdout
        assert "└─ reply" in stdout
    else:
        assert "(diagnose mode)" in stdout
        assert "FAIL" in stdout
    bundles = sorted(out.glob("*.zip"))
    assert bundles, f"no bundle in {out}: {stdout[-2000:]}"
    escalated = []
    for bundle in bundles:
        with zipfile.ZipFile(bundle) as archive:
            names = set(archive.namelist())
            assert names >= BUNDLE_FILES
            text = "".join(archive.read(n).decode() for n in names)
            summary = archive.read("summary.txt").decode()
        assert "Function ARN:" in summary
        assert "Intermittent or continuous:" in summary
        assert "Cross-account:" in summary
        assert "xoxb-must-not-be-used" not in text
        # the payroll function's env var and log secrets
        assert "hunter2-prod-Zq8" not in text
        assert "xoxb-1111111111" not in text
        if "escalation.json" in names:
            escalated.append(summary)
    if "(slack mode)" in stdout:
        # Escalate was submitted before Export: that bundle carries the answers
        assert escalated
        assert "continuous (reported by the requester)" in escalated[0]
        # the second account's function was read through its read-only role
        assert "222222222222" in stdout
        assert "Fixed since the previous run" in stdout
        # the mention in an incident thread is answered there
        assert "#incident-4711" in stdout
