"""A second, independent CloudTrail event history endpoint, written from the API reference.

`fake_cloudtrail.FakeCloudTrail` derives lookup resources the way lambda-why expects them;
this one is written the way an outside tester would: every record carries the `Resources`
event history would list for it (given with the record, else derived from the request by
service, as the console's resource types show them), and the server applies the documented
rules of `LookupEvents`
(https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html):

- AWS JSON 1.1: `POST /`, `Content-Type: application/x-amz-json-1.1`,
  `X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents`,
  errors as `{"__type": ..., "message": ...}` with HTTP 400;
- at most one `LookupAttributes` entry (`InvalidLookupAttributesException`), `MaxResults`
  1..50 (`InvalidMaxResultsException`), `StartTime` <= `EndTime`
  (`InvalidTimeRangeException`), an opaque `NextToken` valid only for the same query
  (`InvalidNextTokenException`), newest first, `EventTime` in epoch seconds;
- `regional`: only the events recorded in the region of the request's SigV4 scope (IAM,
  STS global and Organizations events are recorded in us-east-1);
- `throttle_every`: every n-th request is refused with `ThrottlingException`;
  `deny`: every request is refused with `AccessDeniedException`; `require_attribute`:
  a lookup without an attribute is refused (an endpoint that only filters).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

TARGET_PREFIX = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
JSON_11 = "application/x-amz-json-1.1"
_SCOPE = re.compile(r"Credential=(?P<key>[^/]+)/\d{8}/(?P<region>[^/]+)/cloudtrail/aws4_request")
_KEYS = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)

#: request parameter -> resource type, per event source (what event history lists)
_PARAM_TYPES: dict[str, tuple[tuple[str, str], ...]] = {
    "lambda.amazonaws.com": (("functionName", "AWS::Lambda::Function"),),
    "iam.amazonaws.com": (
        ("roleName", "AWS::IAM::Role"),
        ("policyArn", "AWS::IAM::Policy"),
        ("permissionsBoundary", "AWS::IAM::Policy"),
    ),
    "kms.amazonaws.com": (("keyId", "AWS::KMS::Key"),),
    "sqs.amazonaws.com": (("queueUrl", "AWS::SQS::Queue"),),
    "sns.amazonaws.com": (("topicArn", "AWS::SNS::Topic"),),
    "s3.amazonaws.com": (("bucketName", "AWS::S3::Bucket"),),
    "ec2.amazonaws.com": (
        ("groupId", "AWS::EC2::SecurityGroup"),
        ("subnetId", "AWS::EC2::Subnet"),
    ),
    "sts.amazonaws.com": (("roleArn", "AWS::IAM::Role"),),
    "organizations.amazonaws.com": (
        ("policyId", "AWS::Organizations::Policy"),
        ("targetId", "AWS::Organizations::Account"),
    ),
}


@dataclass
class Entry:
    """One stored event: the record and the resources event history lists for it."""

    record: dict[str, Any]
    resources: list[tuple[str, str]]

    @property
    def time(self) -> float:
        text = str(self.record["eventTime"]).replace("Z", "+00:00")
        return datetime.fromisoformat(text).timestamp()

    def username(self) -> str | None:
        identity = self.record.get("userIdentity") or {}
        kind = identity.get("type")
        if kind == "AssumedRole":
            return str(identity.get("arn", "")).rsplit("/", 1)[-1] or None
        if kind == "IAMUser":
            return identity.get("userName")
        if kind == "Root":
            return "root"
        if kind == "AWSService":
            return identity.get("invokedBy")
        return None

    def wire(self) -> dict[str, Any]:
        identity = self.record.get("userIdentity") or {}
        event: dict[str, Any] = {
            "EventId": self.record["eventID"],
            "EventName": self.record["eventName"],
            "ReadOnly": "true" if self.record.get("readOnly") else "false",
            "EventTime": self.time,
            "EventSource": self.record["eventSource"],
            "Resources": [{"ResourceType": t, "ResourceName": n} for t, n in self.resources],
            "CloudTrailEvent": json.dumps(self.record),
        }
        if identity.get("accessKeyId"):
            event["AccessKeyId"] = identity["accessKeyId"]
        name = self.username()
        if name:
            event["Username"] = name
        return event

    def matches(self, key: str, value: str) -> bool:
        if key == "ResourceName":
            return any(n == value for _, n in self.resources)
        if key == "ResourceType":
            return any(t == value for t, _ in self.resources)
        wire = self.wire()
        return str(wire.get(key)) == value


def derived_resources(record: dict[str, Any]) -> list[tuple[str, str]]:
    out = [
        (str(r.get("type") or ""), str(r["ARN"]))
        for r in record.get("resources") or []
        if isinstance(r, dict) and r.get("ARN")
    ]
    params = record.get("requestParameters") or {}
    for key, kind in _PARAM_TYPES.get(str(record.get("eventSource")), ()):
        value = params.get(key)
        if isinstance(value, str) and value and (kind, value) not in out:
            out.append((kind, value))
    return out


class EventHistory:
    """The endpoint; `requests` keeps (region, body) of every request, `signed` also the
    access key id that signed it."""

    def __init__(
        self,
        records: Iterable[dict[str, Any] | tuple[dict[str, Any], list[tuple[str, str]]]] = (),
        *,
        regional: bool = True,
        throttle_every: int = 0,
        deny: bool = False,
        require_attribute: bool = False,
    ) -> None:
        self.entries: list[Entry] = []
        for item in records:
            if isinstance(item, tuple):
                self.entries.append(Entry(item[0], item[1]))
            else:
                self.entries.append(Entry(item, derived_resources(item)))
        self.regional = regional
        self.throttle_every = throttle_every
        self.deny = deny
        self.require_attribute = require_attribute
        self.requests: list[tuple[str, dict[str, Any]]] = []
        #: (region, access key id, body) of every request
        self.signed: list[tuple[str, str, dict[str, Any]]] = []
        self.throttled = 0
        self._tokens: dict[str, tuple[str, int]] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @staticmethod
    def error(kind: str, message: str) -> web.Response:
        body = json.dumps({"__type": kind, "message": message})
        return web.Response(status=400, text=body, content_type=JSON_11)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.content_type != JSON_11:
            return self.error("SerializationException", "expected application/x-amz-json-1.1")
        target = request.headers.get("X-Amz-Target", "")
        if not target.startswith(TARGET_PREFIX):
            return self.error("UnknownOperationException", f"unknown target {target}")
        operation = target[len(TARGET_PREFIX) :]
        scope = _SCOPE.search(request.headers.get("Authorization", ""))
        if scope is None:
            return self.error("MissingAuthenticationTokenException", "request is not signed")
        region = scope.group("region")
        body = json.loads(await request.text() or "{}")
        self.requests.append((region, body))
        self.signed.append((region, scope.group("key"), body))
        if operation != "LookupEvents":
            return self.error("UnknownOperationException", f"unknown operation {operation}")
        if self.deny:
            return self.error(
                "AccessDeniedException",
                "User: arn:aws:iam::123456789012:user/lambda-why is not authorized to perform: "
                "cloudtrail:LookupEvents because no identity-based policy allows the "
                "cloudtrail:LookupEvents action",
            )
        if self.throttle_every and len(self.requests) % self.throttle_every == 0:
            self.throttled += 1
            return self.error("ThrottlingException", "Rate exceeded")
        return self._lookup(region, body)

    def _lookup(self, region: str, body: dict[str, Any]) -> web.Response:
        attributes = body.get("LookupAttributes") or []
        if self.require_attribute and not attributes:
            return self.error("ValidationException", "LookupAttributes is required")
        if len(attributes) > 1:
            return self.error(
                "InvalidLookupAttributesException", "Only one lookup attribute is allowed."
            )
        for attribute in attributes:
            if attribute.get("AttributeKey") not in _KEYS:
                return self.error("InvalidLookupAttributesException", "invalid AttributeKey")
        size = body.get("MaxResults", 50)
        if not isinstance(size, int) or not 1 <= size <= 50:
            return self.error("InvalidMaxResultsException", "MaxResults must be 1..50")
        start, end = body.get("StartTime"), body.get("EndTime")
        if start is not None and end is not None and start > end:
            return self.error("InvalidTimeRangeException", "StartTime is after EndTime")
        query = json.dumps([region, attributes, start, end], sort_keys=True)
        offset = 0
        if body.get("NextToken"):
            stored = self._tokens.get(str(body["NextToken"]))
            if stored is None or stored[0] != query:
                return self.error("InvalidNextTokenException", "invalid NextToken")
            offset = stored[1]
        found = [
            e
            for e in self.entries
            if (not self.regional or e.record.get("awsRegion") == region)
            and (start is None or e.time >= start)
            and (end is None or e.time <= end)
            and all(e.matches(a["AttributeKey"], a["AttributeValue"]) for a in attributes)
        ]
        found.sort(key=lambda e: e.time, reverse=True)
        page = found[offset : offset + size]
        reply: dict[str, Any] = {"Events": [e.wire() for e in page]}
        if offset + size < len(found):
            token = secrets.token_urlsafe(24)
            self._tokens[token] = (query, offset + size)
            reply["NextToken"] = token
        return web.Response(text=json.dumps(reply), content_type=JSON_11)
