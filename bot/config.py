"""Configuration (CONTRACTS §4): environment variables, a `.env` file, and optional TOML.

Read only in the composition roots (CLI commands, `serve`, `worker`, `demo`) and passed
down explicitly: no module-level settings object exists.
"""

from __future__ import annotations

import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ROLE_NAME = "LambdaWhyReadOnly"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"

_ACCOUNT = re.compile(r"^\d{12}$")
#: an IAM role ARN (any path), in a partition lambda-why knows
_ROLE_ARN = re.compile(
    r"^arn:aws(?:-cn|-us-gov|-iso(?:-[bef])?)?:iam::(?P<account>\d{12}):role/[\w+=,.@/-]+$"
)
#: a role name, optionally with a path (`LambdaWhyReadOnly`, `audit/LambdaWhyReadOnly`)
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$|^(?:[\w+=,.@-]+/){1,}[\w+=,.@-]{1,64}$")
#: a Slack conversation or user group ID (`C0123ABCD`, `G0PRIVATE`, `S0ONCALL`): refuse what
#: is plainly not one (a `#name`, `@handle`, blanks), which would silently never match
_SLACK_ID = re.compile(r"^[^#@\s]\S*$")
#: `[slack] locale` values: a language lambda-why has (`en`, `ja`), optionally with a region
_LOCALE = re.compile(r"^(?:en|ja)(?:[-_][A-Za-z]{2})?$")


class ConfigError(Exception):
    """Configuration that cannot be used; the message says what and where (one line)."""


def _role_arn(value: str | None) -> str | None:
    if value is not None and not _ROLE_ARN.match(value):
        raise ValueError(f"{value!r} is not an IAM role ARN (arn:aws:iam::111111111111:role/NAME)")
    return value


def _slack_id(value: str | None, what: str) -> str | None:
    if value is not None and not _SLACK_ID.match(value):
        example = "S0ONCALL" if what == "user group" else "C0123ABCD"
        raise ValueError(f"{value!r} is not a Slack {what} ID (such as {example}; not a #name)")
    return value


#: the TOML file is typed: a string where a list is expected (or "yes" for true) is an error
_FILE_MODEL = ConfigDict(extra="forbid", strict=True)


class AccountConfig(BaseModel):
    model_config = _FILE_MODEL

    role_arn: str | None = None
    external_id: str | None = None
    #: Slack channels that may check this account; None: any
    channels: list[str] | None = None

    @field_validator("role_arn")
    @classmethod
    def _check_role(cls, value: str | None) -> str | None:
        return _role_arn(value)

    @field_validator("channels")
    @classmethod
    def _channel_ids(cls, value: list[str] | None) -> list[str] | None:
        for channel in value or []:
            _slack_id(channel, "channel")
        return value


class EscalationConfig(BaseModel):
    model_config = _FILE_MODEL

    channel: str | None = None
    mention: str | None = None  # user group id (S...) to mention
    #: open an AWS Support case (support:CreateCase) on escalation
    support_case: bool = False

    @field_validator("channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        return _slack_id(value, "channel")

    @field_validator("mention")
    @classmethod
    def _group_id(cls, value: str | None) -> str | None:
        return _slack_id(value, "user group")


class OrganizationConfig(BaseModel):
    model_config = _FILE_MODEL

    role_arn: str
    external_id: str | None = None

    @field_validator("role_arn")
    @classmethod
    def _check_role(cls, value: str) -> str:
        _role_arn(value)
        return value


class SlackFileConfig(BaseModel):
    model_config = _FILE_MODEL

    #: force a locale ("en" or "ja") instead of the user's Slack locale
    locale: str | None = None
    #: per-user rate limit: commands per minute (0: no limit)
    rate_limit_per_minute: int = Field(default=30, ge=0)
    #: checks of one AWS account that may run at the same time (all workers together)
    account_concurrency: int = Field(default=2, ge=1)
    #: seconds one check may run before it is abandoned
    job_timeout_seconds: int = Field(default=300, ge=1)

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str | None) -> str | None:
        if value is not None and not _LOCALE.match(value):
            raise ValueError(f"{value!r} is not a language lambda-why speaks (en or ja)")
        return value


class FileConfig(BaseModel):
    """The TOML file named by `LAMBDA_WHY_CONFIG`."""

    model_config = _FILE_MODEL

    accounts: dict[str, AccountConfig] = Field(default_factory=dict)
    escalation: EscalationConfig = Field(default_factory=EscalationConfig)
    organization: OrganizationConfig | None = None
    slack: SlackFileConfig = Field(default_factory=SlackFileConfig)

    @model_validator(mode="before")
    @classmethod
    def _account_ids(cls, data: Any) -> Any:
        accounts = data.get("accounts") if isinstance(data, dict) else None
        if isinstance(accounts, dict):
            for account in accounts:
                if not _ACCOUNT.match(str(account)):
                    raise ValueError(
                        f"accounts: {account!r} is not an AWS account ID (12 digits, quoted: "
                        '[accounts."111111111111"])'
                    )
        return data

    @model_validator(mode="after")
    def _roles_in_their_accounts(self) -> FileConfig:
        for account, entry in self.accounts.items():
            match = _ROLE_ARN.match(entry.role_arn or "")
            if match is not None and match["account"] != account:
                raise ValueError(
                    f"accounts.{account}.role_arn: {entry.role_arn} is in account "
                    f"{match['account']}; the role that reads account {account} must be in it"
                )
        return self

    @classmethod
    def load(cls, path: Path) -> FileConfig:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"config file {path} is not UTF-8 text: {exc.reason}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"config file {path}: {_file_error(exc)}") from exc


def _file_error(exc: ValidationError) -> str:
    """The first error as `key.path: what is wrong`, naming the allowed keys for an
    unknown one."""
    first = exc.errors()[0]
    loc = tuple(str(p) for p in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = ", ".join(parent.model_fields) if parent is not None else ""
        message = "unknown key" + (f" (allowed here: {allowed})" if allowed else "")
    elif first["type"] == "missing":
        message = "required key is missing"
    elif first["type"] in _EXPECTED:
        message = f"must be {_EXPECTED[first['type']]} (got {_toml_type(first.get('input'))})"
    where = ".".join(loc)
    return f"{where}: {message}" if where and not message.startswith(where) else message


def _model_at(loc: tuple[str, ...]) -> type[BaseModel] | None:
    """The model that validates the table at `loc` (`accounts.111111111111` -> AccountConfig)."""
    model: Any = FileConfig
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _inner(field.annotation)
        if typing.get_origin(model) is dict:
            if not parts:
                return None  # a table whose keys are free (account IDs)
            parts.pop(0)
            model = _inner(typing.get_args(model)[1])
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner(annotation: Any) -> Any:
    """`X | None` -> X."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return args[0] if len(args) == 1 else annotation
    return annotation


#: pydantic's type errors, as TOML calls the expected type
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "a boolean",
    "list_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
}


def _toml_type(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number",
             list: "an array", dict: "a table"}  # fmt: skip
    return names.get(type(value), type(value).__name__)


class Settings(BaseSettings):
    """Environment variables (and `.env`), CONTRACTS §4. An empty variable counts as unset
    (`deploy/env.example` holds `SLACK_BOT_TOKEN=` and the like)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    port: int = 3000
    redis_url: str | None = None
    lambda_why_role_name: str = DEFAULT_ROLE_NAME
    lambda_why_external_id: str | None = None
    escalation_channel: str | None = None
    lambda_why_config: Path | None = None

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 0 <= value <= 65535:
            raise ValueError(f"{value} is not a TCP port (0-65535)")
        return value

    @field_validator("lambda_why_role_name")
    @classmethod
    def _role_name(cls, value: str) -> str:
        if not _ROLE_NAME.match(value):
            raise ValueError(
                f"{value!r} is not an IAM role name (letters, digits and +=,.@_-; "
                "optionally after a path such as audit/)"
            )
        return value

    def file_config(self) -> FileConfig:
        """The TOML configuration, or an empty one when `LAMBDA_WHY_CONFIG` is unset."""
        if self.lambda_why_config is None:
            return FileConfig()
        return FileConfig.load(self.lambda_why_config)


def load_settings() -> Settings:
    """The environment (and `.env`); ConfigError naming the variable that is wrong."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = "_".join(str(p) for p in first["loc"]).upper() or "environment"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"environment variable {variable}: {message}") from exc


def load_config() -> tuple[Settings, FileConfig]:
    """Settings and the `LAMBDA_WHY_CONFIG` file, for a composition root; raises
    ConfigError with a one-line message naming the variable or key."""
    settings = load_settings()
    return settings, settings.file_config()


class AccountAccess(BaseModel):
    """How to reach one account: resolved from Settings and FileConfig."""

    account: str
    role_arn: str | None  # None: use the current credentials (own account)
    external_id: str | None = None


def account_access(
    settings: Settings, config: FileConfig, account: str, own_account: str, partition: str = "aws"
) -> AccountAccess:
    """The role to assume for `account` (none for the bot's own account)."""
    entry = config.accounts.get(account)
    if entry is not None and entry.role_arn:
        return AccountAccess(
            account=account,
            role_arn=entry.role_arn,
            external_id=entry.external_id or settings.lambda_why_external_id,
        )
    if account == own_account:
        return AccountAccess(account=account, role_arn=None)
    return AccountAccess(
        account=account,
        role_arn=f"arn:{partition}:iam::{account}:role/{settings.lambda_why_role_name}",
        external_id=(entry.external_id if entry else None) or settings.lambda_why_external_id,
    )


def account_allowed(config: FileConfig, account: str, own_account: str) -> bool:
    """With no config file only the bot's own account may be checked (CONTRACTS §4)."""
    if not config.accounts:
        return account == own_account
    return account in config.accounts or account == own_account


def channel_allowed(config: FileConfig, account: str, channel: str) -> bool:
    entry = config.accounts.get(account)
    return entry is None or entry.channels is None or channel in entry.channels
