"""Everything read about one function, as plain serialisable data.

The snapshot is the seam between AWS I/O (`bot/aws`) and logic (`bot/checks`, `bot/iam`):
collectors fill it, checks only read it, and `check --save-snapshot` / `--snapshot` write
and replay it offline. Policy documents are kept as the JSON AWS returned (already
URL-decoded and parsed); they are parsed by `bot.iam` when evaluated.

Every read that failed is a `Gap` (operation, resource, error): a check whose input is
missing reports `unknown`, never `pass`. Environment variable values are redacted at
collection time and never stored here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

SCHEMA_VERSION = 1

#: Stand-in for every redacted secret value.
REDACTED = "***redacted***"

PolicyDocument = dict[str, Any]


class Gap(BaseModel):
    """A read that failed: which API operation, on what, and the error AWS gave."""

    operation: str  # e.g. "kms:GetKeyPolicy"
    resource: str | None = None
    error: str  # e.g. "AccessDenied" or "AccessDeniedException: User ... is not authorized"


class NamedPolicy(BaseModel):
    """An inline or managed policy with its (default version) document."""

    name: str
    arn: str | None = None  # managed policies only
    kind: Literal["inline", "managed", "aws-managed"] = "inline"
    version_id: str | None = None
    document: PolicyDocument | None = None  # None: could not be read (a gap says why)

    @property
    def label(self) -> str:
        """How evidence names this policy: the ARN, or `role-name/inline-name`."""
        return self.arn or self.name


class Role(BaseModel):
    arn: str
    name: str
    path: str = "/"
    role_id: str | None = None
    trust_policy: PolicyDocument | None = None
    inline_policies: list[NamedPolicy] = Field(default_factory=list)
    attached_policies: list[NamedPolicy] = Field(default_factory=list)
    boundary: NamedPolicy | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    #: False when the role itself could not be read (deleted, or access denied)
    exists: bool = True


class VpcConfig(BaseModel):
    vpc_id: str | None = None
    subnet_ids: list[str] = Field(default_factory=list)
    security_group_ids: list[str] = Field(default_factory=list)
    ipv6_allowed_for_dual_stack: bool = False


class FileSystemConfig(BaseModel):
    arn: str  # EFS access point ARN
    local_mount_path: str
    file_system_arn: str | None = None
    file_system_policy: PolicyDocument | None = None


class Layer(BaseModel):
    arn: str  # layer version ARN
    account: str | None = None
    policy: PolicyDocument | None = None  # layer version policy, when readable


class LoggingConfig(BaseModel):
    log_group: str
    log_format: str | None = None
    custom: bool = False  # LoggingConfig.LogGroup was set explicitly


class FunctionConfig(BaseModel):
    arn: str  # unqualified function ARN
    name: str
    qualifier: str | None = None  # version or alias the user asked for
    version: str | None = None
    runtime: str | None = None
    handler: str | None = None
    package_type: Literal["Zip", "Image"] = "Zip"
    image_uri: str | None = None
    role_arn: str
    kms_key_arn: str | None = None  # customer key for environment variables
    environment: dict[str, str] = Field(default_factory=dict)  # values redacted
    #: Environment.Error from GetFunction ("KMSAccessDeniedException: ..."), when set
    environment_error: str | None = None
    vpc: VpcConfig | None = None
    tracing_mode: str | None = None  # "Active" or "PassThrough"
    dead_letter_target: str | None = None
    logging: LoggingConfig
    layers: list[Layer] = Field(default_factory=list)
    file_systems: list[FileSystemConfig] = Field(default_factory=list)
    state: str | None = None
    state_reason: str | None = None
    state_reason_code: str | None = None
    last_update_status: str | None = None
    last_update_status_reason: str | None = None
    last_update_status_reason_code: str | None = None
    last_modified: str | None = None
    architectures: list[str] = Field(default_factory=list)
    memory_size: int | None = None
    timeout: int | None = None
    tags: dict[str, str] = Field(default_factory=dict)


SourceType = Literal["sqs", "kinesis", "dynamodb", "msk", "kafka", "mq", "docdb", "unknown"]


class EventSource(BaseModel):
    """The source side of an event source mapping, as far as it could be read."""

    arn: str | None = None
    type: SourceType
    policy: PolicyDocument | None = None  # SQS queue policy / Kinesis stream resource policy
    kms_key_arn: str | None = None  # customer key encrypting the source
    attributes: dict[str, str] = Field(default_factory=dict)
    exists: bool | None = None  # None: not read
    #: the source's tags (`aws:ResourceTag/*`); None: not read (read only when a policy
    #: tests resource tags)
    tags: dict[str, str] | None = None


class EventSourceMapping(BaseModel):
    uuid: str
    source: EventSource
    #: the function (possibly qualified) ARN the mapping invokes
    function_arn: str | None = None
    state: str | None = None
    state_transition_reason: str | None = None
    last_processing_result: str | None = None
    batch_size: int | None = None
    enabled: bool = True
    on_failure_destination: str | None = None
    #: self-managed Kafka / MQ / DocumentDB: secrets, VPC, etc. (type, uri) pairs
    source_access_configurations: list[dict[str, str]] = Field(default_factory=list)
    self_managed_endpoints: dict[str, list[str]] = Field(default_factory=dict)
    topics: list[str] = Field(default_factory=list)  # Kafka topics
    queues: list[str] = Field(default_factory=list)  # Amazon MQ queues
    #: customer key encrypting the mapping's filter criteria
    kms_key_arn: str | None = None
    filter_criteria: list[str] = Field(default_factory=list)  # filter patterns
    #: Kafka consumer group id (Amazon MSK / self-managed); None: Lambda's default (UUID)
    consumer_group_id: str | None = None


class Trigger(BaseModel):
    """Something that invokes the function, found by scanning the caller's configuration."""

    service: Literal["s3", "events", "sns", "apigateway", "function-url", "other"]
    principal: str  # service principal (s3.amazonaws.com) or account / IAM ARN
    source_arn: str | None = None  # bucket, rule, topic, API (execute-api ARN pattern)
    source_account: str | None = None
    name: str | None = None  # rule / topic / API name for display
    discovered_by: str = ""  # e.g. "events:ListRuleNamesByTarget"
    detail: dict[str, str] = Field(default_factory=dict)


class FunctionUrl(BaseModel):
    url: str
    auth_type: Literal["NONE", "AWS_IAM"]
    qualifier: str | None = None
    invoke_mode: str | None = None
    cors: dict[str, Any] | None = None


class KmsGrant(BaseModel):
    grantee_principal: str | None = None
    operations: list[str] = Field(default_factory=list)
    retiring_principal: str | None = None
    constraints: dict[str, Any] | None = None


class KmsKey(BaseModel):
    arn: str
    key_manager: str | None = None  # "AWS" or "CUSTOMER"
    key_state: str | None = None
    policy: PolicyDocument | None = None
    grants: list[KmsGrant] = Field(default_factory=list)
    #: the key's tags (`aws:ResourceTag/*`); None: not read
    tags: dict[str, str] | None = None


class DestinationTarget(BaseModel):
    """Where failed or finished asynchronous invocations go."""

    #: esm-on-failure: an event source mapping's on-failure destination
    kind: Literal["dlq", "on-success", "on-failure", "esm-on-failure"]
    arn: str
    service: str  # sqs, sns, lambda, events, s3
    policy: PolicyDocument | None = None  # the target's resource policy, when read
    kms_key_arn: str | None = None
    exists: bool | None = None  # None: not read
    #: the event source mapping (UUID) an esm-on-failure destination belongs to
    mapping_uuid: str | None = None
    #: the target's tags (`aws:ResourceTag/*`); None: not read
    tags: dict[str, str] | None = None


class Secret(BaseModel):
    """A Secrets Manager secret the function's event sources use (never its value)."""

    arn: str
    kms_key_arn: str | None = None
    policy: PolicyDocument | None = None
    exists: bool | None = None  # None: not read


class Subnet(BaseModel):
    id: str
    vpc_id: str | None = None
    availability_zone: str | None = None
    available_ips: int | None = None


class SecurityGroup(BaseModel):
    id: str
    name: str | None = None
    vpc_id: str | None = None


class Network(BaseModel):
    subnets: list[Subnet] = Field(default_factory=list)
    security_groups: list[SecurityGroup] = Field(default_factory=list)
    #: ids in the function's VpcConfig that EC2 says do not exist
    missing_subnet_ids: list[str] = Field(default_factory=list)
    missing_security_group_ids: list[str] = Field(default_factory=list)


class OrgPolicies(BaseModel):
    """SCPs and RCPs on the path from the organization root to the account.

    `scp` / `rcp` are levels from the root down to the account, each the list of policies
    attached there (as CONTRACTS §1). None: not evaluated (no organization reader).
    """

    scp: list[list[NamedPolicy]] | None = None
    rcp: list[list[NamedPolicy]] | None = None
    management_account: str | None = None
    #: target ids from the root down to the account (root, OUs, account), as read
    path: list[str] = Field(default_factory=list)


class LogLine(BaseModel):
    time: datetime
    stream: str | None = None
    message: str


class CloudTrailEvent(BaseModel):
    """A CloudTrail event, normalised by the collector (raw JSON kept for the timeline)."""

    event_id: str
    time: datetime
    name: str
    source: str  # eventSource, e.g. lambda.amazonaws.com
    actor: str | None = None  # userIdentity.arn
    source_ip: str | None = None
    user_agent: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    resources: list[str] = Field(default_factory=list)
    request_parameters: dict[str, Any] | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


class ContainerRepository(BaseModel):
    """The ECR repository of an image function, and its repository policy."""

    arn: str
    registry_id: str
    name: str
    policy: PolicyDocument | None = None  # None: no policy, or not readable (see gaps)


class Snapshot(BaseModel):
    """What was read about one function at one time."""

    schema_version: int = SCHEMA_VERSION
    collected_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    account: str
    region: str
    partition: str = "aws"
    #: who asked (Slack user or CLI user), for session names and audit
    requested_by: str | None = None
    function: FunctionConfig
    resource_policy: PolicyDocument | None = None
    #: resource policies of other qualifiers that triggers invoke (qualified function ARN
    #: -> policy, None when it has none), e.g. an API whose integration targets `:live`
    qualifier_policies: dict[str, PolicyDocument | None] = Field(default_factory=dict)
    role: Role | None = None
    event_source_mappings: list[EventSourceMapping] = Field(default_factory=list)
    triggers: list[Trigger] = Field(default_factory=list)
    function_urls: list[FunctionUrl] = Field(default_factory=list)
    kms_keys: dict[str, KmsKey] = Field(default_factory=dict)  # by key ARN
    destinations: list[DestinationTarget] = Field(default_factory=list)
    secrets: dict[str, Secret] = Field(default_factory=dict)  # by secret ARN
    network: Network | None = None
    organization: OrgPolicies | None = None
    logs: list[LogLine] = Field(default_factory=list)
    cloudtrail: list[CloudTrailEvent] | None = None  # None: not read
    #: the time window logs and CloudTrail were read for
    window_start: datetime | None = None
    window_end: datetime | None = None
    #: whether all buckets/APIs of the region were scanned for triggers
    scanned_triggers: bool = False
    #: roles the function's code was seen assuming (logs, CloudTrail, `--assume`), as read
    assumed_roles: list[Role] = Field(default_factory=list)
    #: the ECR repository of a container image function
    container_repository: ContainerRepository | None = None
    gaps: list[Gap] = Field(default_factory=list)

    def tagged_resource(self, arn: str) -> tuple[bool, dict[str, str] | None]:
        """(whether `arn` is an event source, destination or KMS key this snapshot
        describes, its tags or None when they were not read)."""
        for mapping in self.event_source_mappings:
            if mapping.source.arn == arn:
                return True, mapping.source.tags
        for target in self.destinations:
            if target.arn == arn:
                return True, target.tags
        key = self.kms_keys.get(arn)
        if key is not None:
            return True, key.tags
        return False, None

    def gap_for(self, operation: str, resource: str | None = None) -> Gap | None:
        """The first gap for an operation (and resource, when given)."""
        for gap in self.gaps:
            if gap.operation == operation and (resource is None or gap.resource == resource):
                return gap
        return None

    def dump(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Snapshot:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
