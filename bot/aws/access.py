"""AWS access: credentials per account, read-only clients, call recording, caches.

One `AwsAccess` lives as long as its composition root (a CLI run, or the worker across
many diagnoses), so its caches (identity, assumed-role credentials, role details, managed
policy documents, ...) are per instance, never module globals.

- Credentials: boto3's standard chain, which honours `AWS_ENDPOINT_URL` and
  `AWS_ENDPOINT_URL_<SERVICE>` itself. The bot's own account uses them directly; any
  other account is reached through its read-only role (CONTRACTS §4,
  `bot.config.account_access`) with an ExternalId and a RoleSessionName naming who asked.
  https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
- Read-only defence in depth: every client created here carries a botocore
  `provide-client-params` hook that refuses any operation that is not a read, before the
  request is built or signed (`ReadOnlyViolation`).
- Every operation sent is recorded (`CallRecorder`) as `service:Operation`, named with
  the IAM action prefix (signing name), so the deploy template and bench can use it.
- Failures reaching AWS (no credentials, unreachable endpoint, role not assumable) are
  `AwsUnavailable` (CLI exit 3). API errors of ordinary reads are left to the caller,
  which turns them into `Gap`s (`bot.aws.reader`).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError, NoCredentialsError
from botocore.parsers import ResponseParserError
from pydantic import BaseModel

from bot.arns import parse_arn
from bot.aws.errors import TRANSPORT_ERRORS, AccountNotAllowed, AwsUnavailable, ReadOnlyViolation
from bot.config import FileConfig, Settings, account_access, account_allowed

T = TypeVar("T")

#: operation name prefixes that only read
READ_PREFIXES = ("Get", "List", "Describe", "Lookup", "Head", "Search")
#: reads that do not start with a read prefix
READ_OPERATIONS = frozenset(
    {
        "sts:AssumeRole",
        "logs:FilterLogEvents",
        "logs:StartQuery",
        "logs:StopQuery",
    }
)
#: "reads" lambda-why must never make: secret values, object data, credential minting
REFUSED_OPERATIONS = frozenset(
    {
        "secretsmanager:GetSecretValue",
        "secretsmanager:BatchGetSecretValue",
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
        "ssm:GetParameterHistory",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:GetObjectAttributes",
        "s3:GetObjectTorrent",
        "sts:GetSessionToken",
        "sts:GetFederationToken",
        "ecr:GetAuthorizationToken",
        "ecr:GetDownloadUrlForLayer",
        "kms:GetParametersForImport",
    }
)

#: refresh assumed-role credentials this long before they expire
CREDENTIAL_MARGIN = timedelta(minutes=5)
#: how long role details, managed policy defaults, trigger listings etc. stay cached
DEFAULT_CACHE_TTL = 60.0
#: policy versions are immutable: (arn, version id) documents can be kept long
IMMUTABLE_TTL = 24 * 3600.0
_SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]")


def operation_name(service: str, operation: str) -> str:
    return f"{service}:{operation}"


def is_read_operation(operation: str) -> bool:
    """Whether `service:Operation` is a read lambda-why may send."""
    if operation in REFUSED_OPERATIONS:
        return False
    if operation in READ_OPERATIONS:
        return True
    name = operation.split(":", 1)[-1]
    return name.startswith(READ_PREFIXES)


def session_name(requested_by: str | None) -> str:
    """RoleSessionName saying who asked: `lambda-why-U024BE7LH`, `[\\w+=,.@-]{2,64}`.

    https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
    """
    who = _SESSION_NAME_CHARS.sub("-", requested_by or "")
    return f"lambda-why-{who}"[:64] if who else "lambda-why"


class CallerIdentity(BaseModel):
    account: str
    arn: str
    partition: str
    user_id: str | None = None


class CallRecorder:
    """Counts every AWS operation sent (`service:Operation`), thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def record(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def operations(self) -> list[str]:
        with self._lock:
            return sorted(self.calls)

    def reset(self) -> Counter[str]:
        """Return the counts so far and start again."""
        with self._lock:
            calls, self.calls = self.calls, Counter()
            return calls


class TtlCache:
    """A small time-to-live cache (monotonic clock); one per AwsAccess."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._data: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._data[key]
                return None
            return entry[1]

    def put(self, key: Hashable, value: Any, ttl: float) -> None:
        with self._lock:
            self._data[key] = (self._clock() + ttl, value)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


@dataclass
class _AccountSession:
    session: boto3.Session
    expires: datetime | None  # None: the base session (refreshes itself)
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)


@dataclass
class _Shared:
    """State shared by an AwsAccess and its per-requester views."""

    recorder: CallRecorder
    cache: TtlCache
    sessions: dict[tuple[str, str], _AccountSession] = field(default_factory=dict)
    identity: CallerIdentity | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    identity_lock: asyncio.Lock | None = None
    #: cached reads under way, shared by concurrent callers
    inflight: dict[Hashable, asyncio.Future[Any]] = field(default_factory=dict)


class AwsAccess:
    """Read-only AWS access for lambda-why (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        config: FileConfig,
        *,
        requested_by: str | None = None,
        base_session: boto3.Session | None = None,
        recorder: CallRecorder | None = None,
        cache_ttl: float = DEFAULT_CACHE_TTL,
        max_concurrency: int = 8,
        botocore_config: Config | None = None,
    ) -> None:
        self.settings = settings
        self.config = config
        self.requested_by = requested_by
        self.cache_ttl = cache_ttl
        try:
            self._base = base_session or boto3.Session()
        except TRANSPORT_ERRORS as exc:  # AWS_PROFILE unknown, ~/.aws/config unparsable
            raise AwsUnavailable(f"AWS configuration cannot be used: {describe(exc)}") from exc
        self._botocore_config = botocore_config or Config(
            retries={"mode": "adaptive", "max_attempts": 5},
            connect_timeout=5,
            read_timeout=20,
            user_agent_appid="lambda-why",
            # regional DynamoDB endpoints: account-based ones are not needed for reads
            # and are not served by local emulators
            account_id_endpoint_mode="disabled",
        )
        self._shared = _Shared(recorder=recorder or CallRecorder(), cache=TtlCache())
        self._max_concurrency = max_concurrency
        self._semaphore: asyncio.Semaphore | None = None

    # ---- views, caches, recording ---------------------------------------------------

    def as_requester(self, requested_by: str | None) -> AwsAccess:
        """The same access (caches, credentials, recorder) acting for another requester."""
        view = object.__new__(AwsAccess)
        view.__dict__.update(self.__dict__)
        view.requested_by = requested_by
        return view

    @property
    def recorder(self) -> CallRecorder:
        return self._shared.recorder

    @property
    def cache(self) -> TtlCache:
        return self._shared.cache

    @property
    def default_region(self) -> str | None:
        region: str | None = self._base.region_name
        return region

    async def cached(
        self,
        key: Hashable,
        factory: Callable[[], Awaitable[T]],
        *,
        fresh: bool = False,
        ttl: float | None = None,
        keep: Callable[[T], bool] = lambda _: True,
    ) -> T:
        """`factory()` once per `ttl`; `fresh` bypasses (and refreshes) the cache.

        `keep` decides whether a result may be cached (results with gaps are not).
        """
        if not fresh:
            hit = self.cache.get(key)
            if hit is not None:
                return hit  # type: ignore[no-any-return]
        inflight = self._shared.inflight
        running = inflight.get(key)
        if running is not None:  # the same read is under way: share it
            return await asyncio.shield(running)
        task = asyncio.ensure_future(factory())
        inflight[key] = task
        try:
            value = await asyncio.shield(task)
        finally:
            if inflight.get(key) is task:
                del inflight[key]
        if keep(value):
            self.cache.put(key, value, self.cache_ttl if ttl is None else ttl)
        return value

    # ---- identity and credentials ---------------------------------------------------

    async def own_identity(self) -> CallerIdentity:
        """`sts:GetCallerIdentity` of the base credentials, cached for this instance."""
        shared = self._shared
        if shared.identity is not None:
            return shared.identity
        if shared.identity_lock is None:
            shared.identity_lock = asyncio.Lock()
        async with shared.identity_lock:
            if shared.identity is None:
                sts = await self._identity_client()
                try:
                    reply = await self.call(sts, "GetCallerIdentity")
                except ClientError as exc:
                    raise AwsUnavailable(f"cannot read AWS credentials: {describe(exc)}") from exc
                except NoCredentialsError as exc:
                    raise AwsUnavailable(f"no AWS credentials: {describe(exc)}") from exc
                except TRANSPORT_ERRORS as exc:
                    raise AwsUnavailable(
                        f"AWS could not be reached (sts:GetCallerIdentity): {describe(exc)}"
                    ) from exc
                arn = reply["Arn"]
                shared.identity = CallerIdentity(
                    account=reply["Account"],
                    arn=arn,
                    partition=parse_arn(arn).partition,
                    user_id=reply.get("UserId"),
                )
        return shared.identity

    async def ensure_allowed(self, account: str) -> None:
        """Raise AccountNotAllowed unless CONTRACTS §4 lets the bot check `account`."""
        own = await self.own_identity()
        if not account_allowed(self.config, account, own.account):
            raise AccountNotAllowed(account)

    async def client(self, service: str, *, account: str, region: str) -> Any:
        """A read-only client for `service` in `account`/`region` (assuming a role if needed)."""
        entry = await self._session_for(account, region)
        return await self._client_for(entry, service, region)

    async def org_client(
        self,
        service: str = "organizations",
        *,
        region: str | None = None,
        config: Config | None = None,
    ) -> Any:
        """A client through the `[organization]` reader role: Organizations, or CloudTrail
        of the management account (who changed an SCP: Organizations records its events in
        us-east-1 of the management account).

        Raises AwsUnavailable when the role cannot be assumed; the caller records a gap.
        """
        org = self.config.organization
        if org is None:
            raise AwsUnavailable("no [organization] configured")
        own = await self.own_identity()
        sts_region = self._sts_region()
        if org.role_arn == own.arn or _same_role(org.role_arn, own.arn):
            entry = self._base_entry()
        else:
            entry = await self._assumed(
                ("org", org.role_arn), org.role_arn, org.external_id, sts_region
            )
        if config is None:
            return await self._client_for(entry, service, region or sts_region)
        try:
            return await asyncio.to_thread(
                self._make_client, entry, service, region or sts_region, config
            )
        except TRANSPORT_ERRORS as exc:
            raise AwsUnavailable(f"cannot create an AWS client: {describe(exc)}") from exc

    def client_factory(
        self, service: str, *, account: str, config: Config | None = None
    ) -> Callable[[str], Any]:
        """A synchronous `region -> client` factory for an account already reached.

        For collectors written around a plain factory (CloudTrail): the account's
        credentials must have been resolved by an earlier `client()` call.
        """
        with self._shared.lock:
            entries = [
                e
                for (acct, _), e in self._shared.sessions.items()
                if acct == account and (e.expires is None or e.expires > datetime.now(UTC))
            ]
        own = self._shared.identity
        if own is not None and account == own.account and not entries:
            entries = [self._base_entry()]
        if not entries:
            raise AwsUnavailable(f"no credentials resolved yet for account {account}")
        entry = entries[-1]

        def make(region: str) -> Any:
            if config is None:
                return self._make_client(entry, service, region)
            return self._make_client(entry, service, region, config)

        return make

    def _base_entry(self) -> _AccountSession:
        with self._shared.lock:
            key = ("base", "")
            entry = self._shared.sessions.get(key)
            if entry is None:
                entry = _AccountSession(session=self._base, expires=None)
                self._shared.sessions[key] = entry
            return entry

    def _sts_region(self) -> str:
        return self._base.region_name or "us-east-1"

    async def _session_for(self, account: str, region: str) -> _AccountSession:
        own = await self.own_identity()
        access = account_access(self.settings, self.config, account, own.account, own.partition)
        if access.role_arn is None:
            return self._base_entry()
        return await self._assumed(
            (account, session_name(self.requested_by)),
            access.role_arn,
            access.external_id,
            region,
        )

    async def _assumed(
        self, key: tuple[str, str], role_arn: str, external_id: str | None, region: str
    ) -> _AccountSession:
        now = datetime.now(UTC)
        with self._shared.lock:
            entry = self._shared.sessions.get(key)
        if (
            entry is not None
            and entry.expires is not None
            and entry.expires - now > (CREDENTIAL_MARGIN)
        ):
            return entry
        sts = await self._client_for(self._base_entry(), "sts", region)
        params: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": session_name(self.requested_by),
            "DurationSeconds": 3600,
        }
        if external_id:
            params["ExternalId"] = external_id
        try:
            reply = await self.call(sts, "AssumeRole", **params)
        except (ClientError, *TRANSPORT_ERRORS) as exc:
            raise AwsUnavailable(f"cannot assume {role_arn}: {describe(exc)}") from exc
        creds = reply["Credentials"]
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=region,
        )
        expires = creds["Expiration"]
        if isinstance(expires, str):
            expires = datetime.fromisoformat(expires.replace("Z", "+00:00"))
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        entry = _AccountSession(session=session, expires=expires)
        with self._shared.lock:
            self._shared.sessions[key] = entry
        return entry

    async def _identity_client(self) -> Any:
        """The STS client of the first call: few retries and short timeouts, so missing
        credentials or a dead endpoint end the diagnosis in seconds (exit 3), not after
        the read path's full retry budget (5 attempts × 20 s read timeout)."""
        try:
            return await asyncio.to_thread(
                self._make_client, self._base_entry(), "sts", self._sts_region(), _PROBE_CONFIG
            )
        except TRANSPORT_ERRORS as exc:
            raise AwsUnavailable(f"cannot create an AWS client: {describe(exc)}") from exc

    async def _client_for(self, entry: _AccountSession, service: str, region: str) -> Any:
        with self._shared.lock:
            client = entry.clients.get((service, region))
        if client is not None:
            return client
        try:
            client = await asyncio.to_thread(self._make_client, entry, service, region)
        except TRANSPORT_ERRORS as exc:
            raise AwsUnavailable(f"cannot create an AWS client: {describe(exc)}") from exc
        with self._shared.lock:
            return entry.clients.setdefault((service, region), client)

    def _make_client(
        self, entry: _AccountSession, service: str, region: str, config: Config | None = None
    ) -> Any:
        # boto3 sessions are not thread-safe: build clients under the lock
        merged = self._botocore_config if config is None else self._botocore_config.merge(config)
        with self._shared.lock:
            client = entry.session.client(service, region_name=region, config=merged)
        install_read_only_hook(client, self._shared.recorder)
        return client

    # ---- calls ----------------------------------------------------------------------

    def _bound(self) -> asyncio.Semaphore:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self._max_concurrency)
        return self._semaphore

    async def call(self, client: Any, operation: str, /, **params: Any) -> dict[str, Any]:
        """Run one API call in a thread (bounded concurrency); errors propagate."""
        method = getattr(client, _snake(operation))
        async with self._bound():
            reply: dict[str, Any] = await asyncio.to_thread(method, **params)
        reply.pop("ResponseMetadata", None)
        return reply

    async def paginate(
        self,
        client: Any,
        operation: str,
        result_key: str,
        /,
        *,
        max_items: int | None = None,
        **params: Any,
    ) -> list[Any]:
        """All items of a paginated list (up to `max_items`); errors propagate."""
        paginator = client.get_paginator(_snake(operation))

        def run() -> list[Any]:
            items: list[Any] = []
            for page in paginator.paginate(**params):
                items.extend(page.get(result_key, []))
                if max_items is not None and len(items) >= max_items:
                    return items[:max_items]
            return items

        async with self._bound():
            return await asyncio.to_thread(run)


def install_read_only_hook(client: Any, recorder: CallRecorder | None = None) -> None:
    """Refuse non-read operations on `client` and record the ones sent."""
    service = client.meta.service_model.signing_name or client.meta.service_model.endpoint_prefix

    def guard(model: Any, **_: Any) -> None:
        operation = operation_name(service, model.name)
        if not is_read_operation(operation):
            raise ReadOnlyViolation(operation)

    def record(model: Any, **_: Any) -> None:
        if recorder is not None:
            recorder.record(operation_name(service, model.name))

    client.meta.events.register_first("provide-client-params.*.*", guard)
    client.meta.events.register_first("before-call.*.*", record)


#: GetCallerIdentity: answers in well under a second when AWS is there at all
_PROBE_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=5
)


def describe(exc: BaseException) -> str:
    """`AccessDeniedException: User ... is not authorized ...` for a botocore error."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code") or "Error"
        message = error.get("Message") or ""
        return f"{code}: {message}" if message else str(code)
    text = str(exc).strip()
    if isinstance(exc, ResponseParserError):
        # botocore appends the whole unparsable body: keep its first line
        text = "the endpoint's reply is not an AWS response (" + text.splitlines()[0] + ")"
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first[:300]}"


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def _same_role(role_arn: str, caller_arn: str) -> bool:
    """Whether an assumed-role caller ARN is a session of `role_arn`."""
    try:
        role = parse_arn(role_arn)
        caller = parse_arn(caller_arn)
    except ValueError:
        return False
    if role.account != caller.account or not caller.resource.startswith("assumed-role/"):
        return False
    return caller.resource.split("/")[1] == role.resource.rsplit("/", 1)[-1]


def _snake(operation: str) -> str:
    """`GetFunctionUrlConfig` -> `get_function_url_config` (botocore's method names)."""
    return str(xform_name(operation))
