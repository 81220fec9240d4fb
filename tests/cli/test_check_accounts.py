"""`lambda-why check` across accounts and without credentials, as a separate process.

A moto server holds a function in account 222222222222 with the `LambdaWhyReadOnly` role
(moto maps AssumeRole credentials to the role's account). CONTRACTS §4: the CLI reads it
when LAMBDA_WHY_CONFIG lists the account, and refuses it (exit 2) with no config file.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from bot.demo.moto import MotoEndpoint, moto_server
from tests.cli.test_check_moto import BASIC, TRUST, _zip

ROOT = Path(__file__).resolve().parents[2]
OTHER = "222222222222"
FN = f"arn:aws:lambda:us-east-1:{OTHER}:function:ledger"


def _seed_other_account(endpoint: MotoEndpoint) -> None:
    base = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=endpoint.region
    )
    creds = base.client("sts", endpoint_url=endpoint.endpoint_url).assume_role(
        RoleArn=f"arn:aws:iam::{OTHER}:role/seeder", RoleSessionName="seed"
    )["Credentials"]
    s = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=endpoint.region,
    )
    iam = s.client("iam", endpoint_url=endpoint.endpoint_url)
    assert (
        s.client("sts", endpoint_url=endpoint.endpoint_url).get_caller_identity()["Account"]
        == OTHER
    )
    reader_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="LambdaWhyReadOnly", AssumeRolePolicyDocument=json.dumps(reader_trust))
    role = iam.create_role(RoleName="ledger-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName="ledger-role", PolicyArn=BASIC)
    s.client("lambda", endpoint_url=endpoint.endpoint_url).create_function(
        FunctionName="ledger",
        Role=role["Role"]["Arn"],
        Runtime="python3.12",
        Handler="app.handler",
        Code={"ZipFile": _zip()},
    )


@pytest.fixture(scope="module")
def endpoint() -> Iterator[MotoEndpoint]:
    with moto_server() as running:
        _seed_other_account(running)
        yield running


def _check(env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.pop("LAMBDA_WHY_CONFIG", None)
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "bot", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_configured_second_account_is_read_through_the_read_only_role(
    endpoint: MotoEndpoint, tmp_path: Path
) -> None:
    config = tmp_path / "lambda-why.toml"
    config.write_text(f'[accounts."{OTHER}"]\n', encoding="utf-8")
    done = _check(
        {**endpoint.client_env(), "LAMBDA_WHY_CONFIG": str(config)},
        FN,
        "--json",
        "--no-scan-triggers",
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["account"] == OTHER
    assert doc["function"] == FN
    assert doc["summary"]["fail"] == 0
    assert "execution-role-trust" in {f["check"] for f in doc["findings"] if f["status"] == "pass"}


def test_second_account_without_config_is_refused(endpoint: MotoEndpoint) -> None:
    done = _check(endpoint.client_env(), FN, "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert OTHER in done.stderr


def test_not_an_arn_is_bad_input_in_one_line(endpoint: MotoEndpoint) -> None:
    done = _check(endpoint.client_env(), "not-an-arn:::x", "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1


def test_no_credentials_exits_3_quickly() -> None:
    env = {
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    started = time.monotonic()
    done = _check(env, FN, "--json")
    elapsed = time.monotonic() - started
    assert done.returncode == 3, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert elapsed < 20


def test_endpoint_that_never_answers_exits_3_within_seconds() -> None:
    """A host that accepts connections and never replies: bounded by the identity probe's
    short timeouts and two attempts, not the reads' full retry budget."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_CONFIG_FILE": "/dev/null",
        }
        started = time.monotonic()
        done = _check(env, FN, "--json")
        elapsed = time.monotonic() - started
    assert done.returncode == 3, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert elapsed < 45
