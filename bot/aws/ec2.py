"""EC2 reads for a VPC function: its subnets and security groups.

A subnet or group that no longer exists makes the batch call fail; then each id is read
alone so the missing ones are named (`Network.missing_*`).
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSubnets.html
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from bot.aws.reader import NOT_FOUND, Reader
from bot.snapshot import Network, SecurityGroup, Subnet, VpcConfig

_SUBNET_NOT_FOUND = ("InvalidSubnetID.NotFound", "InvalidSubnetId.NotFound")
_GROUP_NOT_FOUND = ("InvalidGroup.NotFound", "InvalidGroupId.NotFound")


async def read_network(reader: Reader, vpc: VpcConfig) -> Network:
    subnets, groups = await asyncio.gather(
        _read(
            reader,
            "DescribeSubnets",
            "SubnetIds",
            "Subnets",
            vpc.subnet_ids,
            not_found=_SUBNET_NOT_FOUND,
        ),
        _read(
            reader,
            "DescribeSecurityGroups",
            "GroupIds",
            "SecurityGroups",
            vpc.security_group_ids,
            not_found=_GROUP_NOT_FOUND,
        ),
    )
    found_subnets, missing_subnets = subnets
    found_groups, missing_groups = groups
    return Network(
        subnets=[
            Subnet(
                id=s["SubnetId"],
                vpc_id=s.get("VpcId"),
                availability_zone=s.get("AvailabilityZone"),
                available_ips=s.get("AvailableIpAddressCount"),
            )
            for s in found_subnets
        ],
        security_groups=[
            SecurityGroup(id=g["GroupId"], name=g.get("GroupName"), vpc_id=g.get("VpcId"))
            for g in found_groups
        ],
        missing_subnet_ids=missing_subnets,
        missing_security_group_ids=missing_groups,
    )


async def _read(
    reader: Reader,
    operation: str,
    /,
    param: str,
    key: str,
    ids: list[str],
    *,
    not_found: tuple[str, ...],
) -> tuple[list[Mapping[str, Any]], list[str]]:
    if not ids:
        return [], []
    batch: dict[str, Any] = {param: ids}
    reply = await reader.call("ec2", operation, missing=not_found, resource=",".join(ids), **batch)
    if reply is None:
        return [], []
    if reply is not NOT_FOUND:
        return list(reply.get(key) or []), []
    found: list[Mapping[str, Any]] = []
    missing: list[str] = []
    replies = await asyncio.gather(
        *(
            reader.call("ec2", operation, missing=not_found, resource=i, **_one(param, i))
            for i in ids
        )
    )
    for item_id, one in zip(ids, replies, strict=True):
        if one is NOT_FOUND:
            missing.append(item_id)
        elif one is not None:
            found.extend(one.get(key) or [])
    return found, missing


def _one(param: str, item_id: str) -> dict[str, Any]:
    return {param: [item_id]}
