"""One structured (JSON) audit line per request and per job.

Lines go to the `lambda_why.audit` logger; `serve` and `worker` print that logger's records
as they are, one JSON object a line. Values are identifiers only (user, channel, account,
function, job): never message text, tokens or secrets.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

AUDIT_LOGGER = "lambda_why.audit"


def audit(event: str, **fields: Any) -> None:
    """Log one audit record: `{"ts": ..., "event": ..., **fields}` (None fields dropped)."""
    record = {"ts": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "event": event}
    record.update({k: v for k, v in fields.items() if v is not None})
    logging.getLogger(AUDIT_LOGGER).info(json.dumps(record, default=str, ensure_ascii=False))
