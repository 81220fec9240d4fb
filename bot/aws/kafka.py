"""Amazon MSK reads for a Kafka event source: cluster authentication, network, policy.

Self-managed Kafka has no ARN: its endpoints and secrets come from the mapping itself.
https://docs.aws.amazon.com/MSK/2.0/APIReference/v2-clusters-clusterarn.html
https://docs.aws.amazon.com/msk/1.0/apireference/clusters-clusterarn-policy.html
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from bot.arns import parse_arn
from bot.aws.lambda_ import parse_policy_text
from bot.aws.reader import NOT_FOUND, Reader
from bot.snapshot import EventSource

_NOT_FOUND = ("NotFoundException",)


async def read_cluster(reader: Reader, source: EventSource) -> EventSource:
    assert source.arn is not None
    arn = source.arn
    account = await reader.account_for(arn)
    region = parse_arn(arn).region or reader.region
    cluster, policy = await asyncio.gather(
        reader.call(
            "kafka",
            "DescribeClusterV2",
            resource=arn,
            missing=_NOT_FOUND,
            account=account,
            region=region,
            ClusterArn=arn,
        ),
        reader.call(
            "kafka",
            "GetClusterPolicy",
            resource=arn,
            missing=_NOT_FOUND,
            account=account,
            region=region,
            ClusterArn=arn,
        ),
    )
    if cluster is NOT_FOUND:
        return source.model_copy(update={"exists": False})
    update: dict[str, object] = {}
    if cluster is not None:
        update["exists"] = True
        update["attributes"] = cluster_attributes(cluster.get("ClusterInfo") or {})
    if policy is not None and policy is not NOT_FOUND:
        update["policy"] = parse_policy_text(
            reader, policy.get("Policy"), "kafka:GetClusterPolicy", arn
        )
    return source.model_copy(update=update)


def cluster_attributes(info: Mapping[str, Any]) -> dict[str, str]:
    """Authentication modes, state and network of a provisioned or serverless cluster."""
    kind = str(info.get("ClusterType", ""))
    body: Mapping[str, Any] = info.get("Provisioned") or info.get("Serverless") or {}
    auth: Mapping[str, Any] = body.get("ClientAuthentication") or {}
    sasl: Mapping[str, Any] = auth.get("Sasl") or {}
    subnets: list[str] = []
    groups: list[str] = []
    broker = body.get("BrokerNodeGroupInfo") or {}
    subnets.extend(broker.get("ClientSubnets") or [])
    groups.extend(broker.get("SecurityGroups") or [])
    for vpc in body.get("VpcConfigs") or []:
        subnets.extend(vpc.get("SubnetIds") or [])
        groups.extend(vpc.get("SecurityGroupIds") or [])
    return {
        "ClusterType": kind,
        "State": str(info.get("State", "")),
        "SaslIam": str(bool((sasl.get("Iam") or {}).get("Enabled"))).lower(),
        "SaslScram": str(bool((sasl.get("Scram") or {}).get("Enabled"))).lower(),
        "Tls": str(bool((auth.get("Tls") or {}).get("Enabled"))).lower(),
        "Unauthenticated": str(bool((auth.get("Unauthenticated") or {}).get("Enabled"))).lower(),
        "SubnetIds": ",".join(subnets),
        "SecurityGroupIds": ",".join(groups),
    }
