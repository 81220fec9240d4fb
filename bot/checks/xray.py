"""Active tracing: the execution role can send trace data to X-Ray.

With `TracingConfig.Mode = Active`, Lambda needs `xray:PutTraceSegments` and
`xray:PutTelemetryRecords` (both only on `"Resource": "*"`), as in AWSXRayDaemonWriteAccess.
https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html
PassThrough or no tracing: no finding.
"""

from __future__ import annotations

from bot.checks.common import ask_role, checked_role
from bot.checks.fixes import MANAGED
from bot.checks.outcome import Wording, role_finding
from bot.report import Finding, Severity
from bot.snapshot import Snapshot

ID = "xray"
ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


def run(snapshot: Snapshot) -> list[Finding]:
    if (snapshot.function.tracing_mode or "").lower() != "active":
        return []
    rp = checked_role(snapshot)
    if rp is None:
        return []
    asks = [ask_role(snapshot, rp, action, "*") for action in ACTIONS]
    wording = Wording(
        fail="Execution role cannot send traces to X-Ray",
        ok="Execution role can send traces to X-Ray",
        unknown="Could not decide whether the function can send traces to X-Ray",
        purpose="send trace segments to X-Ray",
        context="Active tracing is on; Lambda sends trace data with the execution role.",
    )
    return [
        role_finding(
            snapshot,
            rp,
            ID,
            asks,
            wording,
            severity=Severity.MEDIUM,
            sid="LambdaWhyXray",
            managed=MANAGED["xray"],
        )
    ]
