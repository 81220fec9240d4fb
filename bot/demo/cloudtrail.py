"""CloudTrail event history for the demo: moto has no `LookupEvents`, so this answers it.

A small aiohttp endpoint speaking the AWS JSON 1.1 protocol of
`CloudTrail_20131101.LookupEvents`
(https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html):
one lookup attribute, `StartTime`/`EndTime`, newest first, `MaxResults` and `NextToken`.
It serves the records the scenarios declare (who changed the role, the key policy, the
resource policy — and the denials that followed). boto3 reaches it through
`AWS_ENDPOINT_URL_CLOUDTRAIL`, which the demo sets in its own process only.

Records are built with `record()`, shaped like the JSON a trail stores
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
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
_JSON = "application/x-amz-json-1.1"

#: request parameters event history indexes as resources
_DERIVED = (
    ("functionName", "AWS::Lambda::Function"),
    ("roleName", "AWS::IAM::Role"),
    ("roleArn", "AWS::IAM::Role"),
    ("policyArn", "AWS::IAM::Policy"),
    ("keyId", "AWS::KMS::Key"),
)


def record(
    name: str,
    source: str,
    *,
    ago: timedelta,
    account: str,
    actor: str | None = None,
    role_arn: str | None = None,
    invoked_by: str | None = None,
    params: dict[str, Any] | None = None,
    resources: Sequence[tuple[str, str]] = (),
    error: tuple[str, str] | None = None,
    source_ip: str = "203.0.113.5",
    region: str = "us-east-1",
    now: datetime | None = None,
) -> dict[str, Any]:
    """A CloudTrail record `ago` before now. `actor`: an assumed-role session ARN, whose
    role is `role_arn` (give it when the role has a path: session ARNs drop the path);
    `invoked_by`: an AWS service acting on its own (e.g. `lambda.amazonaws.com`)."""
    when = (now or datetime.now(UTC)) - ago
    identity: dict[str, Any]
    if actor is not None:
        role_part = actor.split(":assumed-role/", 1)[-1]
        role, _, session = role_part.partition("/")
        identity = {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLE{abs(hash(role)) % 10**9:09d}:{session}",
            "arn": actor,
            "accountId": account,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": role_arn or f"arn:aws:iam::{account}:role/{role}",
                    "accountId": account,
                    "userName": role,
                }
            },
        }
    else:
        identity = {"type": "AWSService", "invokedBy": invoked_by or source}
    out: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": source_ip if actor else (invoked_by or source),
        "userAgent": "aws-cli/2.17.0 Python/3.11 Linux" if actor else (invoked_by or source),
        "requestParameters": params or {},
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "resources": [{"ARN": arn, "accountId": account, "type": kind} for kind, arn in resources],
    }
    if error is not None:
        out["errorCode"], out["errorMessage"] = error
    return out


def _time(rec: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(rec["eventTime"]).replace("Z", "+00:00")).timestamp()


def _username(rec: dict[str, Any]) -> str | None:
    identity = rec.get("userIdentity") or {}
    if identity.get("type") == "AssumedRole":
        return str(identity.get("arn", "")).rsplit("/", 1)[-1] or None
    value = identity.get("invokedBy")
    return str(value) if value else None


def lookup_event(rec: dict[str, Any]) -> dict[str, Any]:
    """The `Events[]` entry event history returns for a record."""
    found = [
        {"ResourceType": str(r.get("type", "")), "ResourceName": str(r.get("ARN", ""))}
        for r in rec.get("resources") or []
    ]
    params = rec.get("requestParameters") or {}
    for key, kind in _DERIVED:
        value = params.get(key)
        if isinstance(value, str) and value:
            found.append({"ResourceType": kind, "ResourceName": value})
            if key == "roleArn":  # event history lists the role by name too
                found.append({"ResourceType": kind, "ResourceName": value.rsplit("/", 1)[-1]})
    event: dict[str, Any] = {
        "EventId": rec["eventID"],
        "EventName": rec["eventName"],
        "ReadOnly": "true" if rec.get("readOnly") else "false",
        "EventTime": _time(rec),
        "EventSource": rec["eventSource"],
        "Resources": found,
        "CloudTrailEvent": json.dumps(rec),
    }
    name = _username(rec)
    if name:
        event["Username"] = name
    return event


def _matches(event: dict[str, Any], key: str, value: str) -> bool:
    if key in ("ResourceName", "ResourceType"):
        return any(r[key] == value for r in event["Resources"])
    return str(event.get(key)) == value


class DemoCloudTrail:
    """The endpoint; `records` may be extended while it runs."""

    def __init__(self, records: Iterable[dict[str, Any]] = ()) -> None:
        self.records = list(records)
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DemoCloudTrail:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @staticmethod
    def _error(kind: str, message: str) -> web.Response:
        return web.json_response(
            {"__type": kind, "message": message}, status=400, content_type=_JSON
        )

    async def _handle(self, request: web.Request) -> web.Response:
        target = request.headers.get("X-Amz-Target", "")
        if target != TARGET:
            return self._error("UnknownOperationException", f"Unknown operation {target}")
        try:
            body = json.loads(await request.text() or "{}")
        except json.JSONDecodeError:
            return self._error("SerializationException", "the body is not JSON")
        return self.lookup(body)

    def lookup(self, body: dict[str, Any]) -> web.Response:
        attributes = body.get("LookupAttributes") or []
        if len(attributes) > 1:
            return self._error(
                "InvalidLookupAttributesException", "You can only specify one lookup attribute."
            )
        if any(a.get("AttributeKey") not in ATTRIBUTES for a in attributes):
            return self._error("InvalidLookupAttributesException", "Invalid attribute key")
        size = int(body.get("MaxResults") or 50)
        if not 1 <= size <= 50:
            return self._error("InvalidMaxResultsException", "MaxResults must be 1 to 50")
        start, end = body.get("StartTime"), body.get("EndTime")
        events = [
            event
            for event in (lookup_event(r) for r in self.records)
            if (start is None or event["EventTime"] >= float(start))
            and (end is None or event["EventTime"] <= float(end))
            and all(_matches(event, a["AttributeKey"], a["AttributeValue"]) for a in attributes)
        ]
        events.sort(key=lambda e: float(e["EventTime"]), reverse=True)
        offset = 0
        if body.get("NextToken"):
            try:
                offset = int(base64.b64decode(str(body["NextToken"])).decode())
            except ValueError:
                return self._error("InvalidNextTokenException", "Invalid NextToken")
        reply: dict[str, Any] = {"Events": events[offset : offset + size]}
        if offset + size < len(events):
            reply["NextToken"] = base64.b64encode(str(offset + size).encode()).decode()
        return web.json_response(reply, content_type=_JSON)
