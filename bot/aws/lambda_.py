"""Lambda reads: configuration, resource policy, mappings, URLs, destinations, layers.

https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html
https://docs.aws.amazon.com/lambda/latest/api/API_GetPolicy.html
https://docs.aws.amazon.com/lambda/latest/api/API_ListEventSourceMappings.html
https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionUrlConfig.html
https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionEventInvokeConfig.html
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from botocore.exceptions import ClientError

from bot.arns import FunctionRef, account_of, log_group_name, parse_arn
from bot.aws.access import describe, error_code
from bot.aws.errors import TRANSPORT_ERRORS, AwsUnavailable, FunctionNotFound
from bot.aws.reader import NOT_FOUND, Reader
from bot.snapshot import (
    REDACTED,
    DestinationTarget,
    EventSource,
    EventSourceMapping,
    FileSystemConfig,
    FunctionConfig,
    FunctionUrl,
    Gap,
    Layer,
    LoggingConfig,
    PolicyDocument,
    SourceType,
    VpcConfig,
)

DestinationKind = Literal["dlq", "on-success", "on-failure", "esm-on-failure"]
_NOT_FOUND = ("ResourceNotFoundException",)
#: environment variables whose values are scrubbed from logs and CloudTrail text: names
#: that say "secret". Others (TABLE_NAME, QUEUE_URL, STAGE) name resources that appear in
#: AccessDenied messages and must stay readable; ARNs are never secrets.
_SECRET_NAME = re.compile(
    r"pass|pwd|secret|token|credential|private|api_?key|access_?key|auth|cookie|signing|"
    r"salt|dsn|conn(ection)?_?str",
    re.IGNORECASE,
)
#: aliases can carry their own function URL; versions cannot
_ALIAS = re.compile(r"^(?!\$LATEST$)(?![0-9]+$)[A-Za-z0-9_-]+$")


async def read_function(reader: Reader, ref: FunctionRef) -> FunctionConfig:
    """GetFunction; raises FunctionNotFound, or AwsUnavailable when it cannot be read."""
    function, _ = await read_function_and_secrets(reader, ref)
    return function


async def read_function_and_secrets(
    reader: Reader, ref: FunctionRef
) -> tuple[FunctionConfig, list[str]]:
    """GetFunction, and the environment variable values (for scrubbing what else is
    read, e.g. log lines that print them; the caller must not store them)."""
    params: dict[str, Any] = {"FunctionName": ref.unqualified_arn}
    if ref.qualifier:
        params["Qualifier"] = ref.qualifier
    try:
        client = await reader.access.client("lambda", account=reader.account, region=reader.region)
        reply = await reader.access.call(client, "GetFunction", **params)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            raise FunctionNotFound(ref.name, reader.account, reader.region, ref.qualifier) from exc
        raise AwsUnavailable(f"cannot read function {ref.arn}: {describe(exc)}") from exc
    except TRANSPORT_ERRORS as exc:
        raise AwsUnavailable(f"cannot read function {ref.arn}: {describe(exc)}") from exc
    variables = ((reply.get("Configuration") or {}).get("Environment") or {}).get("Variables")
    values = [
        str(value)
        for name, value in (variables or {}).items()
        if _SECRET_NAME.search(str(name)) and not str(value).startswith("arn:")
    ]
    return function_config(reply, ref), values


def function_config(reply: Mapping[str, Any], ref: FunctionRef) -> FunctionConfig:
    """The snapshot's FunctionConfig from a GetFunction reply (env values redacted)."""
    config: Mapping[str, Any] = reply.get("Configuration") or {}
    code: Mapping[str, Any] = reply.get("Code") or {}
    environment: Mapping[str, Any] = config.get("Environment") or {}
    env_error: Mapping[str, Any] = environment.get("Error") or {}
    vpc: Mapping[str, Any] = config.get("VpcConfig") or {}
    logging: Mapping[str, Any] = config.get("LoggingConfig") or {}
    name = config.get("FunctionName") or ref.name
    default_group = log_group_name(name)
    group = logging.get("LogGroup") or default_group
    return FunctionConfig(
        arn=ref.unqualified_arn,
        name=name,
        qualifier=ref.qualifier,
        version=config.get("Version"),
        runtime=config.get("Runtime"),
        handler=config.get("Handler"),
        package_type="Image" if config.get("PackageType") == "Image" else "Zip",
        image_uri=code.get("ImageUri") or code.get("ResolvedImageUri"),
        role_arn=config.get("Role") or "",
        kms_key_arn=config.get("KMSKeyArn") or None,
        environment=dict.fromkeys((environment.get("Variables") or {}), REDACTED),
        environment_error=(
            f"{env_error.get('ErrorCode')}: {env_error.get('Message')}" if env_error else None
        ),
        vpc=(
            VpcConfig(
                vpc_id=vpc.get("VpcId") or None,
                subnet_ids=list(vpc.get("SubnetIds") or []),
                security_group_ids=list(vpc.get("SecurityGroupIds") or []),
                ipv6_allowed_for_dual_stack=bool(vpc.get("Ipv6AllowedForDualStack")),
            )
            if vpc.get("SubnetIds") or vpc.get("SecurityGroupIds")
            else None
        ),
        tracing_mode=(config.get("TracingConfig") or {}).get("Mode"),
        dead_letter_target=(config.get("DeadLetterConfig") or {}).get("TargetArn") or None,
        logging=LoggingConfig(
            log_group=group,
            log_format=logging.get("LogFormat"),
            custom=group != default_group,
        ),
        layers=[
            Layer(arn=layer["Arn"], account=account_of(layer["Arn"]))
            for layer in config.get("Layers") or []
            if layer.get("Arn")
        ],
        file_systems=[
            FileSystemConfig(arn=fs["Arn"], local_mount_path=fs.get("LocalMountPath", ""))
            for fs in config.get("FileSystemConfigs") or []
            if fs.get("Arn")
        ],
        state=config.get("State"),
        state_reason=config.get("StateReason"),
        state_reason_code=config.get("StateReasonCode"),
        last_update_status=config.get("LastUpdateStatus"),
        last_update_status_reason=config.get("LastUpdateStatusReason"),
        last_update_status_reason_code=config.get("LastUpdateStatusReasonCode"),
        last_modified=_text(config.get("LastModified")),
        architectures=list(config.get("Architectures") or []),
        memory_size=config.get("MemorySize"),
        timeout=config.get("Timeout"),
        tags=dict(reply.get("Tags") or {}),
    )


async def read_resource_policy(reader: Reader, ref: FunctionRef) -> PolicyDocument | None:
    """GetPolicy for the function (or the qualifier asked); none is None, not a gap."""
    params: dict[str, Any] = {"FunctionName": ref.unqualified_arn}
    if ref.qualifier:
        params["Qualifier"] = ref.qualifier
    reply = await reader.call("lambda", "GetPolicy", resource=ref.arn, missing=_NOT_FOUND, **params)
    if reply is None or reply is NOT_FOUND:
        return None
    return parse_policy_text(reader, reply.get("Policy"), "lambda:GetPolicy", ref.arn)


async def read_event_source_mappings(
    reader: Reader, ref: FunctionRef
) -> list[EventSourceMapping] | None:
    """Mappings of the function (any qualifier); None when they could not be listed.

    Lists the region's mappings without a FunctionName filter and keeps those whose
    FunctionArn is this function: the filter matches only the exact name form it was
    created with in some implementations, and this also finds mappings on aliases.
    """
    items = await reader.pages(
        "lambda", "ListEventSourceMappings", "EventSourceMappings", resource=ref.arn
    )
    if items is None:
        return None
    base = ref.unqualified_arn
    mappings = []
    for item in items:
        target = str(item.get("FunctionArn") or "")
        if target != base and not target.startswith(base + ":"):
            continue
        mappings.append(event_source_mapping(item))
    return mappings


def source_type(arn: str | None, item: Mapping[str, Any] | None = None) -> SourceType:
    """The kind of event source from its ARN (self-managed Kafka has none)."""
    if not arn:
        if item is not None and (item.get("SelfManagedEventSource") or {}).get("Endpoints"):
            return "kafka"
        return "unknown"
    try:
        parsed = parse_arn(arn)
    except ValueError:
        return "unknown"
    if parsed.service == "sqs":
        return "sqs"
    if parsed.service == "kinesis":
        return "kinesis"
    if parsed.service == "dynamodb":
        return "dynamodb"
    if parsed.service == "kafka":
        return "msk"
    if parsed.service == "mq":
        return "mq"
    if parsed.service == "rds":
        return "docdb"
    return "unknown"


def event_source_mapping(item: Mapping[str, Any]) -> EventSourceMapping:
    source_arn = item.get("EventSourceArn") or None
    state = item.get("State")
    on_failure = ((item.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    endpoints = (item.get("SelfManagedEventSource") or {}).get("Endpoints") or {}
    return EventSourceMapping(
        uuid=item["UUID"],
        function_arn=item.get("FunctionArn"),
        source=EventSource(arn=source_arn, type=source_type(source_arn, item)),
        state=state,
        state_transition_reason=item.get("StateTransitionReason"),
        last_processing_result=item.get("LastProcessingResult"),
        batch_size=item.get("BatchSize"),
        enabled=state not in ("Disabled", "Disabling"),
        on_failure_destination=on_failure or None,
        source_access_configurations=[
            {"type": str(c.get("Type", "")), "uri": str(c.get("URI", ""))}
            for c in item.get("SourceAccessConfigurations") or []
        ],
        self_managed_endpoints={k: list(v) for k, v in endpoints.items()},
        topics=list(item.get("Topics") or []),
        queues=list(item.get("Queues") or []),
        kms_key_arn=item.get("KMSKeyArn") or None,
        consumer_group_id=(
            (item.get("AmazonManagedKafkaEventSourceConfig") or {}).get("ConsumerGroupId")
            or (item.get("SelfManagedKafkaEventSourceConfig") or {}).get("ConsumerGroupId")
            or None
        ),
        filter_criteria=[
            str(f.get("Pattern", ""))
            for f in (item.get("FilterCriteria") or {}).get("Filters") or []
        ],
    )


async def read_function_urls(reader: Reader, ref: FunctionRef) -> list[FunctionUrl] | None:
    """The function URL of the function and of the alias asked for (at most one each).

    GetFunctionUrlConfig rather than ListFunctionUrlConfigs: one call answers for the
    qualifier that matters, and it is also what local emulators implement.
    """
    qualifiers: list[str | None] = [None]
    if ref.qualifier and _ALIAS.match(ref.qualifier):
        qualifiers.append(ref.qualifier)
    urls: list[FunctionUrl] = []
    failed = False
    for qualifier in qualifiers:
        params: dict[str, Any] = {"FunctionName": ref.unqualified_arn}
        if qualifier:
            params["Qualifier"] = qualifier
        resource = f"{ref.unqualified_arn}:{qualifier}" if qualifier else ref.unqualified_arn
        reply = await reader.call(
            "lambda", "GetFunctionUrlConfig", resource=resource, missing=_NOT_FOUND, **params
        )
        if reply is None:
            failed = True
            continue
        if reply is NOT_FOUND or not reply.get("FunctionUrl"):
            continue
        answered_for = str(reply.get("FunctionArn") or "")
        if qualifier and answered_for and not answered_for.endswith(f":{qualifier}"):
            continue  # an implementation that ignores Qualifier answered for the function
        auth = reply.get("AuthType")
        urls.append(
            FunctionUrl(
                url=reply["FunctionUrl"],
                auth_type="NONE" if auth == "NONE" else "AWS_IAM",
                qualifier=qualifier,
                invoke_mode=reply.get("InvokeMode"),
                cors=reply.get("Cors") or None,
            )
        )
    return None if failed and not urls else urls


async def read_destinations(
    reader: Reader, ref: FunctionRef, function: FunctionConfig
) -> list[DestinationTarget]:
    """The DLQ and the asynchronous-invocation destinations (targets' policies not yet read)."""
    targets: list[DestinationTarget] = []
    if function.dead_letter_target:
        targets.append(_destination("dlq", function.dead_letter_target))
    params: dict[str, Any] = {"FunctionName": ref.unqualified_arn}
    if ref.qualifier:
        params["Qualifier"] = ref.qualifier
    reply = await reader.call(
        "lambda", "GetFunctionEventInvokeConfig", resource=ref.arn, missing=_NOT_FOUND, **params
    )
    if reply is None or reply is NOT_FOUND:
        return targets
    config = reply.get("DestinationConfig") or {}
    success = (config.get("OnSuccess") or {}).get("Destination")
    failure = (config.get("OnFailure") or {}).get("Destination")
    if success:
        targets.append(_destination("on-success", success))
    if failure:
        targets.append(_destination("on-failure", failure))
    return targets


def esm_destination(mapping: EventSourceMapping) -> DestinationTarget:
    """An event source mapping's on-failure destination (its policy not yet read)."""
    target = _destination("esm-on-failure", mapping.on_failure_destination or "")
    return target.model_copy(update={"mapping_uuid": mapping.uuid})


def _destination(kind: DestinationKind, arn: str) -> DestinationTarget:
    try:
        service = parse_arn(arn).service
    except ValueError:
        service = "unknown"
    return DestinationTarget(kind=kind, arn=arn, service=service)


async def read_layer_policies(reader: Reader, function: FunctionConfig) -> list[Layer]:
    """Layer version policies of layers owned by other accounts (may well be a gap)."""
    layers = []
    for layer in function.layers:
        if layer.account is None or layer.account == reader.account:
            layers.append(layer)
            continue
        name, _, version = layer.arn.rpartition(":")
        if not version.isdigit():
            layers.append(layer)
            continue
        reply = await reader.call(
            "lambda",
            "GetLayerVersionPolicy",
            resource=layer.arn,
            missing=_NOT_FOUND,
            LayerName=name,
            VersionNumber=int(version),
        )
        policy = None
        if reply is not None and reply is not NOT_FOUND:
            policy = parse_policy_text(
                reader, reply.get("Policy"), "lambda:GetLayerVersionPolicy", layer.arn
            )
        layers.append(layer.model_copy(update={"policy": policy}))
    return layers


def parse_policy_text(
    reader: Reader, text: Any, operation: str, resource: str | None
) -> PolicyDocument | None:
    """A policy document from the JSON string AWS returned; unreadable JSON is a gap."""
    if text is None or text == "":
        return None
    if isinstance(text, dict):
        return text
    try:
        document = json.loads(text)
    except (TypeError, ValueError) as exc:
        reader.gaps.append(
            Gap(operation=operation, resource=resource, error=f"policy is not JSON: {exc}")
        )
        return None
    if not isinstance(document, dict):
        reader.gaps.append(
            Gap(operation=operation, resource=resource, error="policy is not a JSON object")
        )
        return None
    return document or None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
