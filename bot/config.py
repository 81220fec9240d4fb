"""Configuration (CONTRACTS §4): environment variables, a `.env` file, and optional TOML.

Read only in the composition roots (CLI commands, `serve`, `worker`, `demo`) and passed
down explicitly: no module-level settings object exists.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ROLE_NAME = "LambdaWhyReadOnly"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class ConfigError(Exception):
    """Configuration that cannot be used; the message says what and where."""


class AccountConfig(BaseModel):
    model_config = {"extra": "forbid"}

    role_arn: str | None = None
    external_id: str | None = None
    #: Slack channels that may check this account; None: any
    channels: list[str] | None = None


class EscalationConfig(BaseModel):
    model_config = {"extra": "forbid"}

    channel: str | None = None
    mention: str | None = None  # user group id (S...) to mention
    #: open an AWS Support case (support:CreateCase) on escalation
    support_case: bool = False


class OrganizationConfig(BaseModel):
    model_config = {"extra": "forbid"}

    role_arn: str
    external_id: str | None = None


class SlackFileConfig(BaseModel):
    model_config = {"extra": "forbid"}

    #: force a locale ("en" or "ja") instead of the user's Slack locale
    locale: str | None = None
    #: per-user rate limit: commands per minute
    rate_limit_per_minute: int = 30
    #: checks of one AWS account that may run at the same time (all workers together)
    account_concurrency: int = 2
    #: seconds one check may run before it is abandoned
    job_timeout_seconds: int = 300


class FileConfig(BaseModel):
    """The TOML file named by `LAMBDA_WHY_CONFIG`."""

    model_config = {"extra": "forbid"}

    accounts: dict[str, AccountConfig] = Field(default_factory=dict)
    escalation: EscalationConfig = Field(default_factory=EscalationConfig)
    organization: OrganizationConfig | None = None
    slack: SlackFileConfig = Field(default_factory=SlackFileConfig)

    @field_validator("accounts")
    @classmethod
    def _account_ids(cls, value: dict[str, AccountConfig]) -> dict[str, AccountConfig]:
        for account in value:
            if not (len(account) == 12 and account.isdigit()):
                raise ValueError(f"account id {account!r} is not 12 digits")
        return value

    @classmethod
    def load(cls, path: Path) -> FileConfig:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"config file {path}: {where}: {first['msg']}") from exc


class Settings(BaseSettings):
    """Environment variables (and `.env`), CONTRACTS §4."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

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
        return value if value.endswith("/") else value + "/"

    def file_config(self) -> FileConfig:
        """The TOML configuration, or an empty one when `LAMBDA_WHY_CONFIG` is unset."""
        if self.lambda_why_config is None:
            return FileConfig()
        return FileConfig.load(self.lambda_why_config)


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
