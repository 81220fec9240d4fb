"""Lambda's own verdict: a function in state `Failed`/`Inactive`, or a failed last update.

Lambda records why it could not prepare the function (`StateReasonCode`, e.g.
`InsufficientRolePermissions`, `KMSKeyAccessDenied`, `SubnetOutOfIPAddresses`,
`ImageAccessDenied`). These are surfaced as findings, with the permissions they point at.
Subnets with no free IP address are a warning for VPC functions.
https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html
"""

from __future__ import annotations

from bot.report import Finding, Severity, Status
from bot.snapshot import Snapshot

ID = "function-state"

#: StateReasonCode -> (actions involved, principal: "role" or a service principal)
REASONS: dict[str, tuple[list[str], str]] = {
    "InsufficientRolePermissions": ([], "role"),
    "KMSKeyAccessDenied": (["kms:Decrypt"], "role"),
    "KMSKeyNotFound": (["kms:Decrypt"], "role"),
    "KMSKeyInvalidState": (["kms:Decrypt"], "role"),
    "ImageAccessDenied": (
        ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "lambda.amazonaws.com",
    ),
    "ImageDeleted": ([], "lambda.amazonaws.com"),
    "EniLimitExceeded": (["ec2:CreateNetworkInterface"], "role"),
    "SubnetOutOfIPAddresses": (["ec2:CreateNetworkInterface"], "role"),
    "InvalidSubnet": (["ec2:CreateNetworkInterface"], "role"),
    "InvalidSecurityGroup": (["ec2:CreateNetworkInterface"], "role"),
    "EFSMountFailure": (["elasticfilesystem:ClientMount"], "role"),
    "EFSIOError": ([], "role"),
    "EFSMountConnectivityError": ([], "role"),
    "EFSMountTimeout": ([], "role"),
}


def run(snapshot: Snapshot) -> list[Finding]:
    fn = snapshot.function
    out: list[Finding] = []
    problems: list[tuple[str, str | None, str | None]] = []
    if (fn.state or "") in ("Failed", "Inactive") and fn.state_reason_code not in (None, "Idle"):
        problems.append((f"state {fn.state}", fn.state_reason_code, fn.state_reason))
    if (fn.last_update_status or "") == "Failed":
        problems.append(
            ("last update failed", fn.last_update_status_reason_code, fn.last_update_status_reason)
        )
    for what, code, reason in problems:
        actions, who = REASONS.get(code or "", ([], "role"))
        out.append(
            Finding(
                check=ID,
                status=Status.FAIL,
                severity=Severity.HIGH,
                title=f"Lambda reports the function {what}" + (f" ({code})" if code else ""),
                detail=f"Lambda says: {reason or 'no reason given'}.",
                principal=fn.role_arn if who == "role" else who,
                actions=actions,
                resources=[fn.arn],
            )
        )
    if fn.vpc is not None and snapshot.network is not None:
        full = [s.id for s in snapshot.network.subnets if s.available_ips == 0]
        if full:
            out.append(
                Finding(
                    check=ID,
                    status=Status.WARN,
                    severity=Severity.MEDIUM,
                    title="Function subnets have no free IP addresses",
                    detail=(
                        f"Subnets {', '.join(full)} have no available IP address; Lambda cannot "
                        "create network interfaces in them (SubnetOutOfIPAddresses)."
                    ),
                    principal=fn.role_arn,
                    actions=["ec2:CreateNetworkInterface"],
                    resources=full,
                )
            )
    return out
