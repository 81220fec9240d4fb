"""The diagnosis report: findings, events and gaps (CONTRACTS §2, the `check --json` document).

Everything here is plain typed data shared by the checks, the CLI, Slack and the support
bundle. Field names and values are an outside contract: extend, never rename.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from bot.snapshot import Gap


class Status(StrEnum):
    """Outcome of one check."""

    #: nothing is denied
    PASS = "pass"
    #: something is denied or broken
    FAIL = "fail"
    #: works, but risky or suspicious
    WARN = "warn"
    #: could not be decided: an input could not be read (see `gaps`)
    UNKNOWN = "unknown"


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


class Evidence(BaseModel):
    """A policy statement (or log line, or event) a finding rests on."""

    policy: str | None = None
    sid: str | None = None
    text: str = ""


class Fix(BaseModel):
    """The smallest change that would make the finding pass."""

    summary: str
    policy: dict[str, Any] | None = None
    commands: list[str] = Field(default_factory=list)


class Event(BaseModel):
    """One CloudTrail event that bears on the function's permissions."""

    time: datetime
    event: str
    actor: str | None = None
    source_ip: str | None = None
    error: str | None = None
    summary: str = ""

    @field_serializer("time")
    def _ser_time(self, value: datetime) -> str:
        return utc_iso(value)


class Finding(BaseModel):
    """One result of one check, shaped exactly as CONTRACTS §2 `findings[]`."""

    model_config = ConfigDict(use_enum_values=False)

    check: str
    status: Status
    severity: Severity
    title: str
    detail: str = ""
    principal: str | None = None
    actions: list[str] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    source: str | None = None
    denied_by: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    fix: Fix | None = None
    #: CloudTrail events that plausibly caused this finding (extension of the contract)
    related_events: list[Event] = Field(default_factory=list)


class Summary(BaseModel):
    fail: int = 0
    warn: int = 0
    pass_: int = Field(default=0, alias="pass")
    unknown: int = 0

    model_config = ConfigDict(populate_by_name=True)

    @classmethod
    def of(cls, findings: list[Finding]) -> Summary:
        counts = dict.fromkeys(Status, 0)
        for f in findings:
            counts[f.status] += 1
        return cls(
            fail=counts[Status.FAIL],
            warn=counts[Status.WARN],
            pass_=counts[Status.PASS],
            unknown=counts[Status.UNKNOWN],
        )


class Report(BaseModel):
    """The whole `check --json` document."""

    function: str
    account: str
    region: str
    checked_at: datetime
    summary: Summary
    findings: list[Finding] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    gaps: list[Gap] = Field(default_factory=list)
    #: notes about the scope of the evaluation, e.g. "SCPs and RCPs were not evaluated"
    notes: list[str] = Field(default_factory=list)

    @field_serializer("checked_at")
    def _ser_checked(self, value: datetime) -> str:
        return utc_iso(value)

    def to_json_dict(self) -> dict[str, Any]:
        """The contract document: enum values, `pass` key, UTC `Z` timestamps."""
        return self.model_dump(mode="json", by_alias=True)

    @property
    def failed(self) -> bool:
        return self.summary.fail > 0


def utc_iso(value: datetime) -> str:
    """`2026-11-28T03:00:00Z`: UTC, second precision, `Z` suffix."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
