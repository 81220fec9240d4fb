"""A strict Slack Web API double, written apart from `bot.slack.double` on purpose.

The project's own double answers what the app asks; this one checks what Slack would refuse,
the way an outside acceptance run does, so the two cannot share a blind spot:

- the token must arrive in the `Authorization: Bearer` header (or, for form posts, as a
  `token` field) and be the bot token; else `not_authed` / `invalid_auth`;
- channels are real: the bot is a member of some, others give `not_in_channel`, unknown
  ids `channel_not_found`; a `thread_ts` must name a message of that channel that is not
  itself a reply;
- Block Kit is validated with Slack's documented limits (50 blocks a message, 100 a modal;
  section text 1..3000; header plain_text <= 150; context <= 10 elements; actions <= 25
  elements; button text <= 75, value <= 2000; action_id and block_id unique in a message)
  and the undocumented cumulative one (about 12,000 characters of text a message,
  `msg_blocks_too_long`, slackapi/bolt-js#2509); `text` over 40,000 is `msg_too_long`;
- `users.info` gives a `locale` only with `include_locale=true`;
- the three-step upload: `files.getUploadURLExternal` (filename, length), a POST of exactly
  `length` bytes to the `upload_url`, `files.completeUploadExternal` (`files`, `channel_id`,
  `thread_ts` of a thread root);
- faults can be scripted per method: an error payload, or HTTP 429 `ratelimited` with
  `Retry-After`.

https://docs.slack.dev/reference/methods , https://docs.slack.dev/reference/block-kit/blocks
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = "U0STRICTBOT"
BOT_ID = "B0STRICTBOT"
TEAM = "T0STRICT"

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ID = 255
MAX_MESSAGE_TEXT = 40000
#: Slack's cumulative limit on the text of one message's blocks (not documented; slackapi
#: staff in bolt-js#2509: "12,000 text characters with a buffer for block containers")
MAX_BLOCKS_TEXT = 12000

_TS = re.compile(r"^\d{10}\.\d{6}$")


class BlockError(ValueError):
    """Why Slack would answer `invalid_blocks` (or `msg_blocks_too_long`)."""

    def __init__(self, error: str, reason: str) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason


def _text_object(obj: Any, where: str, *, plain_only: bool = False, limit: int = 3000) -> int:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        raise BlockError("invalid_blocks", f"{where}: not a text object: {obj!r:.80}")
    if plain_only and obj["type"] != "plain_text":
        raise BlockError("invalid_blocks", f"{where}: must be plain_text")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        raise BlockError("invalid_blocks", f"{where}: text must be 1 or more characters")
    if len(text) > limit:
        raise BlockError("invalid_blocks", f"{where}: {len(text)} characters > {limit}")
    return len(text)


def _element(element: Any, where: str, action_ids: set[str]) -> int:
    if not isinstance(element, dict):
        raise BlockError("invalid_blocks", f"{where}: not an element")
    kind = element.get("type")
    size = 0
    if kind == "button":
        size += _text_object(element.get("text"), f"{where}.text", plain_only=True, limit=75)
        value = element.get("value")
        if value is not None and (not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE):
            raise BlockError("invalid_blocks", f"{where}: button value longer than 2000")
        if element.get("style") not in (None, "primary", "danger"):
            raise BlockError("invalid_blocks", f"{where}: bad style")
        url = element.get("url")
        if url is not None and len(url) > 3000:
            raise BlockError("invalid_blocks", f"{where}: url longer than 3000")
    elif kind in (
        "plain_text_input",
        "radio_buttons",
        "static_select",
        "datepicker",
        "datetimepicker",
        "timepicker",
        "checkboxes",
        "users_select",
        "conversations_select",
        "channels_select",
        "overflow",
    ):
        for option in element.get("options") or []:
            _text_object(option.get("text"), f"{where}.option", limit=75)
            if len(str(option.get("value", ""))) > 150:
                raise BlockError("invalid_blocks", f"{where}: option value longer than 150")
        if kind in ("radio_buttons", "static_select", "checkboxes") and not element.get("options"):
            raise BlockError("invalid_blocks", f"{where}: options required")
        if element.get("placeholder") is not None:
            _text_object(element["placeholder"], f"{where}.placeholder", plain_only=True, limit=150)
    elif kind == "image":
        if not element.get("image_url") and not element.get("slack_file"):
            raise BlockError("invalid_blocks", f"{where}: image without url")
    else:
        raise BlockError("invalid_blocks", f"{where}: unknown element type {kind!r}")
    action_id = element.get("action_id")
    if action_id is not None:
        if not isinstance(action_id, str) or not action_id or len(action_id) > MAX_ID:
            raise BlockError("invalid_blocks", f"{where}: bad action_id")
        if action_id in action_ids:
            raise BlockError("invalid_blocks", f"{where}: duplicate action_id {action_id}")
        action_ids.add(action_id)
    return size


def validate_blocks(blocks: Any, *, surface: str = "message") -> int:
    """Raise BlockError where Slack would refuse `blocks`; return the characters of text."""
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError as exc:
            raise BlockError("invalid_blocks_format", "blocks is not JSON") from exc
    if not isinstance(blocks, list):
        raise BlockError("invalid_blocks_format", "blocks is not an array")
    limit = MAX_VIEW_BLOCKS if surface == "modal" else MAX_MESSAGE_BLOCKS
    if len(blocks) > limit:
        raise BlockError("invalid_blocks", f"{len(blocks)} blocks > {limit}")
    block_ids: set[str] = set()
    action_ids: set[str] = set()
    total = 0
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        if not isinstance(block, dict):
            raise BlockError("invalid_blocks", f"{where}: not an object")
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or not block_id or len(block_id) > MAX_ID:
                raise BlockError("invalid_blocks", f"{where}: bad block_id")
            if block_id in block_ids:
                raise BlockError("invalid_blocks", f"{where}: duplicate block_id {block_id}")
            block_ids.add(block_id)
        kind = block.get("type")
        if kind == "section":
            if "text" not in block and "fields" not in block:
                raise BlockError("invalid_blocks", f"{where}: section needs text or fields")
            if "text" in block:
                total += _text_object(block["text"], f"{where}.text", limit=MAX_SECTION_TEXT)
            fields = block.get("fields") or []
            if len(fields) > 10:
                raise BlockError("invalid_blocks", f"{where}: more than 10 fields")
            for n, item in enumerate(fields):
                total += _text_object(item, f"{where}.fields[{n}]", limit=2000)
            if block.get("accessory") is not None:
                total += _element(block["accessory"], f"{where}.accessory", action_ids)
        elif kind == "header":
            total += _text_object(
                block.get("text"), f"{where}.text", plain_only=True, limit=MAX_HEADER_TEXT
            )
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS:
                raise BlockError("invalid_blocks", f"{where}: context needs 1..10 elements")
            for n, item in enumerate(elements):
                if isinstance(item, dict) and item.get("type") == "image":
                    continue
                total += _text_object(item, f"{where}.elements[{n}]")
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_ACTIONS_ELEMENTS:
                raise BlockError("invalid_blocks", f"{where}: actions needs 1..25 elements")
            for n, item in enumerate(elements):
                total += _element(item, f"{where}.elements[{n}]", action_ids)
        elif kind == "divider":
            pass
        elif kind == "input":
            if surface != "modal":
                raise BlockError("invalid_blocks", f"{where}: input blocks only in modals")
            total += _text_object(block.get("label"), f"{where}.label", plain_only=True, limit=2000)
            _element(block.get("element"), f"{where}.element", action_ids)
        elif kind in ("image", "rich_text", "markdown", "file", "video"):
            pass
        else:
            raise BlockError("invalid_blocks", f"{where}: unknown block type {kind!r}")
    if surface == "message" and total > MAX_BLOCKS_TEXT:
        raise BlockError("msg_blocks_too_long", f"{total} characters of text in blocks")
    return total


def validate_view(view: Any) -> None:
    if isinstance(view, str):
        view = json.loads(view)
    if not isinstance(view, dict) or view.get("type") != "modal":
        raise BlockError("invalid_arguments", "view must be a modal")
    _text_object(view.get("title"), "view.title", plain_only=True, limit=24)
    for key in ("submit", "close"):
        if view.get(key) is not None:
            _text_object(view[key], f"view.{key}", plain_only=True, limit=24)
    if len(str(view.get("private_metadata") or "")) > 3000:
        raise BlockError("invalid_arguments", "private_metadata longer than 3000")
    if len(str(view.get("callback_id") or "")) > 255:
        raise BlockError("invalid_arguments", "callback_id longer than 255")
    has_input = any(b.get("type") == "input" for b in view.get("blocks") or [])
    if has_input and view.get("submit") is None:
        raise BlockError("invalid_arguments", "a modal with inputs needs submit")
    validate_blocks(view.get("blocks") or [], surface="modal")


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    status: int
    reply: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.reply.get("ok"))


@dataclass
class Posted:
    """A message in a channel (the bot's, or one a test says a person wrote)."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    user: str = BOT_USER
    edits: int = 0


@dataclass
class Ephemeral:
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None


@dataclass
class File:
    id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    shared: bool = False


@dataclass
class Fault:
    error: str
    times: int = 1
    status: int = 200
    retry_after: int | None = None
    #: only calls whose params satisfy this
    when: Callable[[dict[str, Any]], bool] | None = None


@dataclass
class StrictSlack:
    """The double (see the module docstring). Start with `async with StrictSlack(...)`."""

    token: str
    #: channels the bot is a member of
    member_of: set[str] = field(default_factory=set)
    #: channels that exist but the bot is not in
    outside: set[str] = field(default_factory=set)
    #: user id -> Slack locale ("en-US", "ja-JP")
    locales: dict[str, str] = field(default_factory=dict)
    calls: list[ApiCall] = field(default_factory=list)
    messages: list[Posted] = field(default_factory=list)
    ephemerals: list[Ephemeral] = field(default_factory=list)
    files: dict[str, File] = field(default_factory=dict)
    #: what was POSTed to response_urls (name -> bodies)
    responses: list[dict[str, Any]] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    #: what Slack would have refused, with the reason (also answered as an error)
    refusals: list[tuple[str, str]] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    port: int = 0

    def __post_init__(self) -> None:
        self._clock = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{uuid.uuid4().hex}"

    async def __aenter__(self) -> StrictSlack:
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/files/{file_id}", self._upload)
        app.router.add_post("/hooks/{name}", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ scripting

    def fail(
        self,
        method: str,
        error: str,
        *,
        times: int = 1,
        status: int = 200,
        retry_after: int | None = None,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        self.faults.setdefault(method, []).append(
            Fault(error, times=times, status=status, retry_after=retry_after, when=when)
        )

    def ratelimit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        self.fail(method, "ratelimited", times=times, status=429, retry_after=retry_after)

    def person_says(
        self, channel: str, text: str, *, user: str, thread_ts: str | None = None
    ) -> Posted:
        """A message a person wrote (a mention, an alarm): it exists for thread_ts checks."""
        posted = Posted(channel, self._ts(), text, [], thread_ts=thread_ts, user=user)
        self.messages.append(posted)
        return posted

    # ------------------------------------------------------------------ queries

    def to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def bot_messages(self, channel: str | None = None) -> list[Posted]:
        return [
            m
            for m in self.messages
            if m.user == BOT_USER and (channel is None or m.channel == channel)
        ]

    def thread(self, channel: str, root_ts: str) -> list[Posted]:
        """Replies in a thread (not the root), oldest first."""
        return [m for m in self.messages if m.channel == channel and m.thread_ts == root_ts]

    def find(self, channel: str, ts: str) -> Posted | None:
        return next((m for m in self.messages if m.channel == channel and m.ts == ts), None)

    def shared_files(self) -> list[File]:
        return [f for f in self.files.values() if f.shared]

    async def until(
        self, predicate: Callable[[], Any], *, within: float = 60.0, what: str = "it"
    ) -> Any:
        deadline = time.monotonic() + within
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=0.2)

    async def quiet(self, seconds: float = 1.0) -> None:
        """Wait until no call arrived for `seconds`."""
        while True:
            count = len(self.calls) + len(self.responses)
            await asyncio.sleep(seconds)
            if len(self.calls) + len(self.responses) == count:
                return

    # ------------------------------------------------------------------ HTTP

    def _ts(self) -> str:
        return f"{1_760_000_000 + next(self._clock)}.{next(self._clock):06d}"

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        header = request.headers.get("Authorization", "")
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else None
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                params.update(body if isinstance(body, dict) else {})
                if token is None:
                    # Slack takes a JSON body only with the token in the header
                    return self._reply(method, params, {"ok": False, "error": "not_authed"})
            else:
                form = await request.post()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        token = token or params.pop("token", None)
        if not token:
            return self._reply(method, params, {"ok": False, "error": "not_authed"})
        if token != self.token:
            return self._reply(method, params, {"ok": False, "error": "invalid_auth"})
        for fault in self.faults.get(method, []):
            if fault.times > 0 and (fault.when is None or fault.when(params)):
                fault.times -= 1
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                return self._reply(
                    method,
                    params,
                    {"ok": False, "error": fault.error},
                    status=fault.status,
                    headers=headers,
                    scripted=True,
                )
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return self._reply(method, params, {"ok": False, "error": "unknown_method"})
        try:
            reply = handler(params)
        except BlockError as exc:
            self.refusals.append((method, exc.reason))
            reply = {
                "ok": False,
                "error": exc.error,
                "response_metadata": {"messages": [f"[ERROR] {exc.reason}"]},
            }
        return self._reply(method, params, reply)

    def _reply(
        self,
        method: str,
        params: dict[str, Any],
        reply: dict[str, Any],
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        scripted: bool = False,
    ) -> web.Response:
        self.calls.append(ApiCall(method, params, status, reply))
        if not reply.get("ok") and not scripted:
            self.refusals.append((method, str(reply.get("error"))))
        self._changed.set()
        return web.json_response(reply, status=status, headers=headers)

    # ------------------------------------------------------------------ channels

    def _channel(self, params: dict[str, Any], key: str = "channel") -> str:
        channel = str(params.get(key) or "")
        if not channel:
            raise _Error("channel_not_found")
        if channel in self.outside:
            raise _Error("not_in_channel")
        if channel not in self.member_of:
            raise _Error("channel_not_found")
        return channel

    def _thread(self, channel: str, thread_ts: Any) -> str | None:
        if thread_ts in (None, ""):
            return None
        ts = str(thread_ts)
        if not _TS.match(ts):
            raise _Error("invalid_thread_ts")
        parent = self.find(channel, ts)
        if parent is None:
            raise _Error("thread_not_found")
        if parent.thread_ts is not None and parent.thread_ts != parent.ts:
            # "Never use a reply's ts value; use its parent instead."
            self.refusals.append(("thread_ts", f"{ts} is a reply, not a thread root"))
            raise _Error("invalid_thread_ts")
        return ts

    @staticmethod
    def _content(params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        text = params.get("text")
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError as exc:
                raise BlockError("invalid_blocks_format", "blocks is not JSON") from exc
        if not text and not blocks:
            raise _Error("no_text")
        if text is not None and len(str(text)) > MAX_MESSAGE_TEXT:
            raise _Error("msg_too_long")
        if blocks:
            validate_blocks(blocks)
        return str(text or ""), list(blocks or [])

    # ------------------------------------------------------------------ methods

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://strict.slack.com/",
            "team": "Strict",
            "user": "lambda-why",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _m_conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        if channel not in self.member_of | self.outside:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": channel.lower(),
                "is_channel": True,
                "is_member": channel in self.member_of,
            },
        }

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user") or "")
        if not user.startswith(("U", "W")):
            return {"ok": False, "error": "user_not_found"}
        profile: dict[str, Any] = {
            "id": user,
            "team_id": TEAM,
            "name": user.lower(),
            "tz": "Asia/Tokyo" if "JA" in user else "UTC",
        }
        if str(params.get("include_locale", "")).lower() in ("true", "1"):
            profile["locale"] = self.locales.get(user, "en-US")
        return {"ok": True, "user": profile}

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return _guard(lambda: self._post(params))

    def _post(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        thread_ts = self._thread(channel, params.get("thread_ts"))
        text, blocks = self._content(params)
        posted = Posted(channel, self._ts(), text, blocks, thread_ts=thread_ts)
        self.messages.append(posted)
        return {
            "ok": True,
            "channel": channel,
            "ts": posted.ts,
            "message": {
                "type": "message",
                "user": BOT_USER,
                "bot_id": BOT_ID,
                "text": text,
                "ts": posted.ts,
                "blocks": blocks,
                **({"thread_ts": thread_ts} if thread_ts else {}),
            },
        }

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            channel = self._channel(params)
            user = str(params.get("user") or "")
            if not user:
                raise _Error("user_not_in_channel")
            thread_ts = params.get("thread_ts") or None
            if thread_ts is not None and not _TS.match(str(thread_ts)):
                raise _Error("invalid_thread_ts")
            text, blocks = self._content(params)
            self.ephemerals.append(Ephemeral(channel, user, text, blocks, thread_ts))
            return {"ok": True, "message_ts": self._ts()}

        return _guard(run)

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            channel = self._channel(params)
            ts = str(params.get("ts") or "")
            if not ts:
                raise _Error("invalid_arguments")
            message = self.find(channel, ts)
            if message is None:
                raise _Error("message_not_found")
            if message.user != BOT_USER:
                raise _Error("cant_update_message")
            text, blocks = self._content(params)
            message.text, message.blocks = text, blocks
            message.edits += 1
            return {"ok": True, "channel": channel, "ts": ts, "text": text}

        return _guard(run)

    def _m_chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        ts = str(params.get("message_ts") or "")
        if self.find(channel, ts) is None:
            return {"ok": False, "error": "message_not_found"}
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://strict.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not str(params.get("trigger_id") or ""):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = params.get("view")
        validate_view(view)
        opened = json.loads(view) if isinstance(view, str) else dict(view or {})
        opened["id"] = f"V{uuid.uuid4().hex[:10].upper()}"
        self.views.append(opened)
        return {"ok": True, "view": opened}

    def _m_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = str(params.get("filename") or "")
        try:
            length = int(params.get("length") or 0)
        except ValueError:
            length = 0
        if not filename or length <= 0:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{uuid.uuid4().hex[:10].upper()}"
        self.files[file_id] = File(id=file_id, filename=filename, length=length)
        return {
            "ok": True,
            "file_id": file_id,
            "upload_url": f"http://127.0.0.1:{self.port}/files/{file_id}",
        }

    def _m_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            raw = params.get("files")
            items = json.loads(raw) if isinstance(raw, str) else raw
            if not isinstance(items, list) or not items:
                raise _Error("invalid_arguments")
            channel = None
            if params.get("channel_id"):
                channel = self._channel(params, "channel_id")
            elif params.get("channels"):
                raise _Error("invalid_arguments")  # we expect channel_id, not channels
            thread_ts = None
            if params.get("thread_ts"):
                if channel is None:
                    raise _Error("invalid_arguments")
                thread_ts = self._thread(channel, params["thread_ts"])
            shared = []
            for item in items:
                upload = self.files.get(str(item.get("id")))
                if upload is None or upload.content is None:
                    raise _Error("file_not_found")
                upload.title = item.get("title")
                upload.channel, upload.thread_ts = channel, thread_ts
                upload.initial_comment = params.get("initial_comment")
                upload.shared = channel is not None
                shared.append({"id": upload.id, "name": upload.filename, "title": upload.title})
            return {"ok": True, "files": shared}

        return _guard(run)

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self.files.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="not found")
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            part = await reader.next()
            data = await part.read() if part is not None else b""  # type: ignore[union-attr]
        else:
            data = await request.read()
        self.calls.append(
            ApiCall("upload", {"file_id": upload.id, "bytes": len(data)}, 200, {"ok": True})
        )
        if len(data) != upload.length:
            self.refusals.append(("upload", f"{len(data)} bytes, announced {upload.length}"))
            return web.Response(status=400, text="length mismatch")
        upload.content = bytes(data)
        self._changed.set()
        return web.Response(text=f"OK - {len(data)}")

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("blocks"):
            try:
                validate_blocks(body["blocks"])
            except BlockError as exc:
                self.refusals.append(("response_url", exc.reason))
                return web.Response(status=400, text="invalid_blocks")
        if not body.get("text") and not body.get("blocks"):
            self.refusals.append(("response_url", "no_text"))
            return web.Response(status=400, text="no_text")
        self.responses.append({"hook": request.match_info["name"], **body})
        self._changed.set()
        return web.Response(text="ok")


class _Error(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _guard(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return run()
    except _Error as exc:
        return {"ok": False, "error": exc.error}


def texts(blocks: list[dict[str, Any]]) -> Iterator[str]:
    """Every text string in a block tree."""
    for block in blocks:
        stack: list[Any] = [block]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "text" and isinstance(value, str):
                        yield value
                    else:
                        stack.append(value)
            elif isinstance(node, list):
                stack.extend(node)
