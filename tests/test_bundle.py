"""The support bundle: the files CONTRACTS §5 names, their facts, and that no secret leaves."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from bot.bundle import build_bundle, bundle_name, redact_json, redact_text
from bot.report import Event, Evidence, Finding, Fix, Report, Severity, Status, Summary
from bot.snapshot import (
    REDACTED,
    CloudTrailEvent,
    DestinationTarget,
    EventSource,
    EventSourceMapping,
    FunctionConfig,
    FunctionUrl,
    Gap,
    LoggingConfig,
    LogLine,
    NamedPolicy,
    Role,
    Snapshot,
    Trigger,
    VpcConfig,
)

ACCOUNT = "111111111111"
OTHER = "222222222222"
FN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/orders-role"
CHECKED = datetime(2026, 11, 28, 3, 0, 0, tzinfo=UTC)

SLACK_TOKEN = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
APP_TOKEN = "xapp-1-A0123456789-1234567890123-abcdef0123456789"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
TEMP_KEY = "ASIAY34FZKBOKMUTVV7A"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJGMEQCIFakeSessionTokenValue"
DB_PASSWORD = "hunter2-prod-Zq8"
SECRETS = [SLACK_TOKEN, APP_TOKEN, ACCESS_KEY, TEMP_KEY, SECRET_KEY, SESSION_TOKEN, DB_PASSWORD]


def _snapshot(*, environment: dict[str, str] | None = None) -> Snapshot:
    base = CHECKED - timedelta(minutes=30)
    return Snapshot(
        collected_at=CHECKED,
        account=ACCOUNT,
        region="us-east-1",
        function=FunctionConfig(
            arn=FN,
            name="orders",
            runtime="python3.12",
            role_arn=ROLE,
            kms_key_arn=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            # a collector bug that leaked values must not leak them further
            environment=environment if environment is not None else {"DB_PASSWORD": REDACTED},
            vpc=VpcConfig(
                vpc_id="vpc-0abc", subnet_ids=["subnet-1", "subnet-2"], security_group_ids=["sg-1"]
            ),
            tracing_mode="Active",
            logging=LoggingConfig(log_group="/aws/lambda/orders"),
            state="Active",
        ),
        role=Role(
            arn=ROLE,
            name="orders-role",
            attached_policies=[
                NamedPolicy(
                    name="AWSLambdaBasicExecutionRole",
                    arn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                    kind="aws-managed",
                )
            ],
            inline_policies=[
                NamedPolicy(name="orders-sqs", document={"Version": "2012-10-17", "Statement": []})
            ],
            boundary=NamedPolicy(
                name="orders-boundary",
                arn=f"arn:aws:iam::{ACCOUNT}:policy/orders-boundary",
                kind="managed",
            ),
        ),
        event_source_mappings=[
            EventSourceMapping(
                uuid="1b2c",
                source=EventSource(arn=f"arn:aws:sqs:us-east-1:{OTHER}:orders-queue", type="sqs"),
                state="Enabled",
            )
        ],
        triggers=[
            Trigger(
                service="s3",
                principal="s3.amazonaws.com",
                source_arn="arn:aws:s3:::acme-uploads",
                source_account=ACCOUNT,
                discovered_by="s3:GetBucketNotificationConfiguration",
            )
        ],
        function_urls=[
            FunctionUrl(url="https://abc.lambda-url.us-east-1.on.aws/", auth_type="NONE")
        ],
        destinations=[
            DestinationTarget(
                kind="on-failure", arn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-dlq", service="sqs"
            )
        ],
        logs=[
            LogLine(
                time=base + timedelta(minutes=5),
                stream="s1",
                message="START RequestId: r1 Version: $LATEST",
            ),
            LogLine(
                time=base + timedelta(minutes=5, seconds=1),
                stream="s1",
                message=f"[INFO] connecting to postgres://orders:{DB_PASSWORD}@db.internal:5432/orders",
            ),
            LogLine(
                time=base + timedelta(minutes=5, seconds=2),
                stream="s1",
                message="[ERROR] AccessDeniedException: User: arn:aws:sts::111111111111:"
                "assumed-role/orders-role/orders is not authorized to perform: sqs:ReceiveMessage",
            ),
            # out of order on purpose: logs.txt sorts by time
            LogLine(
                time=base + timedelta(minutes=25),
                stream="s2",
                message=f"[ERROR] AccessDeniedException again; creds {ACCESS_KEY} {SECRET_KEY}",
            ),
            LogLine(
                time=base + timedelta(minutes=15),
                stream="s2",
                message=f"[DEBUG] SLACK_BOT_TOKEN={SLACK_TOKEN} aws_session_token={SESSION_TOKEN}",
            ),
            LogLine(
                time=base + timedelta(minutes=16),
                stream="s2",
                message=f"headers {{'Authorization': 'Bearer {APP_TOKEN}'}}",
            ),
        ],
        cloudtrail=[
            CloudTrailEvent(
                event_id="e1",
                time=base,
                name="UpdateFunctionConfiguration20150331v2",
                source="lambda.amazonaws.com",
                request_parameters={"environment": {"variables": {"DB_PASSWORD": DB_PASSWORD}}},
                raw={
                    "userIdentity": {"accessKeyId": TEMP_KEY},
                    "responseElements": {"sessionToken": SESSION_TOKEN},
                },
            )
        ],
        window_start=CHECKED - timedelta(hours=24),
        window_end=CHECKED,
        gaps=[
            Gap(
                operation="kms:GetKeyPolicy",
                resource="arn:aws:kms:us-east-1:111111111111:key/x",
                error="AccessDenied",
            )
        ],
    )


def _report() -> Report:
    findings = [
        Finding(
            check="event-source",
            status=Status.FAIL,
            severity=Severity.HIGH,
            title="Execution role cannot receive messages from the queue",
            principal=ROLE,
            actions=["sqs:ReceiveMessage"],
            resources=[f"arn:aws:sqs:us-east-1:{OTHER}:orders-queue"],
            denied_by=["identity"],
            evidence=[Evidence(policy="orders-role/orders-sqs", sid="Queue", text="...")],
            fix=Fix(
                summary="Allow sqs:ReceiveMessage on orders-queue",
                commands=["aws iam put-role-policy ..."],
            ),
        ),
        Finding(
            check="trust",
            status=Status.PASS,
            severity=Severity.INFO,
            title="Lambda can assume the role",
        ),
        Finding(
            check="kms-env",
            status=Status.UNKNOWN,
            severity=Severity.MEDIUM,
            title="Key policy not readable",
        ),
    ]
    return Report(
        function=FN,
        account=ACCOUNT,
        region="us-east-1",
        checked_at=CHECKED,
        summary=Summary.of(findings),
        findings=findings,
        events=[
            Event(
                time=CHECKED - timedelta(minutes=40),
                event="DeleteRolePolicy",
                actor="arn:aws:sts::111111111111:assumed-role/deployer/alice",
                summary="removed inline policy orders-sqs-receive",
            )
        ],
        gaps=[
            Gap(
                operation="kms:GetKeyPolicy",
                resource="arn:aws:kms:us-east-1:111111111111:key/x",
                error="AccessDenied",
            )
        ],
    )


def _open(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_bundle_holds_the_contract_files() -> None:
    files = _open(build_bundle(_report(), _snapshot()))
    assert {"summary.txt", "findings.json", "logs.txt", "snapshot.json"} <= set(files)
    assert "escalation.json" not in files
    assert json.loads(files["findings.json"]) == _report().to_json_dict()
    snapshot = Snapshot.model_validate_json(files["snapshot.json"])
    assert snapshot.function.arn == FN
    assert snapshot.event_source_mappings[0].uuid == "1b2c"


def test_summary_has_the_support_case_facts() -> None:
    summary = _open(build_bundle(_report(), _snapshot()))["summary.txt"]
    assert f"Function ARN:       {FN}" in summary
    # services in the workflow: trigger, URL, mapping, destination, VPC, KMS, X-Ray
    for needle in (
        "s3: arn:aws:s3:::acme-uploads",
        "function URL https://abc.lambda-url.us-east-1.on.aws/ (AuthType NONE)",
        f"sqs: arn:aws:sqs:us-east-1:{OTHER}:orders-queue",
        f"on-failure → sqs: arn:aws:sqs:us-east-1:{ACCOUNT}:orders-dlq",
        "VPC vpc-0abc",
        "KMS key for environment variables",
        "X-Ray active tracing",
    ):
        assert needle in summary
    occurrence = next(line for line in summary.splitlines() if line.startswith("Intermittent"))
    assert occurrence.split(": ", 1)[1].split(" ")[0] in {"intermittent", "continuous", "unknown"}
    # the queue lives in another account
    assert f"Cross-account:      yes — arn:aws:sqs:us-east-1:{OTHER}:orders-queue" in summary
    # IAM roles and permissions
    assert f"Execution role:     {ROLE}" in summary
    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" in summary
    assert "inline policy:    orders-sqs" in summary
    assert "boundary:         arn:aws:iam::111111111111:policy/orders-boundary" in summary
    assert "actions:    sqs:ReceiveMessage" in summary
    assert "denied by:  identity policy" in summary
    # exact UTC timestamps: errors at 02:35:02 and 02:55:00, checked at 03:00:00
    assert "First error seen:   2026-11-28T02:35:02Z" in summary
    assert "Last error seen:    2026-11-28T02:55:00Z" in summary
    assert "Checked at:         2026-11-28T03:00:00Z" in summary
    assert "kms:GetKeyPolicy" in summary
    assert "DeleteRolePolicy" in summary


def test_escalation_answers_decide_intermittent_and_are_included() -> None:
    answers = {
        "pattern": "intermittent",
        "started": "2026-11-28 01:10 UTC",
        "impact": "orders delayed",
    }
    files = _open(build_bundle(_report(), _snapshot(), escalation=answers))
    assert (
        "Intermittent or continuous: intermittent (reported by the requester)"
        in files["summary.txt"]
    )
    assert "impact: orders delayed" in files["summary.txt"]
    assert json.loads(files["escalation.json"]) == answers


def test_roles_the_code_assumes_are_listed_and_cross_account() -> None:
    snapshot = _snapshot()
    snapshot.event_source_mappings = []
    snapshot.assumed_roles = [
        Role(arn=f"arn:aws:iam::{OTHER}:role/reports-writer", name="reports-writer")
    ]
    report = _report()
    report.findings[0].resources = []
    summary = _open(build_bundle(report, snapshot))["summary.txt"]
    assert f"Role assumed by the code: arn:aws:iam::{OTHER}:role/reports-writer" in summary
    assert f"Cross-account:      yes — arn:aws:iam::{OTHER}:role/reports-writer" in summary


def test_resource_policy_statements_are_listed() -> None:
    snapshot = _snapshot()
    snapshot.resource_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "s3-uploads",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "lambda:InvokeFunction",
                "Resource": FN,
                "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::acme-uploads"}},
            }
        ],
    }
    summary = _open(build_bundle(_report(), snapshot))["summary.txt"]
    assert "Resource policy:    1 statement(s)" in summary
    assert (
        "s3-uploads: Allow s3.amazonaws.com lambda:InvokeFunction if "
        '{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::acme-uploads"}}'
    ) in summary


def test_nothing_to_go_on_is_unknown() -> None:
    snapshot = _snapshot()
    snapshot.logs = []
    snapshot.cloudtrail = []
    report = _report()
    report.events = []
    summary = _open(build_bundle(report, snapshot))["summary.txt"]
    assert "Intermittent or continuous: unknown\n" in summary
    assert "First error seen:   none in the window" in summary


def test_single_account_function_is_not_cross_account() -> None:
    snapshot = _snapshot()
    snapshot.event_source_mappings = []
    report = _report()
    report.findings[0].resources = []
    summary = _open(build_bundle(report, snapshot))["summary.txt"]
    assert f"Cross-account:      no (all within {ACCOUNT})" in summary


def test_logs_are_utc_and_in_time_order() -> None:
    logs = _open(build_bundle(_report(), _snapshot()))["logs.txt"].splitlines()
    assert logs[0].startswith("# CloudWatch Logs /aws/lambda/orders")
    body = [line for line in logs if not line.startswith("#")]
    assert len(body) == 6
    assert body[0] == "2026-11-28T02:35:00.000Z [s1] START RequestId: r1 Version: $LATEST"
    stamps = [line.split(" ", 1)[0] for line in body]
    assert stamps == sorted(stamps)
    assert all(stamp.endswith("Z") for stamp in stamps)


def test_no_logs_says_why() -> None:
    snapshot = _snapshot()
    snapshot.logs = []
    snapshot.gaps.append(
        Gap(operation="logs:FilterLogEvents", resource="/aws/lambda/orders", error="AccessDenied")
    )
    logs = _open(build_bundle(_report(), snapshot))["logs.txt"]
    assert "could not be read: AccessDenied" in logs


def test_no_secret_leaves_any_file() -> None:
    leaky = _snapshot(environment={"DB_PASSWORD": DB_PASSWORD, "SLACK_BOT_TOKEN": SLACK_TOKEN})
    report = _report()
    report.findings[0].detail = f"seen with key {ACCESS_KEY} and password {DB_PASSWORD}"
    files = _open(build_bundle(report, leaky, escalation={"notes": f"token {SLACK_TOKEN}"}))
    for name, text in files.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret[:8]}... leaked in {name}"
    snapshot = json.loads(files["snapshot.json"])
    assert snapshot["function"]["environment"] == {
        "DB_PASSWORD": REDACTED,
        "SLACK_BOT_TOKEN": REDACTED,
    }
    # what is not secret survives
    assert "postgres://orders:***redacted***@db.internal:5432/orders" in files["logs.txt"]
    assert "sqs:ReceiveMessage" in files["logs.txt"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"token {SLACK_TOKEN} end", f"token {REDACTED} end"),
        (f"app {APP_TOKEN}", f"app {REDACTED}"),
        (f"key {ACCESS_KEY}", f"key {REDACTED}"),
        (f"key {TEMP_KEY}.", f"key {REDACTED}."),
        (f"aws_secret_access_key = {SECRET_KEY}", f"aws_secret_access_key = {REDACTED}"),
        (f'"SessionToken": "{SESSION_TOKEN}"', f'"SessionToken": "{REDACTED}"'),
        ("https://admin:s3cr3t@example.com/x", f"https://admin:{REDACTED}@example.com/x"),
        ("password=hunter2&user=bob", f"password={REDACTED}&user=bob"),
        ("Authorization: Bearer abc.def.ghi", f"Authorization: Bearer {REDACTED}"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", REDACTED),
        # not secrets: ARNs and action names stay readable
        (
            "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-pass-AbCdEf",
            "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-pass-AbCdEf",
        ),
        ("secretsmanager:GetSecretValue", "secretsmanager:GetSecretValue"),
        ("sts:GetSessionToken denied", "sts:GetSessionToken denied"),
        (
            "arn:aws:iam::111111111111:role/orders-role",
            "arn:aws:iam::111111111111:role/orders-role",
        ),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_redact_json_keys_and_environment() -> None:
    doc = {
        "Environment": {"Variables": {"A": "1", "B": "two"}},
        "Credentials": {
            "AccessKeyId": TEMP_KEY,
            "SecretAccessKey": SECRET_KEY,
            "SessionToken": SESSION_TOKEN,
        },
        "client_secret": "abc",
        "Action": "secretsmanager:GetSecretValue",
        "list": [{"password": "p"}, "plain"],
    }
    assert redact_json(doc) == {
        "Environment": {"Variables": {"A": REDACTED, "B": REDACTED}},
        "Credentials": {
            "AccessKeyId": REDACTED,
            "SecretAccessKey": REDACTED,
            "SessionToken": REDACTED,
        },
        "client_secret": REDACTED,
        "Action": "secretsmanager:GetSecretValue",
        "list": [{"password": REDACTED}, "plain"],
    }


def test_bundle_name() -> None:
    assert bundle_name(_report()) == "lambda-why-orders-20261128T030000Z.zip"
