"""assume-role, container-image and layers checks on snapshot fixtures (no AWS)."""

from __future__ import annotations

from pathlib import Path

from bot.checks import assume_role, container_image, layers
from bot.report import Status
from bot.snapshot import ContainerRepository, Gap, Layer, Role, Snapshot

BASE = Path(__file__).parent / "fixtures" / "diff_working.json"
TARGET = "arn:aws:iam::222222222222:role/reports-reader"
ROLE = "arn:aws:iam::111111111111:role/orders-staging-role"


def base() -> Snapshot:
    snapshot = Snapshot.load(BASE)
    assert snapshot.role is not None
    return snapshot


def trust(principal: str) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
        ],
    }


def allow_assume(snapshot: Snapshot) -> None:
    assert snapshot.role is not None
    snapshot.role.inline_policies[0].document["Statement"].append(  # type: ignore[index]
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": TARGET}
    )


def test_cross_account_trust_missing_is_the_target_accounts_fix() -> None:
    snapshot = base()
    allow_assume(snapshot)
    snapshot.assumed_roles = [
        Role(
            arn=TARGET, name="reports-reader", trust_policy=trust("arn:aws:iam::222222222222:root")
        )
    ]
    [finding] = assume_role.run(snapshot)
    assert finding.status is Status.FAIL
    assert finding.denied_by == ["resource"]
    assert finding.fix is not None
    assert any(
        "update-assume-role-policy --role-name reports-reader" in c for c in finding.fix.commands
    )


def test_cross_account_identity_missing_is_the_functions_fix() -> None:
    snapshot = base()
    snapshot.assumed_roles = [Role(arn=TARGET, name="reports-reader", trust_policy=trust(ROLE))]
    [finding] = assume_role.run(snapshot)
    assert finding.status is Status.FAIL
    assert finding.denied_by == ["identity"]
    assert finding.fix is not None
    assert any("put-role-policy" in c for c in finding.fix.commands)


def test_both_sides_allow_passes() -> None:
    snapshot = base()
    allow_assume(snapshot)
    snapshot.assumed_roles = [Role(arn=TARGET, name="reports-reader", trust_policy=trust(ROLE))]
    [finding] = assume_role.run(snapshot)
    assert finding.status is Status.PASS


def test_unreadable_trust_policy_is_unknown() -> None:
    snapshot = base()
    allow_assume(snapshot)
    snapshot.assumed_roles = [Role(arn=TARGET, name="reports-reader")]
    snapshot.gaps.append(Gap(operation="iam:GetRole", resource=TARGET, error="AccountNotAllowed"))
    [finding] = assume_role.run(snapshot)
    assert finding.status is Status.UNKNOWN
    assert "trust policy" in finding.detail


def image_snapshot(policy: dict[str, object] | None, registry: str = "111111111111") -> Snapshot:
    snapshot = base()
    snapshot.function.package_type = "Image"
    snapshot.function.image_uri = f"{registry}.dkr.ecr.us-east-1.amazonaws.com/orders:latest"
    snapshot.container_repository = ContainerRepository(
        arn=f"arn:aws:ecr:us-east-1:{registry}:repository/orders",
        registry_id=registry,
        name="orders",
        policy=policy,
    )
    return snapshot


LAMBDA_PULL: dict[str, object] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "LambdaECRImageRetrievalPolicy",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        }
    ],
}


def test_image_pull_allowed() -> None:
    [finding] = container_image.run(image_snapshot(LAMBDA_PULL))
    assert finding.status is Status.PASS


def test_image_pull_without_policy_fails_with_set_repository_policy() -> None:
    snapshot = image_snapshot(None)
    snapshot.function.state = "Inactive"
    [finding] = container_image.run(snapshot)
    assert finding.status is Status.FAIL
    assert finding.principal == "lambda.amazonaws.com"
    assert finding.fix is not None
    assert any("aws ecr set-repository-policy" in c for c in finding.fix.commands)


def test_same_account_active_function_without_pull_statement_warns() -> None:
    # Lambda re-adds its statement at the next deploy; the Active function keeps working
    [finding] = container_image.run(image_snapshot(None))
    assert finding.status is Status.WARN
    assert finding.principal == "lambda.amazonaws.com"
    assert finding.actions == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert finding.fix is not None


def test_same_account_explicit_deny_fails_even_when_active() -> None:
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NoServices",
                "Effect": "Deny",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "ecr:*",
            }
        ],
    }
    [finding] = container_image.run(image_snapshot(deny))
    assert finding.status is Status.FAIL


def test_cross_account_image_needs_the_account_too() -> None:
    [finding] = container_image.run(image_snapshot(LAMBDA_PULL, registry="333333333333"))
    assert finding.status is Status.FAIL
    assert finding.fix is not None
    assert "account 333333333333 must make this change" in finding.fix.summary
    assert finding.fix.policy is not None
    sids = [s["Sid"] for s in finding.fix.policy["Statement"]]
    assert "CrossAccountPermission" in sids


def test_zip_function_has_no_image_finding() -> None:
    assert container_image.run(base()) == []


LAYER = "arn:aws:lambda:us-east-1:444444444444:layer:shared:3"


def layer_policy(principal: str) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "s",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "lambda:GetLayerVersion",
                "Resource": LAYER,
            }
        ],
    }


def test_layer_shared_with_everyone_passes() -> None:
    snapshot = base()
    snapshot.function.layers = [Layer(arn=LAYER, account="444444444444", policy=layer_policy("*"))]
    [finding] = layers.run(snapshot)
    assert finding.status is Status.PASS


def test_layer_not_shared_fails_with_owner_fix() -> None:
    snapshot = base()
    snapshot.function.layers = [
        Layer(arn=LAYER, account="444444444444", policy=layer_policy("555555555555"))
    ]
    [finding] = layers.run(snapshot)
    assert finding.status is Status.FAIL
    assert finding.fix is not None
    assert "add-layer-version-permission" in finding.fix.commands[0]
    assert "--principal 111111111111" in finding.fix.commands[0]


def test_unreadable_layer_policy_is_unknown_and_own_layers_are_skipped() -> None:
    snapshot = base()
    snapshot.function.layers = [
        Layer(arn=LAYER, account="444444444444"),
        Layer(arn="arn:aws:lambda:us-east-1:111111111111:layer:mine:1", account="111111111111"),
    ]
    [finding] = layers.run(snapshot)
    assert finding.status is Status.UNKNOWN
    assert "only the layer's owner" in finding.detail
