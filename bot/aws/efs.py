"""EFS collector: the file system policy of each file system the function mounts.

Lambda mounts an EFS access point (`FileSystemConfigs[].Arn`); the access point names its
file system (`DescribeAccessPoints`), whose policy (`DescribeFileSystemPolicy`) must allow
the execution role `elasticfilesystem:ClientMount` (and `ClientWrite` to write) when one
exists. No policy (`PolicyNotFound`) means IAM identity policies alone decide.

https://docs.aws.amazon.com/lambda/latest/dg/configuration-filesystem.html
https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from bot.aws.reader import NOT_FOUND

if TYPE_CHECKING:
    from bot.aws.collect import CollectContext
    from bot.aws.reader import Reader
    from bot.snapshot import FileSystemConfig


async def collect(ctx: CollectContext) -> None:
    """Late collector: fill `file_system_arn` and `file_system_policy` of each mount."""
    for mount in ctx.snapshot.function.file_systems:
        await read_file_system_policy(ctx.reader, mount)


async def read_file_system_policy(reader: Reader, mount: FileSystemConfig) -> None:
    parts = mount.arn.split(":")
    if len(parts) < 6:
        return
    region, account = parts[3] or reader.region, parts[4] or reader.account
    file_system_id: str | None = None
    if mount.file_system_arn:
        file_system_id = mount.file_system_arn.rsplit("/", 1)[-1]
    elif parts[5].startswith("access-point/"):
        reply = await reader.call(
            "efs",
            "DescribeAccessPoints",
            resource=mount.arn,
            gap_operation="elasticfilesystem:DescribeAccessPoints",
            account=account,
            region=region,
            AccessPointId=parts[5].split("/", 1)[1],
        )
        points = (reply or {}).get("AccessPoints") or []
        if points:
            file_system_id = points[0].get("FileSystemId")
            mount.file_system_arn = (
                f"arn:{parts[1]}:elasticfilesystem:{region}:{account}:file-system/{file_system_id}"
            )
    if not file_system_id:
        return
    reply = await reader.call(
        "efs",
        "DescribeFileSystemPolicy",
        resource=mount.file_system_arn,
        gap_operation="elasticfilesystem:DescribeFileSystemPolicy",
        missing=("PolicyNotFound",),
        account=account,
        region=region,
        FileSystemId=file_system_id,
    )
    if reply is None or reply is NOT_FOUND:
        return
    policy = reply.get("Policy")
    if isinstance(policy, str):
        try:
            mount.file_system_policy = json.loads(policy)
        except ValueError:
            reader.gap(
                "elasticfilesystem:DescribeFileSystemPolicy",
                mount.file_system_arn,
                "the file system policy is not valid JSON",
            )
    elif isinstance(policy, dict):
        mount.file_system_policy = policy
