"""What `explain` read about a message's principal and resource (pure data)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from bot.snapshot import NamedPolicy, PolicyDocument

PrincipalKind = Literal["role", "user", "root", "service", "anonymous", "unknown"]


class PrincipalPolicies(BaseModel):
    """The identity side of a request, as far as it could be read."""

    arn: str | None = None
    kind: PrincipalKind = "unknown"
    account: str | None = None
    #: the IAM entity the policies belong to (role ARN for an assumed-role session)
    entity_arn: str | None = None
    identity: list[NamedPolicy] = Field(default_factory=list)
    boundary: NamedPolicy | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    #: False when the identity policies could not be read (see the reader's gaps)
    read: bool = False
    exists: bool = True


class ResourcePolicy(BaseModel):
    """The resource's policy: `state` says whether one was read, absent, or not applicable."""

    state: Literal["read", "none", "unreadable", "not-applicable"]
    document: PolicyDocument | None = None
    label: str | None = None
    #: the account owning the resource when known (S3 ARNs carry none)
    account: str | None = None
    #: how to name it in text, e.g. "the key policy of arn:aws:kms:..."
    description: str = ""
