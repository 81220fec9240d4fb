"""What the Slack listeners need, built once by the composition root and passed in."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import FileConfig
from bot.queue import JobQueue
from bot.slack.i18n import normalise_locale
from bot.slack.metrics import Metrics
from bot.slack.store import Store

log = logging.getLogger(__name__)

#: bundle builder: (report, snapshot, *, escalation) -> zip bytes
BundleFn = Callable[..., bytes]
#: explain parser: text -> ParsedError | None
ParseFn = Callable[[str], Any]
#: opens an AWS Support case: (subject, body) -> case id
SupportCaseFn = Callable[[str, str], Awaitable[str]]


class LocaleResolver:
    """The user's Slack locale (`users.info` with `include_locale`), cached per user.

    `[slack] locale` in the configuration overrides it for everyone.
    """

    def __init__(
        self, override: str | None = None, ttl: float = 3600.0, timeout: float = 1.0
    ) -> None:
        self.override = normalise_locale(override) if override else None
        self.ttl = ttl
        #: seconds `users.info` may take: the slash command's ack waits for the locale, and
        #: Slack gives up on an ack after 3 s (a rate-limited call would wait far longer)
        self.timeout = timeout
        self._cache: dict[str, tuple[float, str]] = {}

    async def locale(self, client: AsyncWebClient, user: str) -> str:
        if self.override:
            return self.override
        hit = self._cache.get(user)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        ttl = self.ttl
        try:
            reply = await asyncio.wait_for(
                client.users_info(user=user, include_locale=True), timeout=self.timeout
            )
            profile: dict[str, Any] = reply.get("user") or {}
            raw = profile.get("locale")
        except (SlackClientError, OSError, TimeoutError, ValueError) as exc:
            # the locale is a nicety: a Web API hiccup must not fail (or delay) the request;
            # English is remembered briefly, then users.info is asked again
            log.warning("users.info %s failed: %s", user, exc or type(exc).__name__)
            raw = None
            ttl = min(self.ttl, 60.0)
        locale = normalise_locale(raw)
        self._cache[user] = (time.monotonic() + ttl, locale)
        return locale


class OwnAccount:
    """The bot's own AWS account (sts:GetCallerIdentity), looked up once."""

    def __init__(self, lookup: Callable[[], Awaitable[str]]) -> None:
        self._lookup = lookup
        self._value: str | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        if self._value is not None:
            return self._value
        async with self._lock:
            if self._value is None:
                self._value = await self._lookup()
        return self._value


@dataclass
class SlackDeps:
    config: FileConfig
    queue: JobQueue
    store: Store
    own_account: OwnAccount
    metrics: Metrics = field(default_factory=Metrics)
    locales: LocaleResolver = field(default_factory=LocaleResolver)
    escalation_channel: str | None = None
    rate_limit_per_minute: int = 30
    parse_error: ParseFn | None = None
    build_bundle: BundleFn | None = None
    support_case: SupportCaseFn | None = None
    #: seconds a Slack request id is remembered (retries are never queued twice)
    dedupe_ttl: int = 3600
