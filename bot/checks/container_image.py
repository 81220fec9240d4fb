"""Container images: the ECR repository policy must let Lambda pull the function's image.

Lambda pulls as the service principal `lambda.amazonaws.com` with `ecr:BatchGetImage` and
`ecr:GetDownloadUrlForLayer`; the repository policy must allow it (Lambda adds the
statement itself at CreateFunction/UpdateFunctionCode when the caller may
`ecr:SetRepositoryPolicy`; removing it later breaks updates and waking an Inactive
function, not the invocations of an Active one: same account + Active + no Deny is a
warning). For a
repository in another account, the policy must also allow the function's account, and the
service statement is expected to carry `aws:sourceArn`/`aws:sourceAccount` conditions
naming the function's account.
https://docs.aws.amazon.com/lambda/latest/dg/images-create.html#configuration-images-permissions
"""

from __future__ import annotations

import json
import shlex

from bot.checks.common import (
    Ask,
    Loaded,
    allow_evidence,
    ask_principal,
    decision_evidence,
    explain_denial,
    gaps_about,
    missing_text,
    verdict_of,
)
from bot.checks.fixes import resource_policy_with
from bot.report import Finding, Fix, Severity, Status
from bot.snapshot import Snapshot

ID = "container-image"
ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
SERVICE = "lambda.amazonaws.com"


def run(snapshot: Snapshot) -> list[Finding]:
    fn = snapshot.function
    repo = snapshot.container_repository
    if fn.package_type != "Image" or repo is None:
        return []
    loaded = Loaded()
    missing: list[str] = []
    if repo.policy is None:
        gaps = [g for g in gaps_about(snapshot, repo.arn) if g.operation.startswith("ecr:")]
        if gaps:
            missing.append(
                f"the repository policy of {repo.arn} ({gaps[0].operation}: {gaps[0].error})"
            )
    cross = repo.registry_id != snapshot.account
    context: dict[str, str | list[str]] = {
        "aws:SourceArn": fn.arn,
        "aws:SourceAccount": snapshot.account,
    }
    asks: list[Ask] = []
    for action in ACTIONS:
        asks.append(
            ask_principal(
                SERVICE, action, repo.arn, repo.policy, loaded=loaded,
                resource_label=f"repository policy of {repo.arn}",
                resource_account=repo.registry_id, context=context, extra_missing=missing,
            )
        )  # fmt: skip
        if cross:
            asks.append(
                ask_principal(
                    f"arn:{snapshot.partition}:iam::{snapshot.account}:root", action, repo.arn,
                    repo.policy, loaded=loaded, resource_label=f"repository policy of {repo.arn}",
                    resource_account=repo.registry_id, caller_identity_unknown=True,
                    extra_missing=missing,
                )
            )  # fmt: skip
    status, deciding = verdict_of(asks)
    principals = [SERVICE] + ([f"account {snapshot.account}"] if cross else [])
    base = {
        "check": ID,
        "principal": SERVICE,
        "actions": list(ACTIONS),
        "resources": [repo.arn],
        "source": fn.image_uri,
    }
    if status is Status.PASS:
        return [
            Finding(
                status=Status.PASS, severity=Severity.INFO,
                title="Lambda may pull the function's container image",
                detail=f"The repository policy of {repo.arn} allows {', '.join(principals)} "
                f"{', '.join(ACTIONS)}.",
                evidence=allow_evidence(asks, loaded), **base,
            )
        ]  # fmt: skip
    if status is Status.UNKNOWN:
        return [
            Finding(
                status=Status.UNKNOWN, severity=Severity.MEDIUM,
                title="Could not decide whether Lambda may pull the function's image",
                detail=f"Could not be decided: {missing_text(deciding)}.", **base,
            )
        ]  # fmt: skip
    denied = [a for a in deciding if not a.allowed]
    # Same account, function Active, no Deny: the image was pulled and optimized when the
    # function was deployed, and Lambda adds its own statement back at the next
    # CreateFunction/UpdateFunctionCode when the deployer may ecr:SetRepositoryPolicy.
    # Invocations work now; only re-optimization (an update, or waking an Inactive
    # function) needs the pull: a warning, not a failure.
    latent = not cross and fn.state == "Active" and not any(a.explicit for a in denied)
    statements = [
        {
            "Sid": "LambdaECRImageRetrievalPolicy",
            "Effect": "Allow",
            "Principal": {"Service": SERVICE},
            "Action": list(ACTIONS),
            **(
                {"Condition": {"StringLike": {"aws:sourceArn": f"arn:{snapshot.partition}:lambda:"
                 f"{snapshot.region}:{snapshot.account}:function:*"}}}
                if cross else {}
            ),
        }
    ]  # fmt: skip
    if cross:
        statements.append(
            {
                "Sid": "CrossAccountPermission",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{snapshot.partition}:iam::{snapshot.account}:root"},
                "Action": list(ACTIONS),
            }
        )
    policy = repo.policy
    for statement in statements:
        policy = resource_policy_with(policy, statement)
    assert policy is not None
    region = repo.arn.split(":")[3]
    command = (
        f"aws ecr set-repository-policy --registry-id {repo.registry_id} --region {region} "
        f"--repository-name {shlex.quote(repo.name)} --policy-text "
        f"{shlex.quote(json.dumps(policy, separators=(',', ':')))}"
    )
    return [
        Finding(
            status=Status.WARN if latent else Status.FAIL,
            severity=Severity.MEDIUM if latent else Severity.HIGH,
            title="Lambda may not pull the function's container image"
            + (" again" if latent else ""),
            detail=(
                f"The function runs image {fn.image_uri}. {explain_denial(denied)}. The "
                f"repository policy of {repo.arn} must allow {', '.join(principals)} "
                f"{' and '.join(ACTIONS)}"
                + (" (Lambda adds this itself only in the same account)." if cross else ".")
                + (
                    " The function is Active, so its image was pulled when it was deployed "
                    "and invocations work; the next code update fails unless the deployer "
                    "may ecr:SetRepositoryPolicy (Lambda then adds the statement itself), and "
                    "a function that goes Inactive cannot be woken."
                    if latent
                    else ""
                )
            ),
            denied_by=sorted({t for a in denied for t in a.denied_by}),
            evidence=decision_evidence(denied, loaded),
            fix=Fix(
                summary=f"Allow {', '.join(principals)} {', '.join(ACTIONS)} in the repository "
                f"policy of {repo.name}"
                + (f" (account {repo.registry_id} must make this change)." if cross else "."),
                policy=policy,
                commands=[command],
            ),
            **base,
        )
    ]
