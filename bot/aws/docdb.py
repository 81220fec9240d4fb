"""Amazon DocumentDB reads for a change-stream event source (API name `rds`).

https://docs.aws.amazon.com/documentdb/latest/developerguide/API_DescribeDBClusters.html
"""

from __future__ import annotations

from bot.arns import parse_arn
from bot.aws.reader import NOT_FOUND, Reader
from bot.snapshot import EventSource

_NOT_FOUND = ("DBClusterNotFoundFault",)


async def read_cluster(reader: Reader, source: EventSource) -> EventSource:
    assert source.arn is not None
    arn = source.arn
    reply = await reader.call(
        "docdb",
        "DescribeDBClusters",
        resource=arn,
        missing=_NOT_FOUND,
        account=await reader.account_for(arn),
        region=parse_arn(arn).region or reader.region,
        DBClusterIdentifier=arn,
    )
    if reply is None:
        return source
    clusters = list(reply.get("DBClusters") or [])
    if reply is NOT_FOUND or not clusters:
        return source.model_copy(update={"exists": False})
    cluster = clusters[0]
    attributes = {
        "Status": str(cluster.get("Status", "")),
        "Engine": str(cluster.get("Engine", "")),
        "StorageEncrypted": str(bool(cluster.get("StorageEncrypted"))).lower(),
        "DBSubnetGroup": str(cluster.get("DBSubnetGroup", "")),
        "SecurityGroupIds": ",".join(
            g.get("VpcSecurityGroupId", "") for g in cluster.get("VpcSecurityGroups") or []
        ),
    }
    if cluster.get("KmsKeyId"):
        attributes["KmsKeyId"] = str(cluster["KmsKeyId"])
    return source.model_copy(update={"exists": True, "attributes": attributes})
