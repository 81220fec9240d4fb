"""The execution role can write the function's logs to its log group.

Lambda writes logs with the execution role: `logs:CreateLogStream` and `logs:PutLogEvents`
on the log group's streams are required, `logs:CreateLogGroup` only when the group does not
exist yet (a warning). A custom `LoggingConfig.LogGroup` is honoured.
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html
"""

from __future__ import annotations

from bot.checks.common import Ask, RolePolicies, ask_role, checked_role
from bot.checks.fixes import MANAGED
from bot.checks.outcome import Wording, role_finding
from bot.report import Finding, Severity
from bot.snapshot import Snapshot

ID = "log-delivery"


def log_group_arn(snapshot: Snapshot) -> str:
    group = snapshot.function.logging.log_group
    return f"arn:{snapshot.partition}:logs:{snapshot.region}:{snapshot.account}:log-group:{group}"


def run(snapshot: Snapshot) -> list[Finding]:
    rp = checked_role(snapshot)
    if rp is None:
        return []
    group_arn = log_group_arn(snapshot)
    streams = f"{group_arn}:log-stream:*"
    asks: list[Ask] = [
        ask_role(snapshot, rp, "logs:CreateLogStream", streams),
        ask_role(snapshot, rp, "logs:PutLogEvents", streams),
    ]
    if snapshot.logs:
        # the group holds log lines, so it exists: CreateLogGroup is not needed
        return [_finding(snapshot, rp, asks)]
    # CreateLogGroup is authorized on the group; policies write it with or without ":*"
    create_plain = ask_role(snapshot, rp, "logs:CreateLogGroup", group_arn, required=False)
    create_star = ask_role(snapshot, rp, "logs:CreateLogGroup", f"{group_arn}:*", required=False)
    if create_star.explicit or (not create_plain.allowed and not create_star.allowed):
        asks.append(create_star if create_star.explicit else create_plain)
    else:
        asks.append(create_plain if create_plain.allowed else create_star)
    return [_finding(snapshot, rp, asks)]


def _finding(snapshot: Snapshot, rp: RolePolicies, asks: list[Ask]) -> Finding:
    group = snapshot.function.logging.log_group
    custom = " (custom LoggingConfig log group)" if snapshot.function.logging.custom else ""
    wording = Wording(
        fail="Execution role cannot write the function's logs",
        ok="Execution role can write the function's logs",
        unknown="Could not decide whether the function can write its logs",
        warn="Execution role cannot create the function's log group",
        purpose=f"write logs to {group}",
        context=f"The function logs to {group}{custom}.",
    )
    return role_finding(
        snapshot,
        rp,
        ID,
        asks,
        wording,
        severity=Severity.MEDIUM,
        sid="LambdaWhyLogs",
        managed=MANAGED["logs"],
        warn_severity=Severity.LOW,
    )
