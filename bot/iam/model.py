"""Public data types of the policy engine: requests, policy sets and decisions.

This module fixes the API the rest of lambda-why codes against; the engine's modules
(parse, match, conditions, evaluate) fill it in. Pure: no I/O.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ContextValue = str | list[str]


class Verdict(StrEnum):
    """The outcome of AWS's policy evaluation logic."""

    #: an Allow applies in every policy type that must allow, and no Deny applies
    ALLOWED = "allowed"
    #: nothing denies, but some policy type that must allow does not
    IMPLICIT_DENY = "implicit_deny"
    #: a Deny statement applies somewhere
    EXPLICIT_DENY = "explicit_deny"


class PolicyType(StrEnum):
    IDENTITY = "identity"
    RESOURCE = "resource"
    BOUNDARY = "boundary"
    SESSION = "session"
    SCP = "scp"
    RCP = "rcp"


class Request(BaseModel):
    """One authorization request (CONTRACTS §1 `request`)."""

    model_config = ConfigDict(extra="forbid")

    principal: str
    action: str
    resource: str
    resource_account: str | None = None
    context: dict[str, ContextValue] = Field(default_factory=dict)


class StatementRef(BaseModel):
    """A statement that decided the outcome."""

    policy: str  # label, e.g. "identity[0]" or a policy ARN
    sid: str | None = None
    effect: str  # "Allow" or "Deny"
    index: int = 0  # position of the statement in its policy
    policy_type: PolicyType | None = None


class Decision(BaseModel):
    """A verdict that explains itself."""

    verdict: Verdict
    #: explicit deny: types holding the matching Deny; implicit deny: types that failed to allow
    denied_by: list[PolicyType] = Field(default_factory=list)
    #: the Allows that granted, or the Denies that denied
    statements: list[StatementRef] = Field(default_factory=list)
    #: a short human explanation
    explanation: str = ""

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOWED

    def contract_dict(self) -> dict[str, Any]:
        """`decision`, `denied_by` and `statements` as in CONTRACTS §1."""
        return {
            "decision": self.verdict.value,
            "denied_by": [t.value for t in self.denied_by],
            "statements": [
                {"policy": s.policy, "sid": s.sid, "effect": s.effect} for s in self.statements
            ],
        }
