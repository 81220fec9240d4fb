"""Cross-account role assumption: both sides of `sts:AssumeRole` from the function.

For each role the function's code was seen assuming (its logs, CloudTrail, or
`check --assume ROLE_ARN`), read into `snapshot.assumed_roles`:

- the execution role needs `sts:AssumeRole` on the target (identity policies, boundary,
  SCPs when read) — the function's account's fix;
- the target's trust policy must allow the execution role — the target account's fix.

Both are one evaluation (the trust policy is the resource policy of the request), so the
finding's `denied_by` says which side fails: `identity`/`boundary`/`scp` or `resource`.
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_aws-accounts.html
"""

from __future__ import annotations

import json
import shlex

from bot.checks.common import RolePolicies, ask_role, checked_role, gaps_about
from bot.checks.fixes import ResourceSide, resource_policy_with, role_principal_statement
from bot.checks.outcome import Wording, role_finding
from bot.report import Finding, Severity, Status
from bot.snapshot import Role, Snapshot

ID = "assume-role"
ACTION = "sts:AssumeRole"


def run(snapshot: Snapshot) -> list[Finding]:
    if not snapshot.assumed_roles:
        return []
    rp = checked_role(snapshot)
    if rp is None:
        return []
    return [_target(snapshot, rp, target) for target in snapshot.assumed_roles]


def _account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _target(snapshot: Snapshot, rp: RolePolicies, target: Role) -> Finding:
    account = _account(target.arn)
    if not target.exists:
        gaps = gaps_about(snapshot, target.arn)
        missing_role = not gaps or any(
            "NoSuchEntity" in g.error or "cannot be found" in g.error for g in gaps
        )
        if missing_role:
            return Finding(
                check=ID,
                status=Status.FAIL,
                severity=Severity.HIGH,
                title=f"The role the function assumes does not exist: {target.name}",
                detail=f"The function tries to assume {target.arn}, which does not exist in "
                f"account {account}.",
                principal=rp.role_arn,
                actions=[ACTION],
                resources=[target.arn],
                denied_by=["resource"],
            )
    missing: list[str] = []
    if target.trust_policy is None:
        gaps = gaps_about(snapshot, target.arn)
        why = f" ({gaps[0].operation}: {gaps[0].error})" if gaps else ""
        missing.append(
            f"the trust policy of {target.arn} (account {account} is not configured or not "
            f"reachable){why}"
        )
    ask = ask_role(
        snapshot,
        rp,
        ACTION,
        target.arn,
        resource_policy=target.trust_policy,
        resource_label=f"trust policy of {target.arn}",
        resource_missing=missing,
        resource_account=account or None,
    )
    statement = role_principal_statement("LambdaWhyAssume", rp.role_arn, [ACTION], target.arn)
    statement.pop("Resource")
    new_trust = resource_policy_with(target.trust_policy, statement)
    side = ResourceSide(
        owner=f"the owner of {target.name} (account {account})",
        label=f"trust policy of {target.arn}",
        commands=[
            f"aws iam update-assume-role-policy --role-name {shlex.quote(target.name)} "
            f"--policy-document {shlex.quote(json.dumps(new_trust, separators=(',', ':')))}"
        ],
        statement=statement,
    )
    cross = account != snapshot.account
    wording = Wording(
        fail=f"The function cannot assume {target.name}",
        ok=f"The function can assume {target.name}",
        unknown=f"Could not decide whether the function can assume {target.name}",
        purpose=f"assume {target.arn}",
        context=(
            f"The function's code assumes {target.arn}"
            + (f" in account {account}" if cross else "")
            + ": its execution role needs sts:AssumeRole on it and the role's trust policy "
            "must allow the execution role."
        ),
    )
    return role_finding(
        snapshot, rp, ID, [ask], wording, severity=Severity.HIGH, sid="LambdaWhyAssume",
        resource_side=side,
    )  # fmt: skip
