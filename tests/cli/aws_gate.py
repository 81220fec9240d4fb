"""A gate in front of a moto server: records every AWS request, and refuses chosen ones
the way IAM does (AccessDenied), so a real `lambda-why` process can be tested against
denials moto does not enforce.

Requests are forwarded unchanged to moto. The operation is read from the request as AWS
reads it: the SigV4 credential scope names the service, then `X-Amz-Target` (JSON
protocols), `Action=` (query protocols: STS, IAM, EC2, SNS) or, for Lambda's REST API, the
method and path. A refused request gets the error shape of its protocol
(https://smithy.io/2.0/aws/protocols/index.html), which botocore parses into a
`ClientError` with code `AccessDenied` / `AccessDeniedException`.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

_SCOPE = re.compile(r"Credential=(?P<key>[^/]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/")
#: Lambda REST operations lambda-why sends (method, path) -> operation
_LAMBDA_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("GET", re.compile(r"^/2015-03-31/functions/[^/]+/policy/?$"), "GetPolicy"),
    ("GET", re.compile(r"^/2015-03-31/functions/[^/]+/?$"), "GetFunction"),
    ("GET", re.compile(r"^/2015-03-31/functions/[^/]+/aliases/?$"), "ListAliases"),
    ("GET", re.compile(r"^/2015-03-31/functions/[^/]+/versions/?$"), "ListVersionsByFunction"),
    ("GET", re.compile(r"^/2015-03-31/event-source-mappings/?$"), "ListEventSourceMappings"),
    ("GET", re.compile(r"^/2021-10-31/functions/[^/]+/urls/?$"), "ListFunctionUrlConfigs"),
    ("GET", re.compile(r"^/2021-10-31/functions/[^/]+/url/?$"), "GetFunctionUrlConfig"),
)


@dataclass(frozen=True)
class Seen:
    """One request that reached the gate."""

    service: str
    operation: str
    access_key: str
    params: dict[str, str]
    denied: bool


#: decides whether to refuse a request
Rule = Callable[[Seen], bool]


@dataclass
class AwsGate:
    upstream: str
    #: `service:Operation` names to refuse (as IAM names them, e.g. `sts:AssumeRole`)
    deny: set[str] = field(default_factory=set)
    #: refuse a request when any rule says so (in addition to `deny`)
    rules: list[Rule] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, operation: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if f"{s.service}:{s.operation}" == operation]

    def clear(self) -> None:
        with self._lock:
            self.seen.clear()
        self.deny.clear()
        self.rules.clear()

    def refuse(self, seen: Seen) -> bool:
        return f"{seen.service}:{seen.operation}" in self.deny or any(r(seen) for r in self.rules)

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)


def identify(
    method: str, path: str, headers: Any, body: bytes
) -> tuple[str, str, str, dict[str, str]]:
    """(service, operation, access key id, query-protocol params) of one request."""
    scope = _SCOPE.search(headers.get("Authorization", ""))
    service = scope["service"] if scope else "?"
    key = scope["key"] if scope else ""
    params: dict[str, str] = {}
    target = headers.get("X-Amz-Target")
    if target:
        return service, target.rsplit(".", 1)[-1], key, params
    parts = urlsplit(path)
    form = parse_qs(parts.query)
    if "x-www-form-urlencoded" in headers.get("Content-Type", ""):
        form.update(parse_qs(body.decode("utf-8", "replace")))
    params = {k: v[0] for k, v in form.items()}
    if "Action" in params:
        return service, params["Action"], key, params
    if service == "lambda":
        for verb, pattern, name in _LAMBDA_ROUTES:
            if method == verb and pattern.match(unquote(parts.path)):
                return service, name, key, params
    return service, f"{method} {parts.path}", key, params


def _denial(seen: Seen, headers: Any) -> tuple[int, dict[str, str], bytes]:
    message = (
        f"User: arn:aws:sts::123456789012:assumed-role/gate/{seen.access_key} is not "
        f"authorized to perform: {seen.service}:{seen.operation} because no identity-based "
        "policy allows the action"
    )
    if headers.get("X-Amz-Target"):
        body = f'{{"__type":"AccessDeniedException","message":"{message}"}}'
        return 400, {"x-amzn-ErrorType": "AccessDeniedException",
                     "Content-Type": "application/x-amz-json-1.1"}, body.encode()  # fmt: skip
    if "Action" in seen.params:
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
            f"<Message>{message}</Message></Error><RequestId>gate</RequestId></ErrorResponse>"
        )
        return 403, {"Content-Type": "text/xml"}, body.encode()
    body = f'{{"Type":"User","Message":"{message}"}}'
    return 403, {"x-amzn-ErrorType": "AccessDeniedException",
                 "Content-Type": "application/json"}, body.encode()  # fmt: skip


def _handler(gate: AwsGate) -> type[BaseHTTPRequestHandler]:
    upstream = urlsplit(gate.upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            service, operation, key, params = identify(self.command, self.path, self.headers, body)
            probe = Seen(service, operation, key, params, denied=False)
            denied = gate.refuse(probe)
            gate.record(Seen(service, operation, key, params, denied=denied))
            if denied:
                status, headers, reply = _denial(probe, self.headers)
            else:
                conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
                forward = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                forward["Host"] = upstream.netloc
                conn.request(self.command, self.path, body=body, headers=forward)
                response = conn.getresponse()
                reply = response.read()
                status = response.status
                headers = {
                    k: v
                    for k, v in response.getheaders()
                    if k.lower() not in {"content-length", "transfer-encoding", "connection"}
                }
                conn.close()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        def log_message(self, *_: Any) -> None:
            return

    return Handler


@contextmanager
def aws_gate(upstream: str) -> Iterator[AwsGate]:
    """Run a gate on a free local port in front of `upstream` (a moto server URL)."""
    gate = AwsGate(upstream=upstream)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gate))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gate.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield gate
    finally:
        server.shutdown()
        server.server_close()
