"""CONTRACTS §4 configuration errors, as a user meets them: `lambda-why check` in a real
process with a broken `LAMBDA_WHY_CONFIG` file or environment variable. Each must end with
exit 2 and one stderr line naming the file and the key (or the variable), before any AWS
call (no endpoint is needed: nothing listens on the one given)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import FileConfig

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:orders"


def _run(tmp_path: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDA_WHY_"))}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # discard port: never reached
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "PYTHONPATH": str(ROOT),
        }
    )
    for name in ("PORT", "SLACK_API_URL", "SLACK_BOT_TOKEN", "REDIS_URL"):
        env.pop(name, None)
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[accounts\nx=", ["not valid TOML", "line 1"]),
        ('[acounts."222222222222"]\n', ["acounts", "unknown key", "accounts, escalation"]),
        ('[accounts."222222222222"]\nrole = "x"\n', ["accounts.222222222222.role", "role_arn"]),
        ('[organization]\nrole_arn = "arn:aws:iam::999999999999:role/R"\nrol = 1\n',
         ["organization.rol", "unknown key"]),
        ('[slack]\nlocal = "ja"\n', ["slack.local", "unknown key", "locale"]),
        ('[accounts."2222"]\n', ["'2222'", "12 digits"]),
        ('[accounts."222222222222"]\nchannels = "C0123ABCD"\n',
         ["accounts.222222222222.channels", "an array", "a string"]),
        ('[accounts."222222222222"]\nchannels = ["#payments"]\n', ["channels", "#payments"]),
        ('[accounts."222222222222"]\nrole_arn = 5\n', ["accounts.222222222222.role_arn", "string"]),
        ('[accounts."222222222222"]\nrole_arn = "LambdaWhyReadOnly"\n',
         ["accounts.222222222222.role_arn", "not an IAM role ARN"]),
        ('[accounts."222222222222"]\nrole_arn = "arn:aws:iam::333333333333:role/R"\n',
         ["accounts.222222222222.role_arn", "333333333333"]),
        ('[accounts."222222222222"]\nexternal_id = 12\n', ["external_id", "a string"]),
        ("[organization]\nexternal_id = \"x\"\n", ["organization.role_arn", "missing"]),
        ('[organization]\nrole_arn = "LambdaWhyOrgReader"\n',
         ["organization.role_arn", "not an IAM role ARN"]),
        ('[escalation]\nsupport_case = "yes"\n', ["escalation.support_case", "a boolean"]),
        ('[escalation]\nchannel = "#escalations"\n', ["escalation.channel", "#escalations"]),
        ('[slack]\nrate_limit_per_minute = "thirty"\n',
         ["slack.rate_limit_per_minute", "an integer"]),
        ("[slack]\nrate_limit_per_minute = -1\n", ["slack.rate_limit_per_minute", "0"]),
        ("[slack]\naccount_concurrency = 0\n", ["slack.account_concurrency", "1"]),
        ('[slack]\nlocale = "fr"\n', ["slack.locale", "'fr'"]),
        ("accounts = 5\n", ["accounts", "a table", "an integer"]),
    ],
)  # fmt: skip
def test_bad_config_file_names_the_key(tmp_path: Path, toml: str, expected: list[str]) -> None:
    config = tmp_path / "lambda-why.toml"
    config.write_text(toml, encoding="utf-8")
    line = _one_line(_run(tmp_path, "check", FUNCTION, "--json", LAMBDA_WHY_CONFIG=str(config)))
    assert line.startswith("lambda-why: configuration: ")
    assert str(config) in line
    for text in expected:
        assert text in line


@pytest.mark.parametrize(
    ("path", "expected"),
    [("missing.toml", "No such file"), (".", "directory"), ("binary.toml", "UTF-8")],
)
def test_unreadable_config_file(tmp_path: Path, path: str, expected: str) -> None:
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00[")
    line = _one_line(
        _run(tmp_path, "check", FUNCTION, "--json", LAMBDA_WHY_CONFIG=str(tmp_path / path))
    )
    assert "cannot read config file" in line or "not UTF-8" in line
    assert expected in line


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PORT", "http", "environment variable PORT"),
        ("PORT", "70000", "environment variable PORT"),
        ("LAMBDA_WHY_ROLE_NAME", "read only", "environment variable LAMBDA_WHY_ROLE_NAME"),
        ("SLACK_API_URL", "slack.com/api", "environment variable SLACK_API_URL"),
    ],
)
@pytest.mark.parametrize("command", ["check", "history", "explain"])
def test_bad_environment_variable_is_named(
    tmp_path: Path, variable: str, value: str, expected: str, command: str
) -> None:
    args = {
        "check": ["check", FUNCTION, "--json"],
        "history": ["history", FUNCTION, "--json"],
        "explain": [
            "explain",
            "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: "
            "s3:GetObject on resource: arn:aws:s3:::b/k",
            "--json",
        ],
    }[command]
    line = _one_line(_run(tmp_path, *args, **{variable: value}))
    assert expected in line
    assert value in line or variable == "PORT"


def test_the_same_variable_in_a_dotenv_file_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LAMBDA_WHY_ROLE_NAME=read only\n", encoding="utf-8")
    line = _one_line(_run(tmp_path, "check", FUNCTION, "--json"))
    assert "LAMBDA_WHY_ROLE_NAME" in line


def test_empty_variables_count_as_unset(tmp_path: Path) -> None:
    """`deploy/env.example` copied to `.env` holds `SLACK_BOT_TOKEN=` and the like: an empty
    LAMBDA_WHY_CONFIG is no config file, not the current directory."""
    done = _run(tmp_path, "check", FUNCTION, "--json", LAMBDA_WHY_CONFIG="", PORT="")
    assert done.returncode == 3, done.stderr  # got as far as AWS (which is not there)
    assert "configuration" not in done.stderr


def test_shipped_example_config_is_valid() -> None:
    config = FileConfig.load(ROOT / "deploy" / "config.example.toml")
    assert config.organization is not None
    assert set(config.accounts) == {"111111111111", "222222222222"}


@pytest.mark.parametrize("problem", ["unknown profile", "unparsable config"])
@pytest.mark.parametrize("command", ["check", "history", "explain", "diff"])
def test_unusable_aws_configuration_exits_3_in_one_line(
    tmp_path: Path, problem: str, command: str
) -> None:
    """boto3's standard chain refusing to start (AWS_PROFILE names no profile, ~/.aws/config
    does not parse) is "no credentials": exit 3, not a traceback that exits 1 ("a fail")."""
    broken = tmp_path / "aws-config"
    broken.write_text("[default\nregion", encoding="utf-8")
    env = (
        {"AWS_PROFILE": "no-such-profile"}
        if problem == "unknown profile"
        else {"AWS_CONFIG_FILE": str(broken)}
    )
    args = {
        "check": ["check", FUNCTION, "--json"],
        "history": ["history", FUNCTION, "--json"],
        "diff": ["diff", FUNCTION, FUNCTION + "2", "--json"],
        "explain": [
            "explain",
            "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: "
            "s3:GetObject on resource: arn:aws:s3:::b/k",
            "--json",
        ],
    }[command]
    done = _run(tmp_path, *args, **env)
    assert done.returncode == 3, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert ("no-such-profile" if problem == "unknown profile" else str(broken)) in lines[0]
