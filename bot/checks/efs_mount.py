"""EFS file systems: the execution role can mount (and write to) each attached file system.

Without a file system policy EFS lets any client that reaches a mount target in; with
one, the execution role needs `elasticfilesystem:ClientMount` (and `ClientWrite` to write,
a warning when missing), allowed by the role's policies or by the file system policy.
https://docs.aws.amazon.com/lambda/latest/dg/configuration-filesystem.html#configuration-filesystem-permissions
https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html
No file system attached: no finding.
"""

from __future__ import annotations

from bot.checks.common import ask_role, checked_role, gaps_about, pass_finding, unknown_finding
from bot.checks.fixes import resource_side_for, role_principal_statement
from bot.checks.outcome import Wording, role_finding
from bot.report import Finding, Severity
from bot.snapshot import FileSystemConfig, Snapshot

ID = "efs-mount"
ACTIONS = ("elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite")


def run(snapshot: Snapshot) -> list[Finding]:
    if not snapshot.function.file_systems:
        return []
    rp = checked_role(snapshot)
    if rp is None:
        return []
    out: list[Finding] = []
    for mount in snapshot.function.file_systems:
        out.append(_one(snapshot, mount))
    return out


def _one(snapshot: Snapshot, mount: FileSystemConfig) -> Finding:
    rp = checked_role(snapshot)
    assert rp is not None
    fs = mount.file_system_arn
    gaps = gaps_about(snapshot, fs) + gaps_about(snapshot, mount.arn)
    missing = [f"{g.operation} on {g.resource}: {g.error}" for g in gaps]
    if fs is None:
        return unknown_finding(
            ID,
            f"Could not check the EFS mount {mount.local_mount_path}",
            "the access point's file system was not read"
            + (f" ({'; '.join(missing)})" if missing else ""),
            principal=rp.role_arn,
            actions=list(ACTIONS),
            resources=[mount.arn],
        )
    if mount.file_system_policy is None and not missing:
        return pass_finding(
            ID,
            f"EFS file system at {mount.local_mount_path} has no file system policy",
            f"{fs} has no file system policy: EFS lets any client that reaches a mount target "
            "mount and write it.",
            principal=rp.role_arn,
            actions=list(ACTIONS),
            resources=[fs],
        )
    context = {"elasticfilesystem:AccessPointArn": mount.arn}
    asks = [
        ask_role(
            snapshot,
            rp,
            action,
            fs,
            resource_policy=mount.file_system_policy,
            resource_label=f"file system policy of {fs}",
            resource_missing=missing,
            context=context,
            required=action.endswith("ClientMount"),
        )
        for action in ACTIONS
    ]
    denied = sorted({a.action for a in asks if not a.allowed})
    side = resource_side_for(
        "efs",
        fs,
        mount.file_system_policy,
        role_principal_statement("AllowLambdaMount", rp.role_arn, denied or list(ACTIONS), fs),
        rp.role_arn,
        denied or list(ACTIONS),
    )
    wording = Wording(
        fail=f"Execution role cannot mount the EFS file system at {mount.local_mount_path}",
        ok=f"Execution role can mount the EFS file system at {mount.local_mount_path}",
        unknown=f"Could not decide whether the function can mount {mount.local_mount_path}",
        warn=f"Execution role cannot write to the EFS file system at {mount.local_mount_path}",
        purpose="mount the file system",
        context=f"The function mounts {mount.arn} ({fs}) at {mount.local_mount_path}.",
    )
    return role_finding(
        snapshot,
        rp,
        ID,
        asks,
        wording,
        severity=Severity.HIGH,
        sid="LambdaWhyEfs",
        resource_side=side,
        warn_severity=Severity.MEDIUM,
        source=fs,
    )
