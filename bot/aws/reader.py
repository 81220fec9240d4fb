"""Reads for one diagnosis: every failed read becomes a `Gap`, never an exception.

A `Reader` is bound to the function's account and region and collects the gaps of one
diagnosis. `call` / `pages` return the reply, `None` after a failure (a gap was
recorded), or `NOT_FOUND` (an empty mapping) when AWS said the optional thing does not
exist (a missing resource policy is "none", not a gap).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final, TypeVar

from botocore.exceptions import ClientError

from bot.arns import account_of
from bot.aws.access import AwsAccess, describe, error_code
from bot.aws.errors import TRANSPORT_ERRORS, AccountNotAllowed, AwsUnavailable
from bot.config import account_allowed
from bot.snapshot import Gap

T = TypeVar("T")

#: the reply for "AWS says it does not exist" (identity-compare: `reply is NOT_FOUND`)
NOT_FOUND: Final[Mapping[str, Any]] = MappingProxyType({})

#: failures of one read that become a gap (NotImplementedError: an in-process emulator
#: such as moto lacks the operation)
_READ_ERRORS: tuple[type[Exception], ...] = (
    *TRANSPORT_ERRORS,
    AwsUnavailable,
    AccountNotAllowed,
    NotImplementedError,
)

Reply = Mapping[str, Any]


class Reader:
    """Gap-recording reads in one account and region (other accounts on request)."""

    def __init__(
        self,
        access: AwsAccess,
        *,
        account: str,
        region: str,
        partition: str = "aws",
        fresh: bool = False,
    ) -> None:
        self.access = access
        self.account = account
        self.region = region
        self.partition = partition
        self.fresh = fresh
        self.gaps: list[Gap] = []

    def gap(self, operation: str, resource: str | None, error: str) -> None:
        candidate = Gap(operation=operation, resource=resource, error=error)
        if candidate not in self.gaps:
            self.gaps.append(candidate)

    async def account_for(self, arn: str | None) -> str:
        """The account to read `arn` with: its owner when lambda-why may reach it, else
        the function's account (cross-account reads then succeed only where the
        resource's policy lets that account read)."""
        owner = account_of(arn) if arn else None
        if owner is None or owner == self.account:
            return self.account
        own = await self.access.own_identity()
        if account_allowed(self.access.config, owner, own.account):
            return owner
        return self.account

    async def _client(self, service: str, account: str | None, region: str | None) -> Any:
        account = account or self.account
        if account != self.account:
            own = await self.access.own_identity()
            if not account_allowed(self.access.config, account, own.account):
                raise AccountNotAllowed(account)
        return await self.access.client(service, account=account, region=region or self.region)

    async def call(
        self,
        service: str,
        operation: str,
        *,
        resource: str | None = None,
        missing: Iterable[str] = (),
        account: str | None = None,
        region: str | None = None,
        gap_operation: str | None = None,
        **params: Any,
    ) -> Reply | None:
        """One read; a failure is recorded as a gap on `service:operation` and gives None."""
        label = gap_operation or f"{service}:{operation}"
        try:
            client = await self._client(service, account, region)
            return await self.access.call(client, operation, **params)
        except ClientError as exc:
            if error_code(exc) in set(missing):
                return NOT_FOUND
            self.gap(label, resource, describe(exc))
        except _READ_ERRORS as exc:
            # NotImplementedError: an in-process emulator (moto) lacks the operation
            self.gap(label, resource, _describe_other(exc))
        return None

    async def pages(
        self,
        service: str,
        operation: str,
        result_key: str,
        *,
        resource: str | None = None,
        missing: Iterable[str] = (),
        account: str | None = None,
        region: str | None = None,
        max_items: int | None = None,
        **params: Any,
    ) -> list[Any] | None:
        """All items of a paginated read; None after a failure (gap recorded)."""
        label = f"{service}:{operation}"
        try:
            client = await self._client(service, account, region)
            return await self.access.paginate(
                client, operation, result_key, max_items=max_items, **params
            )
        except ClientError as exc:
            if error_code(exc) in set(missing):
                return []
            self.gap(label, resource, describe(exc))
        except _READ_ERRORS as exc:
            # NotImplementedError: an in-process emulator (moto) lacks the operation
            self.gap(label, resource, _describe_other(exc))
        return None

    async def cached(
        self,
        key: Hashable,
        factory: Callable[[], Awaitable[tuple[T, list[Gap]]]],
        *,
        ttl: float | None = None,
        immutable: bool = False,
    ) -> T:
        """A cached sub-read: `factory` returns (value, its gaps); gaps are replayed here.

        Results whose read left gaps are not cached, so a transient failure is retried.
        `immutable` values (policy versions) are reused even by a fresh read.
        """
        value, gaps = await self.access.cached(
            key,
            factory,
            fresh=self.fresh and not immutable,
            ttl=ttl,
            keep=lambda result: not result[1],
        )
        for gap in gaps:
            self.gap(gap.operation, gap.resource, gap.error)
        return value

    def child(self) -> Reader:
        """A reader sharing account/region/fresh but with its own gap list (for caching)."""
        return Reader(
            self.access,
            account=self.account,
            region=self.region,
            partition=self.partition,
            fresh=self.fresh,
        )


async def gather(*aws: Awaitable[T]) -> list[T]:
    """`asyncio.gather` that keeps result order (concurrency is bounded by AwsAccess)."""
    return list(await asyncio.gather(*aws))


def _describe_other(exc: BaseException) -> str:
    if isinstance(exc, TRANSPORT_ERRORS):
        return describe(exc)
    return f"{type(exc).__name__}: {exc}"
