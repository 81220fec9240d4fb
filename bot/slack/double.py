"""A fake Slack: a Web API server that records every call, and a sender of signed requests.

`SlackDouble` answers the Web API methods lambda-why uses, at `SlackDouble.url` (set it as
`SLACK_API_URL`), and records each call (method, params, uploaded files). It also serves
the upload URLs `files.getUploadURLExternal` hands out (the second step of
`files_upload_v2`) and `response_url`s. `SlackSender` posts correctly signed slash
commands, events and interactivity payloads to an app's `/slack/events`
(https://docs.slack.dev/authentication/verifying-requests-from-slack).

Used by the tests, the benchmark and `lambda-why demo`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

BOT_USER_ID = "UBOTLAMBDAWHY"
BOT_ID = "BLAMBDAWHY"
TEAM_ID = "T0LAMBDAWHY"


@dataclass
class Call:
    """One recorded Web API call."""

    method: str
    params: dict[str, Any]
    token: str | None = None
    at: float = field(default_factory=time.monotonic)

    def json_param(self, name: str) -> Any:
        """A parameter that Slack accepts as JSON text or as JSON (blocks, view, files)."""
        value = self.params.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value


@dataclass
class Upload:
    """A file uploaded with files.getUploadURLExternal + POST + files.completeUploadExternal."""

    file_id: str
    filename: str
    content: bytes = b""
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    user: str = BOT_USER_ID
    updates: int = 0


class SlackDouble:
    """An aiohttp fake of the Slack Web API (see the module docstring)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0) -> None:
        self.host = host
        self.port = port
        self.latency = latency
        self.calls: list[Call] = []
        self.uploads: dict[str, Upload] = {}
        self.messages: dict[str, Message] = {}
        self.responses: list[dict[str, Any]] = []
        #: Slack locale per user id for users.info (default en-US)
        self.locales: dict[str, str] = {}
        #: method -> error to answer (once) instead of success
        self.failures: dict[str, str] = {}
        self._ts = itertools.count(1)
        #: Socket Mode: open connections, and what the app sent back (acks)
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_received: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()

    # ------------------------------------------------------------------ lifecycle

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The value for `SLACK_API_URL`."""
        return f"{self.base}/api/"

    def response_url(self, name: str = "") -> str:
        return f"{self.base}/response/{name or uuid.uuid4().hex}"

    async def start(self) -> SlackDouble:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        if self.port == 0 and server is not None:
            sockets = getattr(server, "sockets", None) or []
            self.port = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        for socket in list(self.sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackDouble:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ queries

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        """The thread root and its replies, oldest first."""
        found = [
            msg
            for msg in self.messages.values()
            if msg.channel == channel and thread_ts in (msg.ts, msg.thread_ts)
        ]
        return sorted(found, key=lambda msg: float(msg.ts))

    def completed_uploads(self) -> list[Upload]:
        return [u for u in self.uploads.values() if u.completed]

    async def wait_for(
        self, predicate: Any, within: float = 10.0, *, what: str = "condition"
    ) -> Any:
        """Wait until `predicate()` returns something truthy (re-checked on every call)."""
        deadline = time.monotonic() + within
        async with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out waiting for {what}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.2))

    # ------------------------------------------------------------------ handlers

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    params[key] = (
                        value if isinstance(value, str) else getattr(value, "filename", "")
                    )
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() or params.get("token")
        self.calls.append(Call(method=method, params=params, token=token))
        if self.latency:
            await asyncio.sleep(self.latency)
        if method in self.failures:
            reply: dict[str, Any] = {"ok": False, "error": self.failures.pop(method)}
        elif not token:
            reply = {"ok": False, "error": "not_authed"}
        else:
            reply = self._answer(method, params)
        await self._notify()
        return web.json_response(reply)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.{next(self._ts):06d}"

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        result: dict[str, Any] = handler(params)
        return result

    @staticmethod
    def _blocks(params: Mapping[str, Any]) -> list[dict[str, Any]]:
        blocks = params.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        return list(blocks)

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://lambda-why-test.slack.com/",
            "team": "lambda-why test",
            "user": "lambda-why",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        ts = self._next_ts()
        thread_ts = params.get("thread_ts") or None
        message = Message(
            channel=channel,
            ts=ts,
            text=str(params.get("text") or ""),
            blocks=self._blocks(params),
            thread_ts=str(thread_ts) if thread_ts else None,
        )
        self.messages[f"{channel}:{ts}"] = message
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "message": {"type": "message", "text": message.text, "ts": ts, "bot_id": BOT_ID},
        }

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        ts = str(params.get("ts", ""))
        message = self.messages.get(f"{channel}:{ts}")
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        message.text = str(params.get("text") or message.text)
        message.blocks = self._blocks(params) or message.blocks
        message.updates += 1
        return {"ok": True, "channel": channel, "ts": ts, "text": message.text}

    def _m_chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        ts = str(params.get("message_ts", ""))
        if f"{channel}:{ts}" not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        link = f"https://lambda-why-test.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user", ""))
        locale = self.locales.get(user, "en-US")
        return {
            "ok": True,
            "user": {"id": user, "name": user.lower(), "locale": locale, "tz": "UTC"},
        }

    def _m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return {"ok": True, "view": {"id": f"V{uuid.uuid4().hex[:10].upper()}", **(view or {})}}

    def _m_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{uuid.uuid4().hex[:10].upper()}"
        self.uploads[file_id] = Upload(file_id=file_id, filename=str(params.get("filename", "")))
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files") or []
        if isinstance(files, str):
            files = json.loads(files)
        done = []
        for item in files:
            upload = self.uploads.get(item.get("id", ""))
            if upload is None:
                return {"ok": False, "error": "file_not_found"}
            upload.title = item.get("title")
            upload.channel = params.get("channel_id") or params.get("channels")
            upload.thread_ts = params.get("thread_ts")
            upload.initial_comment = params.get("initial_comment")
            upload.completed = True
            done.append({"id": upload.file_id, "name": upload.filename, "title": upload.title})
        return {"ok": True, "files": done}

    def _m_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        ts = str(params.get("ts", ""))
        found = self.thread(channel, ts)
        return {
            "ok": True,
            "messages": [
                {
                    "type": "message",
                    "ts": m.ts,
                    "thread_ts": m.thread_ts or m.ts,
                    "text": m.text,
                    "blocks": m.blocks,
                    "user": m.user,
                }
                for m in found
            ],
            "has_more": False,
        }

    def _m_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://{self.host}:{self.port}/socket"}

    def _m_conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": params.get("channel")}}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """A Socket Mode connection: say hello, then record what the app sends."""
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})
        await self._notify()
        try:
            async for message in socket:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self.socket_received.append(json.loads(message.data))
                    await self._notify()
        finally:
            self.sockets.remove(socket)
        return socket

    async def socket_send(self, envelope_type: str, payload: dict[str, Any]) -> str:
        """Deliver a Socket Mode envelope to the connected app; returns its envelope id."""
        if not self.sockets:
            raise RuntimeError("no Socket Mode connection")
        envelope_id = uuid.uuid4().hex
        await self.sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": envelope_type,
                "payload": payload,
                "accepts_response_payload": envelope_type != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return envelope_id

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        upload = self.uploads.get(file_id)
        if upload is None:
            return web.Response(status=404, text="unknown upload")
        upload.content = await request.read()
        self.calls.append(
            Call(method="upload", params={"file_id": file_id, "bytes": len(upload.content)})
        )
        await self._notify()
        return web.Response(text=f"OK - {len(upload.content)}")

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append({"name": request.match_info["name"], **body})
        self.calls.append(Call(method="response_url", params=body))
        await self._notify()
        return web.Response(text="ok")


# ---------------------------------------------------------------------- signed requests


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """`X-Slack-Request-Timestamp` and the v0 `X-Slack-Signature` for `body`."""
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    base = f"v0:{stamp}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Reply:
    status: int
    body: str
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackSender:
    """Posts signed Slack requests to an app's `/slack/events` URL."""

    def __init__(self, url: str, signing_secret: str, *, double: SlackDouble | None = None) -> None:
        self.url = url
        self.secret = signing_secret
        self.double = double
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)

    async def __aenter__(self) -> SlackSender:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _next(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}.{uuid.uuid4().int % 10**12}"

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        headers: Mapping[str, str] | None = None,
        signature_secret: str | None = None,
    ) -> Reply:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        all_headers = {"Content-Type": content_type, **sign(signature_secret or self.secret, body)}
        all_headers.update(headers or {})
        started = time.perf_counter()
        async with self._session.post(self.url, data=body.encode(), headers=all_headers) as resp:
            text = await resp.text()
        return Reply(status=resp.status, body=text, elapsed=time.perf_counter() - started)

    def _response_url(self) -> str:
        return self.double.response_url() if self.double else "https://hooks.slack.com/commands/x"

    def command_body(
        self,
        text: str,
        *,
        user: str = "U0ALICE",
        channel: str = "C0INCIDENT",
        command: str = "/lambda-why",
        trigger_id: str | None = None,
    ) -> str:
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM_ID,
                "team_domain": "lambda-why-test",
                "channel_id": channel,
                "channel_name": "incident",
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": "A0LAMBDAWHY",
                "is_enterprise_install": "false",
                "response_url": self._response_url(),
                "trigger_id": trigger_id or self._next("trigger"),
            }
        )

    async def command(
        self, text: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Reply:
        """A slash command (`application/x-www-form-urlencoded`)."""
        return await self.post(
            self.command_body(text, **kwargs), "application/x-www-form-urlencoded", headers=headers
        )

    def event_body(self, event: Mapping[str, Any], *, event_id: str | None = None) -> str:
        return json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM_ID,
                "api_app_id": "A0LAMBDAWHY",
                "event": dict(event),
                "type": "event_callback",
                "event_id": event_id or self._next("Ev"),
                "event_time": int(time.time()),
                "authorizations": [
                    {
                        "team_id": TEAM_ID,
                        "user_id": BOT_USER_ID,
                        "is_bot": True,
                        "is_enterprise_install": False,
                    }
                ],
            }
        )

    async def event(
        self,
        event: Mapping[str, Any],
        *,
        event_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """An Events API delivery (`application/json`)."""
        return await self.post(
            self.event_body(event, event_id=event_id), "application/json", headers=headers
        )

    async def mention(
        self,
        text: str,
        *,
        user: str = "U0ALICE",
        channel: str = "C0INCIDENT",
        ts: str | None = None,
        thread_ts: str | None = None,
        event_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        event: dict[str, Any] = {
            "type": "app_mention",
            "user": user,
            "text": f"<@{BOT_USER_ID}> {text}",
            "ts": ts or f"{int(time.time())}.{next(self._ids):06d}",
            "channel": channel,
            "event_ts": ts or f"{int(time.time())}.000001",
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return await self.event(event, event_id=event_id, headers=headers)

    async def interactive(
        self, payload: Mapping[str, Any], *, headers: Mapping[str, str] | None = None
    ) -> Reply:
        """An interactivity payload (`payload=<json>`, form-encoded)."""
        body = urlencode({"payload": json.dumps(dict(payload))})
        return await self.post(body, "application/x-www-form-urlencoded", headers=headers)

    async def click(
        self,
        message: Mapping[str, Any],
        action_id: str,
        *,
        user: str = "U0ALICE",
        channel: str = "C0INCIDENT",
    ) -> Reply:
        """Press the button `action_id` on a posted message (blocks as the bot posted them)."""
        button = None
        for block in message.get("blocks", []):
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == action_id:
                    button = {**element, "block_id": block.get("block_id")}
        if button is None:
            raise LookupError(f"no button {action_id} on the message")
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "lambda-why-test"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "api_app_id": "A0LAMBDAWHY",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": message.get("ts"),
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": self._next("trigger"),
            "channel": {"id": channel, "name": "incident"},
            "message": dict(message),
            "response_url": self._response_url(),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": button.get("block_id"),
                    "text": button.get("text"),
                    "value": button.get("value"),
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return await self.interactive(payload)

    async def submit_view(
        self, view: Mapping[str, Any], values: Mapping[str, Any], *, user: str = "U0ALICE"
    ) -> Reply:
        """Submit a modal as opened by `views.open`, with `values` as its state."""
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "lambda-why-test"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "api_app_id": "A0LAMBDAWHY",
            "token": "legacy-verification-token",
            "trigger_id": self._next("trigger"),
            "view": {**dict(view), "state": {"values": dict(values)}},
        }
        return await self.interactive(payload)

    async def message_shortcut(
        self,
        message: Mapping[str, Any],
        *,
        callback_id: str = "diagnose_message",
        user: str = "U0ALICE",
        channel: str = "C0INCIDENT",
    ) -> Reply:
        payload = {
            "type": "message_action",
            "callback_id": callback_id,
            "team": {"id": TEAM_ID, "domain": "lambda-why-test"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "channel": {"id": channel, "name": "incident"},
            "message": dict(message),
            "message_ts": message.get("ts"),
            "trigger_id": self._next("trigger"),
            "response_url": self._response_url(),
            "token": "legacy-verification-token",
        }
        return await self.interactive(payload)
