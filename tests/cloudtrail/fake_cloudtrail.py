"""A small fake CloudTrail endpoint: `LookupEvents` over the AWS JSON 1.1 protocol.

Seeded with CloudTrail records (the JSON objects a trail stores); answers
`X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents` the way
event history does: one lookup attribute, StartTime/EndTime, newest first, MaxResults (≤ 50)
and NextToken paging, events of the region in the request's SigV4 credential scope only
(IAM events live in us-east-1). `Events[].CloudTrailEvent` is the record as a JSON string;
`Username` and `Resources` are derived as CloudTrail does (session name for assumed roles;
function, role, policy and key names from the request).

Point boto3 at it with `AWS_ENDPOINT_URL_CLOUDTRAIL=<url>`; run standalone with
`python -m tests.cloudtrail.fake_cloudtrail --events records.json [--port N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/cloudtrail/aws4_request")
ATTRIBUTES = {
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
}


def _time(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(record["eventTime"]).replace("Z", "+00:00"))


def username(record: dict[str, Any]) -> str | None:
    identity = record.get("userIdentity") or {}
    kind = identity.get("type")
    if kind == "AssumedRole":
        return str(identity.get("arn", "")).rsplit("/", 1)[-1] or None
    if kind == "IAMUser":
        return identity.get("userName")
    if kind == "Root":
        return "root"
    return identity.get("invokedBy") or identity.get("userName")


def resources(record: dict[str, Any]) -> list[dict[str, str]]:
    """Lookup `Resources` as event history derives them."""
    out: list[dict[str, str]] = []
    for res in record.get("resources") or []:
        out.append({"ResourceType": res.get("type", ""), "ResourceName": res.get("ARN", "")})
    params = record.get("requestParameters") or {}
    derived = [
        ("functionName", "AWS::Lambda::Function"),
        ("roleName", "AWS::IAM::Role"),
        ("policyArn", "AWS::IAM::Policy"),
        ("keyId", "AWS::KMS::Key"),
        ("subnetId", "AWS::EC2::Subnet"),
        ("secretId", "AWS::SecretsManager::Secret"),
    ]
    for key, kind in derived:
        value = params.get(key)
        if isinstance(value, str) and value:
            out.append({"ResourceType": kind, "ResourceName": value})
    return out


def lookup_event(record: dict[str, Any]) -> dict[str, Any]:
    """One `Events[]` entry (wire form: EventTime in epoch seconds)."""
    event: dict[str, Any] = {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": "true" if record.get("readOnly") else "false",
        "EventTime": _time(record).timestamp(),
        "EventSource": record["eventSource"],
        "Resources": resources(record),
        "CloudTrailEvent": json.dumps(record),
    }
    key = (record.get("userIdentity") or {}).get("accessKeyId")
    if key:
        event["AccessKeyId"] = key
    name = username(record)
    if name:
        event["Username"] = name
    return event


def _matches(event: dict[str, Any], key: str, value: str) -> bool:
    if key == "ResourceName":
        return any(r["ResourceName"] == value for r in event["Resources"])
    if key == "ResourceType":
        return any(r["ResourceType"] == value for r in event["Resources"])
    return str(event.get(key)) == value


class FakeCloudTrail:
    """The fake endpoint. `calls` records every request (region, target, body)."""

    def __init__(
        self,
        records: Iterable[dict[str, Any]] = (),
        *,
        throttle_first: int = 0,
        deny: bool = False,
        indexed: bool = True,
        reject_unfiltered: bool = False,
    ) -> None:
        self.records = list(records)
        self.throttle_first = throttle_first
        self.deny = deny
        #: False: no `Resources` (ResourceName lookups find nothing), as for events whose
        #: resources event history does not index
        self.indexed = indexed
        #: True: refuse lookups without an attribute (an endpoint that only filters)
        self.reject_unfiltered = reject_unfiltered
        self.calls: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/", self._handle)
        return app

    async def start(self, port: int = 0) -> str:
        self._runner = web.AppRunner(self.app())
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @staticmethod
    def _error(kind: str, message: str, status: int = 400) -> web.Response:
        return web.json_response(
            {"__type": kind, "message": message},
            status=status,
            content_type="application/x-amz-json-1.1",
        )

    async def _handle(self, request: web.Request) -> web.Response:
        target = request.headers.get("X-Amz-Target", "")
        body = json.loads(await request.text() or "{}")
        scope = _SCOPE.search(request.headers.get("Authorization", ""))
        region = scope.group("region") if scope else "us-east-1"
        self.calls.append({"target": target, "region": region, "body": body})
        if target != TARGET:
            return self._error("UnknownOperationException", f"Unknown operation {target}")
        if self.deny:
            return self._error(
                "AccessDeniedException",
                "User: arn:aws:sts::111111111111:assumed-role/LambdaWhyReadOnly/lambda-why is "
                "not authorized to perform: cloudtrail:LookupEvents because no identity-based "
                "policy allows the cloudtrail:LookupEvents action",
            )
        if self.throttle_first > 0:
            self.throttle_first -= 1
            return self._error("ThrottlingException", "Rate exceeded")
        return self._lookup(body, region)

    def _lookup(self, body: dict[str, Any], region: str) -> web.Response:
        attributes = body.get("LookupAttributes") or []
        if self.reject_unfiltered and not attributes:
            return self._error("ValidationException", "LookupAttributes is required")
        if len(attributes) > 1:
            return self._error(
                "InvalidLookupAttributesException", "You can only specify one lookup attribute."
            )
        for attr in attributes:
            if attr.get("AttributeKey") not in ATTRIBUTES:
                return self._error(
                    "InvalidLookupAttributesException",
                    f"Invalid attribute key {attr.get('AttributeKey')}",
                )
        max_results = int(body.get("MaxResults") or 50)
        if not 1 <= max_results <= 50:
            return self._error("InvalidMaxResultsException", "MaxResults must be 1 to 50")
        start = body.get("StartTime")
        end = body.get("EndTime")
        if start is not None and end is not None and start > end:
            return self._error("InvalidTimeRangeException", "StartTime is after EndTime")
        events = []
        for record in self.records:
            if record.get("awsRegion", "us-east-1") != region:
                continue
            stamp = _time(record).timestamp()
            if (start is not None and stamp < start) or (end is not None and stamp > end):
                continue
            event = lookup_event(record)
            if not self.indexed:
                event["Resources"] = []
            if all(_matches(event, a["AttributeKey"], a["AttributeValue"]) for a in attributes):
                events.append(event)
        events.sort(key=lambda e: e["EventTime"], reverse=True)
        offset = 0
        if body.get("NextToken"):
            try:
                offset = int(base64.b64decode(body["NextToken"]).decode())
            except ValueError:
                return self._error("InvalidNextTokenException", "Invalid NextToken")
        page = events[offset : offset + max_results]
        out: dict[str, Any] = {"Events": page}
        if offset + max_results < len(events):
            out["NextToken"] = base64.b64encode(str(offset + max_results).encode()).decode()
        return web.json_response(out, content_type="application/x-amz-json-1.1")


async def _serve(records: list[dict[str, Any]], port: int) -> None:
    fake = FakeCloudTrail(records)
    url = await fake.start(port)
    print(url, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=Path, required=True, help="JSON list of records")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    records = json.loads(args.events.read_text(encoding="utf-8"))
    asyncio.run(_serve(records, args.port))


if __name__ == "__main__":
    main()
