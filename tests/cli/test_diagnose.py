"""`bot.diagnose.diagnose`: collect + checks; `fresh=True` sees a fix made a moment ago."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest

from bot.aws.access import AwsAccess
from bot.config import FileConfig, Settings
from bot.demo.moto import moto_server
from bot.diagnose import diagnose
from bot.report import Finding, Status

TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
TRUST_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


async def test_fresh_rerun_sees_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    with moto_server() as endpoint:
        for key, value in endpoint.client_env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("LAMBDA_WHY_CONFIG", raising=False)
        iam = boto3.client("iam")
        lam = boto3.client("lambda")
        role = iam.create_role(RoleName="sync-role", AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
        iam.attach_role_policy(
            RoleName="sync-role",
            PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        )
        lam.create_function(
            FunctionName="sync",
            Role=role["Role"]["Arn"],
            Runtime="python3.12",
            Handler="app.handler",
            Code={"ZipFile": _zip()},
        )
        access = AwsAccess(Settings(), FileConfig())

        def trust_status(findings: list[Finding]) -> Status:
            return next(f.status for f in findings if f.check == "execution-role-trust")

        snapshot, report = await diagnose(access, "sync")
        assert snapshot.function.name == "sync"
        assert trust_status(report.findings) is Status.FAIL
        assert report.failed

        iam.update_assume_role_policy(RoleName="sync-role", PolicyDocument=json.dumps(TRUST_LAMBDA))
        _, again = await diagnose(access, "sync", fresh=True)
        assert trust_status(again.findings) is Status.PASS
        assert not again.failed
