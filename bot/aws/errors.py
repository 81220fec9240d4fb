"""Errors a diagnosis can end with. Everything else that fails is a `Gap`, not an exception.

- `BadFunctionRef`, `FunctionNotFound`, `AccountNotAllowed`: bad input, CLI exit 2.
- `AwsUnavailable`: AWS could not be reached, no credentials, or the read-only role of
  the target account could not be assumed; CLI exit 3.
- `ReadOnlyViolation`: a programming error, lambda-why tried to call a non-read API; the
  event hook refuses it before anything is sent.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError
from botocore.parsers import ResponseParserError

from bot.arns import BadFunctionRef

__all__ = [
    "TRANSPORT_ERRORS",
    "AccountNotAllowed",
    "AwsUnavailable",
    "BadFunctionRef",
    "FunctionNotFound",
    "ReadOnlyViolation",
]


#: failures with no AWS error code: the transport (no credentials, endpoint unreachable,
#: timeouts), or a reply that is not AWS's (an empty or HTML body from a proxy or a
#: non-AWS endpoint: `ResponseParserError` is not a `BotoCoreError`)
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (BotoCoreError, ResponseParserError)


class FunctionNotFound(LookupError):
    """GetFunction said the function (or its qualifier) does not exist."""

    def __init__(self, function: str, account: str, region: str, qualifier: str | None = None):
        what = f"{function}:{qualifier}" if qualifier else function
        super().__init__(f"function {what} not found in account {account} region {region}")
        self.function = function
        self.account = account
        self.region = region
        self.qualifier = qualifier


class AccountNotAllowed(PermissionError):
    """The account is not configured (CONTRACTS §4) or the channel may not check it."""

    def __init__(self, account: str, reason: str = "") -> None:
        super().__init__(
            reason
            or f"account {account} is not configured for lambda-why "
            "(add it under [accounts] in the LAMBDA_WHY_CONFIG file)"
        )
        self.account = account


class AwsUnavailable(RuntimeError):
    """AWS could not be reached, there are no credentials, or a role could not be assumed."""


class ReadOnlyViolation(RuntimeError):
    """lambda-why refused to send an AWS API call that is not a read."""

    def __init__(self, operation: str) -> None:
        super().__init__(f"lambda-why is read-only and refused to call {operation}")
        self.operation = operation
