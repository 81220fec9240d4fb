"""Logging for the long-running processes (`serve`, `worker`).

Audit records (already JSON) go to stdout one per line; everything else goes to stderr.
Tokens never appear: settings hold them as `SecretStr`, and nothing logs request bodies.
"""

from __future__ import annotations

import logging
import sys

from bot.slack.audit import AUDIT_LOGGER


def setup_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    root.setLevel(level)
    errors = logging.StreamHandler(sys.stderr)
    errors.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.handlers = [errors]
    audit = logging.getLogger(AUDIT_LOGGER)
    audit.setLevel(logging.INFO)
    audit.propagate = False
    lines = logging.StreamHandler(sys.stdout)
    lines.setFormatter(logging.Formatter("%(message)s"))
    audit.handlers = [lines]
    # slack_sdk logs request bodies at DEBUG; keep it quiet whatever the level
    logging.getLogger("slack_sdk").setLevel(max(logging.INFO, root.level))
