"""Event source mappings: the execution role can read each source.

Lambda polls the source with the execution role. Per source type, the permissions the
Lambda developer guide lists ("Execution role permissions"):

- SQS: `sqs:ReceiveMessage`, `sqs:DeleteMessage`, `sqs:GetQueueAttributes`
  https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html#events-sqs-permissions
- Kinesis: `kinesis:GetRecords`, `kinesis:GetShardIterator`, `kinesis:DescribeStream`
  (required), `kinesis:DescribeStreamSummary`, `kinesis:ListShards`, `kinesis:ListStreams`
  (recommended), `kinesis:SubscribeToShard` for an enhanced fan-out consumer
  https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-permissions.html
- DynamoDB Streams: `dynamodb:DescribeStream`, `dynamodb:GetRecords`,
  `dynamodb:GetShardIterator` (required), `dynamodb:ListStreams` (recommended)
  https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-eventsourcemapping.html
- Amazon MSK: `kafka:DescribeClusterV2` (or `kafka:DescribeCluster`),
  `kafka:GetBootstrapBrokers` and the VPC actions
  https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html
  with IAM access control (IAM auth on the cluster, no SCRAM/mTLS secret on the mapping):
  `kafka-cluster:Connect`, `kafka-cluster:DescribeClusterDynamicConfiguration` on the
  cluster, `kafka-cluster:DescribeTopic`, `kafka-cluster:ReadData` on each topic,
  `kafka-cluster:DescribeGroup`, `kafka-cluster:AlterGroup` on the consumer group
  https://docs.aws.amazon.com/lambda/latest/dg/with-msk-configure.html
- self-managed Kafka: `secretsmanager:GetSecretValue` for the auth secrets, VPC actions when
  a VPC is configured https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-permissions.html
- Amazon MQ: `mq:DescribeBroker`, `secretsmanager:GetSecretValue`, VPC actions
  https://docs.aws.amazon.com/lambda/latest/dg/process-mq-messages-with-lambda.html
- DocumentDB: `rds:DescribeDBClusters`, `rds:DescribeDBClusterParameters`,
  `rds:DescribeDBSubnetGroups`, `secretsmanager:GetSecretValue`, VPC actions
  https://docs.aws.amazon.com/lambda/latest/dg/with-documentdb.html

The source's own resource policy is evaluated with the role's policies (for a
cross-account source both must allow), and `kms:Decrypt` on a customer managed key that
encrypts the source (role AND key policy). The mapping's state and last processing result
are reported in the detail; a `PROBLEM:` result with permissions in order is a warning.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.checks.common import (
    Ask,
    RolePolicies,
    account_of,
    ask_role,
    checked_role,
    gaps_about,
)
from bot.checks.fixes import MANAGED, ResourceSide, resource_side_for, role_principal_statement
from bot.checks.kms import find_key, key_asks, unusable_key, unusable_key_finding
from bot.checks.outcome import Wording, role_finding
from bot.report import Finding, Fix, Severity, Status
from bot.snapshot import EventSourceMapping, Snapshot

ID = "event-source"

VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
)
SECRET_TYPES = {
    "BASIC_AUTH",
    "SASL_SCRAM_256_AUTH",
    "SASL_SCRAM_512_AUTH",
    "CLIENT_CERTIFICATE_TLS_AUTH",
    "SERVER_ROOT_CA_CERTIFICATE",
}
NAMES = {
    "sqs": "SQS queue",
    "kinesis": "Kinesis stream",
    "dynamodb": "DynamoDB stream",
    "msk": "Amazon MSK cluster",
    "kafka": "self-managed Kafka cluster",
    "mq": "Amazon MQ broker",
    "docdb": "DocumentDB cluster",
    "unknown": "event source",
}
#: KMS is called by the source service on the role's behalf
VIA = {"sqs": "sqs", "kinesis": "kinesis", "dynamodb": "dynamodb"}


def run(snapshot: Snapshot) -> list[Finding]:
    if not snapshot.event_source_mappings:
        return []
    rp = checked_role(snapshot)
    if rp is None:
        return []
    return [_one(snapshot, rp, esm) for esm in snapshot.event_source_mappings]


def _name(arn: str | None) -> str:
    if not arn:
        return "?"
    if ":table/" in arn and "/stream/" in arn:  # DynamoDB stream: name the table
        return arn.split(":table/", 1)[1].split("/", 1)[0]
    tail = arn.split(":", 5)[-1]
    return tail.rsplit("/", 1)[-1] if "/" in tail else tail


def _state_text(esm: EventSourceMapping) -> str:
    bits = [f"Mapping {esm.uuid}"]
    if esm.state:
        bits.append(f"state {esm.state}")
    if esm.state_transition_reason:
        bits.append(f"({esm.state_transition_reason})")
    if esm.last_processing_result:
        bits.append(f"last processing result: {esm.last_processing_result}")
    return " ".join(bits) + "."


def _one(snapshot: Snapshot, rp: RolePolicies, esm: EventSourceMapping) -> Finding:
    src = esm.source
    kind = src.type
    arn = src.arn
    endpoints = [e for values in esm.self_managed_endpoints.values() for e in values]
    label = f"{NAMES[kind]} {_name(arn) if arn else ', '.join(endpoints)}"
    if src.exists is False:
        return Finding(
            check=ID,
            status=Status.FAIL,
            severity=Severity.HIGH,
            title=f"Event source {label} does not exist",
            detail=f"{_state_text(esm)} The mapping reads from {arn}, which does not exist.",
            principal=rp.role_arn,
            resources=[arn] if arn else [],
            source=arn,
            fix=_delete_fix(esm),
        )
    asks: list[Ask] = []
    source_missing = [
        f"{g.operation} on {g.resource}: {g.error}" for g in gaps_about(snapshot, arn)
    ]
    policy = src.policy
    cross = bool(arn) and account_of(arn) not in (None, snapshot.account)
    managed = MANAGED.get(kind)
    side: ResourceSide | None = None

    def role_ask(
        action: str, resource: str, *, required: bool = True, with_policy: bool = True
    ) -> Ask:
        return ask_role(
            snapshot,
            rp,
            action,
            resource,
            resource_policy=policy if with_policy else None,
            resource_label=f"resource policy of {arn}" if with_policy and policy else None,
            resource_missing=source_missing if with_policy else (),
            required=required,
        )

    if kind == "sqs" and arn:
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            asks.append(role_ask(action, arn))
    elif kind == "kinesis" and arn:
        stream = arn.split("/consumer/", 1)[0]
        for action in ("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream"):
            asks.append(role_ask(action, stream))
        for action in ("kinesis:DescribeStreamSummary", "kinesis:ListShards"):
            asks.append(role_ask(action, stream, required=False))
        asks.append(role_ask("kinesis:ListStreams", stream, required=False, with_policy=False))
        if "/consumer/" in arn:
            asks.append(role_ask("kinesis:SubscribeToShard", arn))
            asks.append(role_ask("kinesis:DescribeStreamConsumer", arn, required=False))
    elif kind == "dynamodb" and arn:
        for action in (
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
        ):
            asks.append(role_ask(action, arn))
        asks.append(role_ask("dynamodb:ListStreams", arn, required=False, with_policy=False))
    elif kind == "msk" and arn:
        v2 = role_ask("kafka:DescribeClusterV2", arn, with_policy=False)
        v1 = role_ask("kafka:DescribeCluster", arn, with_policy=False)
        asks.append(v1 if (v1.allowed and not v2.allowed) else v2)
        asks.append(role_ask("kafka:GetBootstrapBrokers", arn, with_policy=False))
        asks.extend(role_ask(a, "*", with_policy=False) for a in VPC_ACTIONS)
        if cross:
            asks.append(role_ask("kafka:DescribeVpcConnection", "*", with_policy=False))
        if msk_uses_iam_auth(esm):
            asks.extend(
                role_ask(action, resource, with_policy=False)
                for action, resource in msk_iam_requests(esm, arn)
            )
    elif kind == "kafka":
        if any(
            _sac_type(c) in ("VPC_SUBNET", "VPC_SECURITY_GROUP")
            for c in esm.source_access_configurations
        ):
            asks.extend(role_ask(a, "*", with_policy=False) for a in VPC_ACTIONS)
    elif kind == "mq" and arn:
        asks.append(role_ask("mq:DescribeBroker", arn, with_policy=False))
        asks.extend(role_ask(a, "*", with_policy=False) for a in VPC_ACTIONS)
    elif kind == "docdb" and arn:
        asks.append(role_ask("rds:DescribeDBClusters", arn, with_policy=False))
        asks.append(role_ask("rds:DescribeDBClusterParameters", "*", with_policy=False))
        asks.append(role_ask("rds:DescribeDBSubnetGroups", "*", with_policy=False))
        asks.extend(role_ask(a, "*", with_policy=False) for a in VPC_ACTIONS)
    for config in esm.source_access_configurations:
        if _sac_type(config) in SECRET_TYPES and _sac_uri(config):
            uri = _sac_uri(config)
            secret = snapshot.secrets.get(uri)
            asks.append(
                ask_role(
                    snapshot,
                    rp,
                    "secretsmanager:GetSecretValue",
                    uri,
                    resource_policy=secret.policy if secret is not None else None,
                    resource_label=f"resource policy of {uri}",
                    resource_missing=[
                        f"{g.operation} on {g.resource}: {g.error}"
                        for g in gaps_about(snapshot, uri)
                    ],
                )
            )
            if secret is not None and secret.kms_key_arn:
                secret_key = key_asks(
                    snapshot,
                    rp,
                    secret.kms_key_arn,
                    ("kms:Decrypt",),
                    via_service=f"secretsmanager.{snapshot.region}.amazonaws.com",
                    encryption_context={"SecretARN": uri},
                )
                asks.extend(secret_key.asks)
                if side is None and any(not a.allowed for a in secret_key.asks):
                    side = secret_key.side
    if src.kms_key_arn and unusable_key(find_key(snapshot, src.kms_key_arn)):
        key = find_key(snapshot, src.kms_key_arn)
        assert key is not None
        return unusable_key_finding(
            ID,
            key,
            principal=rp.role_arn,
            actions=["kms:Decrypt"],
            what=f"the {label}",
            source=arn,
            consequence="Lambda cannot read its records",
        )
    if src.kms_key_arn:
        via = VIA.get(kind)
        context = {f"aws:{kind}:arn": arn} if arn and kind in ("sqs", "kinesis") else None
        answers = key_asks(
            snapshot,
            rp,
            src.kms_key_arn,
            ("kms:Decrypt",),
            via_service=f"{via}.{snapshot.region}.amazonaws.com" if via else None,
            encryption_context=context,
            required=kind in ("sqs", "kinesis", "docdb", "mq", "kafka", "msk"),
        )
        asks.extend(answers.asks)
        if any(not a.allowed for a in answers.asks):
            side = answers.side
    if not asks:
        return Finding(
            check=ID,
            status=Status.UNKNOWN,
            severity=Severity.MEDIUM,
            title=f"Event source mapping {esm.uuid} could not be checked",
            detail=f"{_state_text(esm)} The source (type {kind}) has no ARN that could be read.",
            principal=rp.role_arn,
            source=arn,
        )
    source_denied = [
        a
        for a in asks
        if not a.allowed
        and "resource" in a.denied_by
        and a.resource_policy_label
        and "key policy" not in a.resource_policy_label
    ]
    if source_denied and arn and side is None:
        actions = sorted({a.action for a in source_denied})
        side = resource_side_for(
            kind,
            arn,
            policy,
            role_principal_statement("AllowLambdaExecutionRole", rp.role_arn, actions, arn),
            rp.role_arn,
            actions,
        )
    where = f"{label}" + (f" in account {account_of(arn)}" if cross else "")
    wording = Wording(
        fail=f"Execution role cannot read from {where}",
        ok=f"Execution role can read from {where}",
        unknown=f"Could not decide whether the function can read from {label}",
        warn=f"Execution role lacks recommended permissions on {label}",
        purpose=f"poll {label}",
        context=_state_text(esm)
        + (
            " The source is in another account: its resource policy must also allow the role."
            if cross
            else ""
        ),
    )
    finding = role_finding(
        snapshot,
        rp,
        ID,
        asks,
        wording,
        severity=Severity.HIGH,
        sid="LambdaWhy" + kind.capitalize() + "Source",
        # the managed policy lacks the kafka-cluster:* data-plane actions
        managed=(
            managed
            if not cross
            and not any(not a.allowed and a.action.startswith("kafka-cluster:") for a in asks)
            else None
        ),
        resource_side=side,
        source=arn,
    )
    problem = (esm.last_processing_result or "").upper().startswith("PROBLEM") or (
        (esm.state_transition_reason or "").upper().startswith("PROBLEM")
    )
    if problem and finding.status is Status.PASS:
        finding.status = Status.WARN
        finding.severity = Severity.MEDIUM
        finding.title = f"Event source mapping for {label} reports a problem"
        finding.detail += (
            " The permissions are in order, so the problem lies elsewhere (network path to the "
            "source, the source's own settings, or the function's code)."
        )
    return finding


def _sac_type(config: Mapping[str, str]) -> str:
    """A SourceAccessConfiguration's type (collectors store `type`, AWS replies `Type`)."""
    return config.get("type") or config.get("Type") or ""


def _sac_uri(config: Mapping[str, str]) -> str:
    return config.get("uri") or config.get("URI") or ""


#: source access configurations that make Lambda authenticate without IAM
_NON_IAM_AUTH = SECRET_TYPES - {"SERVER_ROOT_CA_CERTIFICATE"}


def msk_uses_iam_auth(esm: EventSourceMapping) -> bool:
    """Whether Lambda authenticates to the MSK cluster with the execution role: IAM auth is
    on for the cluster and the mapping names no SASL/SCRAM secret or mTLS certificate
    ("If IAM auth is active on your MSK cluster, and you don't provide a secret for auth,
    Lambda automatically defaults to using IAM auth").
    https://docs.aws.amazon.com/lambda/latest/dg/with-msk-configure.html
    """
    if esm.source.attributes.get("SaslIam") != "true":
        return False
    return not any(_sac_type(c) in _NON_IAM_AUTH for c in esm.source_access_configurations)


def msk_iam_requests(esm: EventSourceMapping, cluster_arn: str) -> list[tuple[str, str]]:
    """(action, resource) pairs Lambda's consumer needs with IAM access control: connect and
    describe the cluster's dynamic configuration, describe and read each topic, describe and
    alter the consumer group (the mapping's ConsumerGroupId, else its UUID).
    https://docs.aws.amazon.com/msk/latest/developerguide/kafka-actions.html
    """
    head, _, tail = cluster_arn.partition(":cluster/")
    if not tail:
        return [("kafka-cluster:Connect", cluster_arn)]
    pairs = [
        ("kafka-cluster:Connect", cluster_arn),
        ("kafka-cluster:DescribeClusterDynamicConfiguration", cluster_arn),
    ]
    for topic in esm.topics or ["*"]:
        topic_arn = f"{head}:topic/{tail}/{topic}"
        pairs.append(("kafka-cluster:DescribeTopic", topic_arn))
        pairs.append(("kafka-cluster:ReadData", topic_arn))
    group_arn = f"{head}:group/{tail}/{esm.consumer_group_id or esm.uuid}"
    pairs.append(("kafka-cluster:DescribeGroup", group_arn))
    pairs.append(("kafka-cluster:AlterGroup", group_arn))
    return pairs


def _delete_fix(esm: EventSourceMapping) -> Fix:
    return Fix(
        summary="Point the mapping at an existing source, or delete the stale mapping.",
        commands=[f"aws lambda delete-event-source-mapping --uuid {esm.uuid}"],
    )
