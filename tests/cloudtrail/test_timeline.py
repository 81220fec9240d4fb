"""timeline / correlate / pattern on snapshot fixtures (no AWS)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.report import Evidence, Finding, Severity, Status
from bot.timeline import (
    correlate,
    denial_span,
    normalise_name,
    pattern,
    timeline,
)
from tests.cloudtrail import records as r
from tests.cloudtrail.conftest import (
    FUNCTION,
    KEY_ARN,
    NOW,
    POLICY_ARN,
    ROLE,
    ROLE_ARN,
    make_snapshot,
)

ALICE = "arn:aws:sts::111111111111:assumed-role/deployer/alice"


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("RemovePermission20150331v2", "RemovePermission"),
        ("AddPermission20150331v2", "AddPermission"),
        ("UpdateFunctionConfiguration20150331v2", "UpdateFunctionConfiguration"),
        ("CreateFunction20150331", "CreateFunction"),
        ("TagResource20170331v2", "TagResource"),
        ("PublishLayerVersion20181031", "PublishLayerVersion"),
        ("DeleteFunction", "DeleteFunction"),
        ("DetachRolePolicy", "DetachRolePolicy"),
        ("CreateNetworkInterface", "CreateNetworkInterface"),
    ],
)
def test_normalise_name(raw: str, plain: str) -> None:
    assert normalise_name(raw) == plain


def invoke_finding(**extra: object) -> Finding:
    data: dict[str, object] = {
        "check": "invoke-permissions",
        "status": Status.FAIL,
        "severity": Severity.HIGH,
        "title": "S3 bucket orders-upload may not invoke the function",
        "detail": "No statement of the resource policy allows s3.amazonaws.com.",
        "principal": "s3.amazonaws.com",
        "actions": ["lambda:InvokeFunction"],
        "resources": [f"arn:aws:lambda:us-east-1:111111111111:function:{FUNCTION}"],
        "source": "arn:aws:s3:::orders-upload",
        "denied_by": ["resource"],
    }
    data.update(extra)
    return Finding.model_validate(data)


def role_finding(actions: list[str], **extra: object) -> Finding:
    data: dict[str, object] = {
        "check": "role-permissions",
        "status": Status.FAIL,
        "severity": Severity.HIGH,
        "title": "Execution role lacks permissions",
        "detail": "No identity-based policy allows it.",
        "principal": ROLE_ARN,
        "actions": actions,
        "resources": ["*"],
        "denied_by": ["identity"],
    }
    data.update(extra)
    return Finding.model_validate(data)


def test_timeline_shapes_contract_events_newest_first() -> None:
    snapshot = make_snapshot(
        [
            r.remove_permission(FUNCTION, "s3-orders-upload", time=NOW - timedelta(hours=2)),
            r.detach_role_policy(ROLE, POLICY_ARN, time=NOW - timedelta(hours=1)),
            r.eni_denied(ROLE, FUNCTION, "subnet-0abc", time=NOW - timedelta(minutes=5)),
        ],
        vpc=True,
    )
    events = timeline(snapshot)
    assert [e.event for e in events] == [
        "CreateNetworkInterface",
        "DetachRolePolicy",
        "RemovePermission",
    ]
    remove = events[-1].model_dump(mode="json")
    assert remove == {
        "time": "2026-11-28T01:00:00Z",
        "event": "RemovePermission",
        "actor": ALICE,
        "source_ip": "203.0.113.5",
        "error": None,
        "summary": "removed invoke permission s3-orders-upload",
    }
    assert events[1].summary == f"detached policy {POLICY_ARN} from {ROLE}"
    assert events[0].error == "Client.UnauthorizedOperation"
    assert events[0].summary.startswith("ec2:CreateNetworkInterface on arn:aws:ec2:")
    assert " denied to orders-role/awslambda_" in events[0].summary


def test_timeline_keeps_only_what_bears_on_the_function() -> None:
    snapshot = make_snapshot(
        [
            r.remove_permission("billing", "sns", time=NOW - timedelta(hours=1)),
            # the same name in another region
            r.remove_permission(FUNCTION, "sns", time=NOW - timedelta(hours=1), region="eu-west-1"),
            r.remove_permission(FUNCTION, "old", time=NOW - timedelta(days=3)),
            r.detach_role_policy("other-role", POLICY_ARN, time=NOW - timedelta(hours=1)),
            r.record(
                "GetFunction20150331v2",
                "lambda.amazonaws.com",
                time=NOW - timedelta(hours=1),
                identity=r.assumed_role("deployer", "alice"),
                params={"functionName": FUNCTION},
                read_only=True,
            ),
            # a successful call by the function's code: not an event of the timeline
            r.code_call(
                ROLE,
                FUNCTION,
                action="secretsmanager:GetSecretValue",
                params={"secretId": "prod/db"},
                time=NOW - timedelta(minutes=3),
            ),
            # a denied call of the function's code: kept
            r.code_denied(
                ROLE,
                FUNCTION,
                action="secretsmanager:GetSecretValue",
                resource="arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/db-AbCdEf",
                params={"secretId": "prod/db"},
                time=NOW - timedelta(minutes=2),
            ),
            # by ARN and with a qualifier: still this function
            r.remove_permission(
                f"arn:aws:lambda:us-east-1:111111111111:function:{FUNCTION}:live",
                "apigw",
                time=NOW - timedelta(minutes=1),
            ),
        ]
    )
    events = timeline(snapshot)
    assert [e.event for e in events] == ["RemovePermission", "GetSecretValue"]
    assert events[1].error == "AccessDenied"
    assert events[1].summary.startswith("secretsmanager:GetSecretValue")


def test_cloudtrail_not_read_gives_no_events() -> None:
    assert timeline(make_snapshot(None)) == []
    assert timeline(make_snapshot([])) == []


def test_role_change_summary_names_before_and_after() -> None:
    old = "arn:aws:iam::111111111111:role/orders-role-old"
    snapshot = make_snapshot(
        [
            r.record(
                "CreateFunction20150331",
                "lambda.amazonaws.com",
                time=NOW - timedelta(hours=5),
                identity=r.assumed_role("deployer", "alice"),
                params={"functionName": FUNCTION, "role": old, "runtime": "python3.12"},
            ),
            r.update_function_configuration(FUNCTION, time=NOW - timedelta(hours=1), role=ROLE_ARN),
            r.update_function_configuration(
                FUNCTION,
                time=NOW - timedelta(minutes=30),
                vpcConfig={"subnetIds": [], "securityGroupIds": []},
                kMSKeyArn=KEY_ARN,
                layers=["arn:aws:lambda:us-east-1:222222222222:layer:shared:3"],
                environment={"variables": {"A": "secret"}},
            ),
        ]
    )
    events = timeline(snapshot)
    assert events[1].summary == f"changed execution role from {old} to {ROLE_ARN}"
    assert events[0].summary == (
        "removed the VPC config; changed environment KMS key to "
        f"{KEY_ARN}; changed layers to arn:aws:lambda:us-east-1:222222222222:layer:shared:3; "
        "changed environment variables"
    )
    assert "secret" not in events[0].summary
    assert events[2].summary == f"created function with execution role {old}"


def test_correlate_ties_removed_permission_to_invoke_finding() -> None:
    snapshot = make_snapshot(
        [
            r.add_permission(
                FUNCTION,
                "s3-orders-upload",
                principal="s3.amazonaws.com",
                source_arn="arn:aws:s3:::orders-upload",
                time=NOW - timedelta(hours=10),
            ),
            r.remove_permission(FUNCTION, "s3-orders-upload", time=NOW - timedelta(hours=2)),
            r.remove_permission(FUNCTION, "events-nightly", time=NOW - timedelta(hours=1)),
        ]
    )
    passing = invoke_finding(status=Status.PASS, title="ok")
    [out, same] = correlate([invoke_finding(), passing], snapshot)
    assert same == passing
    assert out.related_events[0].event == "RemovePermission"
    assert out.related_events[0].summary == "removed invoke permission s3-orders-upload"
    assert out.detail == (
        "No statement of the resource policy allows s3.amazonaws.com. Likely cause: alice "
        f"({ALICE}) removed invoke permission s3-orders-upload (RemovePermission) at "
        "2026-11-28T01:00:00Z from 203.0.113.5."
    )
    # and as the finding's last evidence line
    cause = out.evidence[-1]
    assert cause.policy is None
    assert cause.text.startswith(
        f"CloudTrail 2026-11-28T01:00:00Z RemovePermission by {ALICE} from 203.0.113.5"
    )
    assert cause.text.endswith(": removed invoke permission s3-orders-upload")
    # the other removal is plausible too, and listed after the best one
    assert [e.summary for e in out.related_events][1] == "removed invoke permission events-nightly"


def test_correlate_without_add_event_uses_any_removal() -> None:
    snapshot = make_snapshot(
        [r.remove_permission(FUNCTION, "s3-orders-upload", time=NOW - timedelta(hours=2))]
    )
    [out] = correlate([invoke_finding()], snapshot)
    assert "Likely cause: alice" in out.detail
    assert (
        "removed invoke permission s3-orders-upload (RemovePermission) at 2026-11-28T01:00:00Z"
        in out.detail
    )


def test_correlate_ignores_a_statement_that_is_back() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "s3-orders-upload", "Effect": "Allow"}],
    }
    snapshot = make_snapshot(
        [r.remove_permission(FUNCTION, "s3-orders-upload", time=NOW - timedelta(hours=2))],
        resource_policy=policy,
    )
    finding = invoke_finding()
    assert correlate([finding], snapshot) == [finding]


def test_correlate_detached_policy_for_role_finding() -> None:
    snapshot = make_snapshot(
        [
            r.detach_role_policy(ROLE, POLICY_ARN, time=NOW - timedelta(hours=1)),
            r.remove_permission(FUNCTION, "x", time=NOW - timedelta(minutes=10)),
        ]
    )
    [out] = correlate([role_finding(["dynamodb:PutItem"])], snapshot)
    assert [e.event for e in out.related_events] == ["DetachRolePolicy"]
    assert (
        f"bob (arn:aws:sts::111111111111:assumed-role/admin/bob) detached policy {POLICY_ARN}"
        in (out.detail)
    )
    assert "from 198.51.100.20" in out.detail


def test_correlate_boundary_and_vpc_and_trust_and_kms() -> None:
    admin = r.assumed_role("admin", "bob")
    boundary = r.record(
        "PutRolePermissionsBoundary",
        "iam.amazonaws.com",
        time=NOW - timedelta(hours=3),
        identity=admin,
        params={"roleName": ROLE, "permissionsBoundary": POLICY_ARN},
    )
    trust = r.record(
        "UpdateAssumeRolePolicy",
        "iam.amazonaws.com",
        time=NOW - timedelta(hours=2),
        identity=admin,
        params={"roleName": ROLE, "policyDocument": "{}"},
    )
    vpc = r.update_function_configuration(
        FUNCTION,
        time=NOW - timedelta(hours=1),
        vpcConfig={"subnetIds": ["subnet-0abc"], "securityGroupIds": ["sg-1"]},
    )
    grant = r.record(
        "RevokeGrant",
        "kms.amazonaws.com",
        time=NOW - timedelta(minutes=20),
        identity=admin,
        params={"keyId": KEY_ARN, "grantId": "abc123"},
    )
    snapshot = make_snapshot([boundary, trust, vpc, grant], vpc=True, kms=True)

    [b] = correlate([role_finding(["s3:GetObject"], denied_by=["boundary"])], snapshot)
    assert b.related_events[0].event == "PutRolePermissionsBoundary"

    eni = role_finding(["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces"])
    [v] = correlate([eni], snapshot)
    assert v.related_events[0].event == "UpdateFunctionConfiguration"
    assert "changed VPC config to subnets subnet-0abc" in v.detail

    trust_finding = Finding(
        check="trust-policy",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title="Lambda cannot assume the execution role",
        principal="lambda.amazonaws.com",
        actions=["sts:AssumeRole"],
        resources=[ROLE_ARN],
    )
    [t] = correlate([trust_finding], snapshot)
    assert [e.event for e in t.related_events] == ["UpdateAssumeRolePolicy"]
    assert f"changed trust policy of {ROLE}" in t.detail

    kms = role_finding(["kms:Decrypt"], resources=[KEY_ARN])
    [k] = correlate([kms], snapshot)
    assert k.related_events[0].event == "RevokeGrant"
    assert "revoked grant abc123" in k.detail


def test_correlate_evidence_policy_makes_an_attach_specific() -> None:
    deny_arn = "arn:aws:iam::111111111111:policy/deny-secrets"
    snapshot = make_snapshot(
        [
            r.record(
                "AttachRolePolicy",
                "iam.amazonaws.com",
                time=NOW - timedelta(hours=4),
                identity=r.assumed_role("admin", "bob"),
                params={"roleName": ROLE, "policyArn": deny_arn},
            ),
            r.detach_role_policy(ROLE, POLICY_ARN, time=NOW - timedelta(hours=1)),
        ]
    )
    finding = role_finding(
        ["secretsmanager:GetSecretValue"],
        evidence=[Evidence(policy=deny_arn, sid="DenySecrets", text="Deny")],
    )
    [out] = correlate([finding], snapshot)
    assert out.related_events[0].event == "AttachRolePolicy"


def test_failed_changes_are_not_causes() -> None:
    rec = r.remove_permission(FUNCTION, "s3-orders-upload", time=NOW - timedelta(hours=1))
    rec["errorCode"] = "ResourceNotFoundException"
    rec["errorMessage"] = "The resource you requested does not exist."
    snapshot = make_snapshot([rec])
    assert timeline(snapshot)[0].summary.startswith(
        "attempt failed (ResourceNotFoundException): removed invoke permission"
    )
    finding = invoke_finding()
    assert correlate([finding], snapshot) == [finding]


def denied(minutes: int) -> dict[str, object]:
    return r.code_denied(
        ROLE,
        FUNCTION,
        action="secretsmanager:GetSecretValue",
        resource="arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/db-AbCdEf",
        params={"secretId": "prod/db"},
        time=NOW - timedelta(minutes=minutes),
    )


def succeeded(minutes: int) -> dict[str, object]:
    return r.code_call(
        ROLE,
        FUNCTION,
        action="secretsmanager:GetSecretValue",
        params={"secretId": "prod/db"},
        time=NOW - timedelta(minutes=minutes),
    )


def test_pattern_intermittent_continuous_unknown() -> None:
    assert pattern(make_snapshot([])) == "unknown"
    assert denial_span(make_snapshot([])) is None

    interleaved = make_snapshot([denied(50), succeeded(40), denied(30), succeeded(20)])
    assert pattern(interleaved) == "intermittent"

    run = make_snapshot([succeeded(90), denied(50), denied(30), denied(10)])
    assert pattern(run) == "continuous"
    span = denial_span(run)
    assert span is not None
    assert span.first_seen == NOW - timedelta(minutes=50)
    assert span.last_seen == NOW - timedelta(minutes=10)
    assert span.count == 3
    assert span.actions == ("secretsmanager:GetSecretValue",)

    single = make_snapshot([denied(10)])
    assert pattern(single) == "unknown"
    after_change = make_snapshot(
        [r.detach_role_policy(ROLE, POLICY_ARN, time=NOW - timedelta(hours=1)), denied(10)]
    )
    assert pattern(after_change) == "continuous"


def test_lambda_denied_assume_role_is_in_the_timeline() -> None:
    rec = r.record(
        "AssumeRole",
        "sts.amazonaws.com",
        time=NOW - timedelta(minutes=10),
        identity={"type": "AWSService", "invokedBy": "lambda.amazonaws.com"},
        params={"roleArn": ROLE_ARN, "roleSessionName": FUNCTION},
        error_code="AccessDenied",
        error_message=(
            f"User: lambda.amazonaws.com is not authorized to perform: sts:AssumeRole on "
            f"resource: {ROLE_ARN}"
        ),
        resources=[{"accountId": "111111111111", "type": "AWS::IAM::Role", "ARN": ROLE_ARN}],
        source_ip="lambda.amazonaws.com",
        user_agent="lambda.amazonaws.com",
    )
    [event] = timeline(make_snapshot([rec]))
    assert event.event == "AssumeRole"
    assert event.actor == "lambda.amazonaws.com"
    assert event.error == "AccessDenied"
    assert event.summary == f"sts:AssumeRole on {ROLE_ARN} denied to lambda.amazonaws.com"


def test_repeated_denials_are_one_entry_with_a_count() -> None:
    snapshot = make_snapshot([denied(50), denied(30), denied(10), succeeded(5)])
    [event] = timeline(snapshot)
    assert event.time == NOW - timedelta(minutes=10)
    assert event.summary.endswith("(3 times since 2026-11-28T02:10:00Z)")


def test_queue_policy_change_of_an_event_source_is_tied_to_its_finding() -> None:
    from bot.snapshot import EventSource, EventSourceMapping

    queue = "arn:aws:sqs:us-east-1:111111111111:orders-queue"
    change = r.record(
        "SetQueueAttributes",
        "sqs.amazonaws.com",
        time=NOW - timedelta(hours=1),
        identity=r.assumed_role("admin", "bob"),
        params={
            "queueUrl": "https://sqs.us-east-1.amazonaws.com/111111111111/orders-queue",
            "attributes": {"Policy": "{}"},
        },
    )
    other = r.record(
        "SetQueueAttributes",
        "sqs.amazonaws.com",
        time=NOW - timedelta(hours=1),
        identity=r.assumed_role("admin", "bob"),
        params={
            "queueUrl": "https://sqs.us-east-1.amazonaws.com/111111111111/other",
            "attributes": {"Policy": "{}"},
        },
    )
    snapshot = make_snapshot([change, other])
    snapshot.event_source_mappings = [
        EventSourceMapping(uuid="u-1", source=EventSource(arn=queue, type="sqs"))
    ]
    [event] = timeline(snapshot)
    assert event.summary == f"changed the queue policy of {queue}"
    [out] = correlate([role_finding(["sqs:ReceiveMessage"], resources=[queue])], snapshot)
    assert out.related_events[0].event == "SetQueueAttributes"


def test_trust_change_of_a_role_the_code_assumes_and_ecr_policy() -> None:
    from bot.snapshot import ContainerRepository, Role

    target = "arn:aws:iam::222222222222:role/reports-reader"
    repo = "arn:aws:ecr:us-east-1:111111111111:repository/orders"
    admin = r.assumed_role("admin", "bob")
    snapshot = make_snapshot(
        [
            r.record(
                "UpdateAssumeRolePolicy",
                "iam.amazonaws.com",
                time=NOW - timedelta(hours=2),
                identity=admin,
                params={"roleName": "reports-reader", "policyDocument": "{}"},
            ),
            r.record(
                "SetRepositoryPolicy",
                "ecr.amazonaws.com",
                time=NOW - timedelta(hours=1),
                identity=admin,
                params={"repositoryName": "orders", "policyText": "{}"},
            ),
        ]
    )
    snapshot.assumed_roles = [Role(arn=target, name="reports-reader")]
    snapshot.container_repository = ContainerRepository(
        arn=repo, registry_id="111111111111", name="orders"
    )
    events = timeline(snapshot)
    assert [e.summary for e in events] == [
        f"changed the resource policy of {repo}",
        "changed trust policy of reports-reader",
    ]
    [assume] = correlate([role_finding(["sts:AssumeRole"], resources=[target])], snapshot)
    assert [e.event for e in assume.related_events] == ["UpdateAssumeRolePolicy"]
    [image] = correlate(
        [role_finding(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], resources=[repo])],
        snapshot,
    )
    assert image.related_events[0].event == "SetRepositoryPolicy"


def test_recreated_role_explains_a_resource_policy_denial() -> None:
    admin = r.assumed_role("admin", "bob")
    snapshot = make_snapshot(
        [
            r.record(
                "DeleteRole",
                "iam.amazonaws.com",
                time=NOW - timedelta(hours=3),
                identity=admin,
                params={"roleName": ROLE},
            ),
            r.record(
                "CreateRole",
                "iam.amazonaws.com",
                time=NOW - timedelta(hours=2, minutes=55),
                identity=admin,
                params={"roleName": ROLE, "assumeRolePolicyDocument": "{}"},
            ),
        ],
        kms=True,
    )
    events = timeline(snapshot)
    assert events[0].summary == (
        f"re-created role {ROLE} (deleted at 2026-11-28T00:00:00Z): policies that named the "
        "old role no longer apply to the new one"
    )
    finding = role_finding(["kms:Decrypt"], resources=[KEY_ARN], denied_by=["resource"])
    [out] = correlate([finding], snapshot)
    assert out.related_events[0].event == "CreateRole"
    assert "re-created role orders-role" in out.detail


def test_permission_rewritten_for_another_source_is_a_cause() -> None:
    snapshot = make_snapshot(
        [
            r.add_permission(
                FUNCTION,
                "s3-invoke",
                principal="s3.amazonaws.com",
                source_arn="arn:aws:s3:::orders-staging",
                time=NOW - timedelta(hours=1),
            )
        ]
    )
    [out] = correlate([invoke_finding()], snapshot)
    assert out.related_events[0].event == "AddPermission"
    assert "may lambda:InvokeFunction from arn:aws:s3:::orders-staging" in out.detail
