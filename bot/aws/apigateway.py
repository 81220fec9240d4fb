"""API Gateway reads (with `scan_triggers`): REST and HTTP API integrations and
authorizers that invoke the function.

The trigger's `source_arn` is the execute-api ARN the Lambda permission must match
(`arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/METHOD/PATH`, stage `*`).
https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from bot.arns import FunctionRef
from bot.aws.reader import Reader
from bot.snapshot import Trigger

MAX_APIS = 200
_PRINCIPAL = "apigateway.amazonaws.com"


def invokes(uri: str | None, ref: FunctionRef) -> str | None:
    """The function ARN an integration/authorizer URI invokes, when it is this function.

    REST: `arn:aws:apigateway:R:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations`;
    HTTP APIs may give the function ARN itself.
    """
    if not uri:
        return None
    target = uri
    if "/functions/" in uri:
        target = uri.split("/functions/", 1)[1].split("/invocations", 1)[0]
    base = ref.unqualified_arn
    if target == base or target.startswith(base + ":"):
        return target
    return None


def execute_api_arn(reader: Reader, api_id: str, method: str, path: str) -> str:
    method = "*" if method in ("ANY", "*") else method
    path = path if path.startswith("/") else "/" + path
    return (
        f"arn:{reader.partition}:execute-api:{reader.region}:{reader.account}:"
        f"{api_id}/*/{method}{path}"
    )


async def read_api_triggers(reader: Reader, ref: FunctionRef) -> list[Trigger]:
    rest, http = await asyncio.gather(_rest_triggers(reader, ref), _http_triggers(reader, ref))
    return rest + http


async def _rest_triggers(reader: Reader, ref: FunctionRef) -> list[Trigger]:
    apis = await reader.pages("apigateway", "GetRestApis", "items", max_items=MAX_APIS)
    found = await asyncio.gather(*(_rest_api(reader, ref, api) for api in apis or []))
    return [t for ts in found for t in ts]


async def _rest_api(reader: Reader, ref: FunctionRef, api: Mapping[str, Any]) -> list[Trigger]:
    api_id = str(api.get("id", ""))
    name = str(api.get("name", api_id))
    resources, authorizers = await asyncio.gather(
        reader.pages(
            "apigateway",
            "GetResources",
            "items",
            resource=api_id,
            restApiId=api_id,
            embed=["methods"],
        ),
        reader.pages("apigateway", "GetAuthorizers", "items", resource=api_id, restApiId=api_id),
    )
    triggers: list[Trigger] = []
    for resource in resources or []:
        path = str(resource.get("path", "/"))
        for method, body in (resource.get("resourceMethods") or {}).items():
            integration = (body or {}).get("methodIntegration")
            if integration is None:
                integration = await reader.call(
                    "apigateway",
                    "GetIntegration",
                    resource=f"{api_id} {method} {path}",
                    missing=("NotFoundException",),
                    restApiId=api_id,
                    resourceId=resource.get("id"),
                    httpMethod=method,
                )
            target = invokes((integration or {}).get("uri"), ref)
            if target is None:
                continue
            triggers.append(
                Trigger(
                    service="apigateway",
                    principal=_PRINCIPAL,
                    source_arn=execute_api_arn(reader, api_id, method, path),
                    source_account=reader.account,
                    name=name,
                    discovered_by="apigateway:GetResources",
                    detail={
                        "api_id": api_id,
                        "api_type": "REST",
                        "method": method,
                        "path": path,
                        "target": target,
                    },
                )
            )
    for authorizer in authorizers or []:
        target = invokes(authorizer.get("authorizerUri"), ref)
        if target is None:
            continue
        auth_id = str(authorizer.get("id", ""))
        triggers.append(
            Trigger(
                service="apigateway",
                principal=_PRINCIPAL,
                source_arn=(
                    f"arn:{reader.partition}:execute-api:{reader.region}:{reader.account}:"
                    f"{api_id}/authorizers/{auth_id}"
                ),
                source_account=reader.account,
                name=f"{name} authorizer {authorizer.get('name', auth_id)}",
                discovered_by="apigateway:GetAuthorizers",
                detail={
                    "api_id": api_id,
                    "api_type": "REST",
                    "authorizer_id": auth_id,
                    "target": target,
                },
            )
        )
    return triggers


async def _http_triggers(reader: Reader, ref: FunctionRef) -> list[Trigger]:
    apis = await reader.pages("apigatewayv2", "GetApis", "Items", max_items=MAX_APIS)
    found = await asyncio.gather(*(_http_api(reader, ref, api) for api in apis or []))
    return [t for ts in found for t in ts]


async def _http_api(reader: Reader, ref: FunctionRef, api: Mapping[str, Any]) -> list[Trigger]:
    api_id = str(api.get("ApiId", ""))
    name = str(api.get("Name", api_id))
    kind = str(api.get("ProtocolType", "HTTP"))
    integrations, routes = await asyncio.gather(
        reader.pages("apigatewayv2", "GetIntegrations", "Items", resource=api_id, ApiId=api_id),
        reader.pages("apigatewayv2", "GetRoutes", "Items", resource=api_id, ApiId=api_id),
    )
    # only authorizers attached to a route can invoke anything: read those
    authorizer_ids = list(
        dict.fromkeys(
            str(r["AuthorizerId"])
            for r in routes or []
            if r.get("AuthorizationType") == "CUSTOM" and r.get("AuthorizerId")
        )
    )
    authorizer_replies = await asyncio.gather(
        *(
            reader.call(
                "apigatewayv2",
                "GetAuthorizer",
                resource=f"{api_id}/authorizers/{a}",
                missing=("NotFoundException",),
                ApiId=api_id,
                AuthorizerId=a,
            )
            for a in authorizer_ids
        )
    )
    authorizers = [r for r in authorizer_replies if r]
    ours = {
        str(i.get("IntegrationId")): target
        for i in integrations or []
        if (target := invokes(i.get("IntegrationUri"), ref)) is not None
    }
    triggers: list[Trigger] = []
    for route in routes or []:
        integration_id = str(route.get("Target", "")).removeprefix("integrations/")
        if integration_id not in ours:
            continue
        key = str(route.get("RouteKey", "$default"))
        method, _, path = key.partition(" ")
        if kind == "WEBSOCKET" or not path:
            source = (
                f"arn:{reader.partition}:execute-api:{reader.region}:{reader.account}:"
                f"{api_id}/*/{key}"
            )
        else:
            source = execute_api_arn(reader, api_id, method, path)
        triggers.append(
            Trigger(
                service="apigateway",
                principal=_PRINCIPAL,
                source_arn=source,
                source_account=reader.account,
                name=name,
                discovered_by="apigateway:GetRoutes",
                detail={
                    "api_id": api_id,
                    "api_type": kind,
                    "route": key,
                    "target": ours[integration_id],
                },
            )
        )
    for authorizer in authorizers or []:
        target = invokes(authorizer.get("AuthorizerUri"), ref)
        if target is None:
            continue
        auth_id = str(authorizer.get("AuthorizerId", ""))
        triggers.append(
            Trigger(
                service="apigateway",
                principal=_PRINCIPAL,
                source_arn=(
                    f"arn:{reader.partition}:execute-api:{reader.region}:{reader.account}:"
                    f"{api_id}/authorizers/{auth_id}"
                ),
                source_account=reader.account,
                name=f"{name} authorizer {authorizer.get('Name', auth_id)}",
                discovered_by="apigateway:GetAuthorizers",
                detail={
                    "api_id": api_id,
                    "api_type": kind,
                    "authorizer_id": auth_id,
                    "target": target,
                },
            )
        )
    return triggers
