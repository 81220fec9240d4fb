"""Customer managed KMS keys: the key policy is the gatekeeper.

AWS KMS only honours IAM policies when the key policy delegates to the account (an Allow
for the account principal `arn:aws:iam::<account>:root`); otherwise the key policy itself
must name the principal, or a grant must give it the operation.
https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
AWS managed keys (`KeyManager: AWS`) need no permissions from the caller and are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.checks.common import (
    Ask,
    ContextValue,
    Loaded,
    RolePolicies,
    ask_principal,
    ask_role,
    resource_tag_context,
)
from bot.checks.fixes import ResourceSide, q, resource_side_for, role_principal_statement
from bot.iam import Decision, PolicyType, Verdict
from bot.report import Finding, Fix, Severity, Status
from bot.snapshot import KmsKey, Snapshot

#: an account id no real caller has, used to ask the key policy on its own
_OTHER_ACCOUNT = "000000000000"


@dataclass
class KeyAnswers:
    asks: list[Ask] = field(default_factory=list)
    side: ResourceSide | None = None
    key: KmsKey | None = None
    #: the key is AWS managed: nothing to check
    aws_managed: bool = False


def find_key(snapshot: Snapshot, key_ref: str) -> KmsKey | None:
    """The key read for `key_ref` (key ARN, alias ARN or bare key id)."""
    if key_ref in snapshot.kms_keys:
        return snapshot.kms_keys[key_ref]
    tail = key_ref.rsplit("/", 1)[-1]
    for arn, key in snapshot.kms_keys.items():
        if arn.rsplit("/", 1)[-1] == tail:
            return key
    return None


def key_asks(
    snapshot: Snapshot,
    rp: RolePolicies,
    key_ref: str,
    actions: tuple[str, ...],
    *,
    via_service: str | None = None,
    encryption_context: Mapping[str, str] | None = None,
    required: bool = True,
) -> KeyAnswers:
    """May the execution role use `key_ref` for `actions`? One Ask per action."""
    key = find_key(snapshot, key_ref)
    answers = KeyAnswers(key=key)
    if key is None and (":alias/aws/" in key_ref or key_ref.startswith("alias/aws/")):
        # alias/aws/<service> always names the service's AWS managed key
        answers.aws_managed = True
        return answers
    if key is not None and (key.key_manager or "").upper() == "AWS":
        answers.aws_managed = True
        return answers
    key_arn = key.arn if key is not None else key_ref
    missing: list[str] = []
    if key is None:
        missing.append(f"KMS key {key_ref} (not read)")
    elif key.policy is None:
        gap = next((g for g in snapshot.gaps if g.resource == key.arn), None)
        missing.append(
            f"key policy of {key.arn} (not read"
            + (f": {gap.operation} {gap.error}" if gap is not None else "")
            + ")"
        )
    key_account = key_arn.split(":")[4] if key_arn.count(":") >= 5 else snapshot.account
    context: dict[str, ContextValue] = {"kms:CallerAccount": snapshot.account}
    if via_service:
        context["kms:ViaService"] = via_service
    for k, v in (encryption_context or {}).items():
        context[f"kms:EncryptionContext:{k}"] = v
    if encryption_context:
        context["kms:EncryptionContextKeys"] = sorted(encryption_context)
    # the key's tags also reach the key-policy-only question below
    context.update(resource_tag_context(snapshot, key_arn, ())[0])
    label = f"key policy of {key_arn}"
    for action in actions:
        full = ask_role(
            snapshot,
            rp,
            action,
            key_arn,
            resource_policy=key.policy if key is not None else None,
            resource_label=label,
            resource_missing=missing,
            resource_account=key_account,
            context=context,
            required=required,
        )
        if key is not None and _granted(key, rp.role_arn, action) and not full.explicit:
            full.decision = Decision(
                verdict=Verdict.ALLOWED,
                explanation=f"a grant on {key_arn} gives {action} to the role",
            )
            full.missing = [m for m in full.missing if not m.startswith("key policy")]
        elif (
            full.allowed
            and key is not None
            and key.policy is not None
            and not _key_policy_admits(
                key.policy, rp.role_arn, key_account, action, key_arn, context
            )
        ):
            full.decision = Decision(
                verdict=Verdict.IMPLICIT_DENY,
                denied_by=[PolicyType.RESOURCE],
                explanation=(
                    "the key policy neither names the role nor delegates to IAM "
                    f"(no Allow for arn:aws:iam::{key_account}:root)"
                ),
            )
        elif (
            not full.allowed
            and not full.explicit
            and key is not None
            and key.policy is not None
            and PolicyType.RESOURCE in full.decision.denied_by
            and _key_policy_admits(key.policy, rp.role_arn, key_account, action, key_arn, context)
        ):
            # the key policy delegates to IAM: only the role's own policies are lacking
            full.decision = full.decision.model_copy(
                update={
                    "denied_by": [t for t in full.decision.denied_by if t != PolicyType.RESOURCE]
                }
            )
        answers.asks.append(full)
    statement = role_principal_statement(
        "AllowLambdaExecutionRole", rp.role_arn, list(actions), "*"
    )
    answers.side = resource_side_for(
        "kms",
        key_arn,
        key.policy if key is not None else None,
        statement,
        rp.role_arn,
        list(actions),
    )
    return answers


def _granted(key: KmsKey, role_arn: str, action: str) -> bool:
    op = action.split(":", 1)[1]
    for grant in key.grants:
        if grant.grantee_principal != role_arn:
            continue
        if op in grant.operations or (
            op.startswith("GenerateDataKey") and "GenerateDataKey" in grant.operations
        ):
            return True
    return False


def _key_policy_admits(  # noqa: PLR0917
    policy: dict[str, object],
    role_arn: str,
    key_account: str,
    action: str,
    key_arn: str,
    context: Mapping[str, ContextValue],
) -> bool:
    """Does the key policy name the role, or allow the account (delegating to IAM)?

    Asked as a cross-account request with an allow-all stand-in identity policy: then only
    the key policy decides, and naming either the role or its account is enough, exactly
    KMS's rule. (A same-account question would let the identity policy alone allow.)
    """
    del key_account  # the stand-in account below is deliberately not the key's
    ask = ask_principal(
        role_arn,
        action,
        key_arn,
        policy,
        loaded=Loaded(),
        resource_label="key policy",
        resource_account=_OTHER_ACCOUNT,
        context=context,
        caller_identity_unknown=True,
    )
    return ask.allowed


#: key states in which KMS refuses cryptographic operations whatever the policies
#: https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
UNUSABLE_STATES = frozenset(
    {"Disabled", "PendingDeletion", "PendingImport", "PendingReplicaDeletion", "Unavailable"}
)


def unusable_key(key: KmsKey | None) -> bool:
    return key is not None and key.key_manager != "AWS" and key.key_state in UNUSABLE_STATES


def unusable_key_finding(
    check: str,
    key: KmsKey,
    *,
    principal: str,
    actions: list[str],
    what: str,
    source: str | None,
    consequence: str,
) -> Finding:
    """A fail for a customer managed key that is disabled or scheduled for deletion: no
    policy change helps, the key has to be made usable (or replaced)."""
    state = key.key_state or "unknown"
    commands = []
    if state == "PendingDeletion":
        commands.append(f"aws kms cancel-key-deletion --key-id {q(key.arn)}")
    if state in ("PendingDeletion", "Disabled"):
        commands.append(f"aws kms enable-key --key-id {q(key.arn)}")
    return Finding(
        check=check,
        status=Status.FAIL,
        severity=Severity.HIGH,
        title=f"The KMS key encrypting {what} is {state}",
        detail=(
            f"{what[0].upper() + what[1:]} is encrypted with {key.arn}, which is in state "
            f"{state}: KMS refuses every cryptographic operation with it "
            f"(KMSDisabledException / KMSInvalidStateException), so {consequence}."
        ),
        principal=principal,
        actions=actions,
        resources=[key.arn],
        source=source,
        fix=Fix(
            summary=(
                f"Make the key usable again ({state} → Enabled), or re-encrypt {what} with "
                "an enabled key."
            ),
            commands=commands,
        ),
    )
