"""CONTRACTS §2 and §4, sentence by sentence, as an outside script sees them: a real
`lambda-why` process against a moto server (two accounts through sts:AssumeRole), with
`AWS_ENDPOINT_URL` pointing at a gate that records every request and refuses the ones a
test names (`tests/cli/aws_gate.py`), and CloudTrail served by the recorded-response fake.

Covered here (other files cover the rest): the JSON document's fields, types and enums;
exit codes for fail / warnings only / all pass / unknown only / access denied / role not
assumable; `--since` forms and the window they select; FUNCTION forms; the read-only role
name and ExternalId from the environment, `.env` and the TOML file; the organization
reader role; `--help` and `--version`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import boto3
import pytest

from bot.demo.moto import MotoEndpoint, moto_server
from bot.demo.scenarios import PRIMARY_ACCOUNT, REGION, SECOND_ACCOUNT, Scenario, seed_sync
from tests.cli.aws_gate import AwsGate, Seen, aws_gate
from tests.cloudtrail import records
from tests.cloudtrail.fake_cloudtrail import FakeCloudTrail

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("healthy", "vpc-no-eni", "public-invoke", "xacct-healthy")
STATUSES = {"pass", "fail", "warn", "unknown"}
SEVERITIES = {"high", "medium", "low", "info"}
POLICY_TYPES = {"identity", "resource", "boundary", "session", "scp", "rcp"}
UTC_SECOND = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
#: CloudTrail records of the healthy function (orders-api): who changed its resource policy
HOURS_AGO_ADDED = 20
HOURS_AGO_REMOVED = 2


class _Trail:
    """The fake CloudTrail endpoint on its own event loop thread (the tests are sync)."""

    def __init__(self, records_: list[dict[str, Any]]) -> None:
        self.fake = FakeCloudTrail(records_)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> FakeCloudTrail:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result(30)
        return self.fake

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.close(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@dataclass
class World:
    moto: MotoEndpoint
    gate: AwsGate
    trail: FakeCloudTrail
    scenarios: dict[str, Scenario]
    home: Path
    now: datetime
    extra_env: dict[str, str] = field(default_factory=dict)

    def arn(self, key: str) -> str:
        return self.scenarios[key].function_arn

    def env(self, **extra: str | None) -> dict[str, str]:
        """A clean environment for the moto world; `None` removes a variable."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "PYTHONPATH": str(ROOT),
            "AWS_CONFIG_FILE": str(self.home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "aws-credentials"),
            "NO_COLOR": "1",
            **self.moto.client_env(),
            "AWS_ENDPOINT_URL": self.gate.url,
            "AWS_ENDPOINT_URL_CLOUDTRAIL": self.trail.url,
        }
        merged: dict[str, str | None] = {**env, **extra}
        return {k: v for k, v in merged.items() if v is not None}


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def doc(self) -> dict[str, Any]:
        return json.loads(self.stdout)  # type: ignore[no-any-return]

    def one_stderr_line(self) -> str:
        assert "Traceback" not in self.stderr, self.stderr
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, self.stderr
        return lines[0]


def lambda_why(world: World, *args: str, cwd: Path | None = None, **env: str | None) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=world.env(**env),
        cwd=cwd or world.home,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("contract")
    for name in ("aws-config", "aws-credentials"):
        (home / name).write_text("", encoding="utf-8")
    now = datetime.now(UTC).replace(microsecond=0)
    trail_records = [
        records.add_permission(
            "orders-api",
            "s3-uploads",
            principal="s3.amazonaws.com",
            source_arn="arn:aws:s3:::acme-uploads",
            time=now - timedelta(hours=HOURS_AGO_ADDED),
            account=PRIMARY_ACCOUNT,
        ),
        records.remove_permission(
            "orders-api",
            "s3-uploads",
            time=now - timedelta(hours=HOURS_AGO_REMOVED),
            account=PRIMARY_ACCOUNT,
        ),
    ]
    with moto_server() as moto, aws_gate(moto.endpoint_url) as gate, _Trail(trail_records) as ct:
        scenarios = seed_sync(moto.endpoint_url, only=SCENARIOS)
        (home / "accounts.toml").write_text(f'[accounts."{SECOND_ACCOUNT}"]\n', encoding="utf-8")
        yield World(moto, gate, ct, {s.key: s for s in scenarios}, home, now)


@pytest.fixture
def gate(world: World) -> Iterator[AwsGate]:
    world.gate.clear()
    yield world.gate
    world.gate.clear()


def check(world: World, function: str, *args: str, **env: str | None) -> Run:
    return lambda_why(world, "check", function, "--json", *args, **env)


# ---- the document ------------------------------------------------------------------------


def assert_contract_document(doc: dict[str, Any]) -> None:
    """Every field CONTRACTS §2 names, with its type and vocabulary."""
    for key in ("function", "account", "region", "checked_at"):
        assert isinstance(doc[key], str), key
    assert re.fullmatch(r"arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w$-]+)?",
                        doc["function"])  # fmt: skip
    assert doc["function"].split(":")[4] == doc["account"]
    assert doc["function"].split(":")[3] == doc["region"]
    assert UTC_SECOND.match(doc["checked_at"])
    assert set(doc["summary"]) == STATUSES
    assert all(type(v) is int for v in doc["summary"].values())
    counts = dict.fromkeys(STATUSES, 0)
    for f in doc["findings"]:
        for key in ("check", "title", "detail"):
            assert isinstance(f[key], str), (key, f)
            assert f[key], (key, f)
        assert f["status"] in STATUSES
        assert f["severity"] in SEVERITIES
        counts[f["status"]] += 1
        assert f["principal"] is None or isinstance(f["principal"], str)
        assert f["source"] is None or isinstance(f["source"], str)
        for key in ("actions", "resources", "denied_by"):
            assert isinstance(f[key], list), key
            assert all(isinstance(x, str) for x in f[key]), key
        assert set(f["denied_by"]) <= POLICY_TYPES
        assert all(re.fullmatch(r"[\w-]+:[\w*?]+", a) for a in f["actions"]), f["actions"]
        for ev in f["evidence"]:
            assert isinstance(ev["policy"], str)
            assert ev["sid"] is None or isinstance(ev["sid"], str)
            assert isinstance(ev["text"], str)
        if f["fix"] is not None:
            assert isinstance(f["fix"]["summary"], str)
            assert f["fix"]["summary"]
            assert f["fix"]["policy"] is None or isinstance(f["fix"]["policy"], dict)
            assert all(isinstance(c, str) for c in f["fix"]["commands"])
        if f["status"] == "pass":
            assert f["denied_by"] == []
        if f["status"] == "unknown":  # say why in detail, list the missing read in gaps
            assert doc["gaps"], f
    assert counts == doc["summary"]
    times = [e["time"] for e in doc["events"]]
    assert times == sorted(times, reverse=True), "events newest first"
    for e in doc["events"]:
        assert set(e) >= {"time", "event", "actor", "source_ip", "error", "summary"}
        assert UTC_SECOND.match(e["time"])
        assert isinstance(e["event"], str)
        assert isinstance(e["summary"], str)
        for key in ("actor", "source_ip", "error"):
            assert e[key] is None or isinstance(e[key], str)
    for g in doc["gaps"]:
        assert isinstance(g["operation"], str)
        assert ":" in g["operation"]
        assert g["resource"] is None or isinstance(g["resource"], str)
        assert isinstance(g["error"], str)
        assert g["error"]


@pytest.mark.parametrize(
    ("key", "code", "statuses"),
    [
        ("healthy", 0, {"pass"}),  # all pass
        ("vpc-no-eni", 1, {"fail", "pass"}),  # a fail
        ("public-invoke", 0, {"warn", "pass"}),  # warnings only: still 0
        ("xacct-healthy", 0, {"pass"}),  # another account, through its read-only role
    ],
)
def test_document_and_exit_code(world: World, gate: AwsGate, key: str, code: int,
                                statuses: set[str]) -> None:  # fmt: skip
    run = check(world, world.arn(key), LAMBDA_WHY_CONFIG=str(world.home / "accounts.toml"))
    assert run.code == code, run.stderr
    assert run.stderr == ""
    doc = run.doc  # exactly one document: json.loads refuses trailing data
    assert_contract_document(doc)
    assert doc["function"] == world.arn(key)
    assert doc["account"] == world.scenarios[key].account
    assert doc["region"] == REGION
    assert {f["status"] for f in doc["findings"]} == statuses
    checked = datetime.fromisoformat(doc["checked_at"].replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - checked) < timedelta(minutes=5)


def test_failing_role_permission_names_the_execution_role(world: World, gate: AwsGate) -> None:
    doc = check(world, world.arn("vpc-no-eni")).doc
    [fail] = [f for f in doc["findings"] if f["status"] == "fail"]
    role = world.scenarios["vpc-no-eni"].role_arn
    assert fail["principal"] == role
    assert fail["denied_by"] == ["identity"]
    assert "ec2:CreateNetworkInterface" in fail["actions"]
    assert fail["fix"]["commands"]


def test_caller_finding_names_the_caller(world: World, gate: AwsGate) -> None:
    doc = check(world, world.arn("public-invoke")).doc
    [warn] = [f for f in doc["findings"] if f["status"] == "warn"]
    assert warn["principal"] == "*"
    assert warn["actions"] == ["lambda:InvokeFunction"]


# ---- unknown, access denied, roles --------------------------------------------------------


def test_unreadable_role_is_unknown_not_pass_and_exits_0(world: World, gate: AwsGate) -> None:
    gate.deny.add("iam:GetRole")
    run = check(world, world.arn("healthy"))
    assert run.code == 0, run.stderr
    doc = run.doc
    assert_contract_document(doc)
    assert doc["summary"]["fail"] == 0
    assert doc["summary"]["unknown"] >= 1
    role = world.scenarios["healthy"].role_arn
    assert {"operation": "iam:GetRole", "resource": role} in [
        {"operation": g["operation"], "resource": g["resource"]} for g in doc["gaps"]
    ]
    assert "AccessDenied" in next(
        g["error"] for g in doc["gaps"] if g["operation"] == "iam:GetRole"
    )
    trust = [f for f in doc["findings"] if f["check"] == "execution-role-trust"]
    assert [f["status"] for f in trust] == ["unknown"]
    assert role in trust[0]["detail"]


def test_a_fail_with_an_unknown_exits_1(world: World, gate: AwsGate) -> None:
    gate.deny.add("lambda:GetPolicy")
    run = check(world, world.arn("vpc-no-eni"))
    assert run.code == 1, run.stderr
    doc = run.doc
    assert doc["summary"]["fail"] == 1
    assert doc["summary"]["unknown"] >= 1
    assert any(g["operation"] == "lambda:GetPolicy" for g in doc["gaps"])


def test_function_the_read_only_role_may_not_read_exits_3(world: World, gate: AwsGate) -> None:
    gate.deny.add("lambda:GetFunction")
    run = check(
        world, world.arn("xacct-healthy"), LAMBDA_WHY_CONFIG=str(world.home / "accounts.toml")
    )
    assert run.code == 3
    assert run.stdout == ""
    line = run.one_stderr_line()
    assert world.arn("xacct-healthy") in line
    assert "AccessDenied" in line


def test_read_only_role_that_cannot_be_assumed_exits_3(world: World, gate: AwsGate) -> None:
    gate.deny.add("sts:AssumeRole")
    run = check(
        world, world.arn("xacct-healthy"), LAMBDA_WHY_CONFIG=str(world.home / "accounts.toml")
    )
    assert run.code == 3
    assert run.stdout == ""
    line = run.one_stderr_line()
    assert f"arn:aws:iam::{SECOND_ACCOUNT}:role/LambdaWhyReadOnly" in line
    assert "AccessDenied" in line


def test_own_account_needs_no_role_even_when_assume_is_refused(world: World, gate: AwsGate) -> None:
    gate.deny.add("sts:AssumeRole")
    run = check(world, world.arn("healthy"), LAMBDA_WHY_CONFIG=str(world.home / "accounts.toml"))
    assert run.code == 0, run.stderr
    assert gate.calls("sts:AssumeRole") == []


def test_account_not_configured_is_refused_before_any_read(world: World, gate: AwsGate) -> None:
    run = check(world, world.arn("xacct-healthy"))
    assert run.code == 2
    assert run.stdout == ""
    assert SECOND_ACCOUNT in run.one_stderr_line()
    assert gate.calls("sts:AssumeRole") == []
    assert gate.calls("lambda:GetFunction") == []


def _assumed(gate: AwsGate) -> list[dict[str, str]]:
    return [s.params for s in gate.calls("sts:AssumeRole")]


def test_role_name_and_external_id_from_the_environment(world: World, gate: AwsGate) -> None:
    run = check(
        world,
        world.arn("xacct-healthy"),
        LAMBDA_WHY_CONFIG=str(world.home / "accounts.toml"),
        LAMBDA_WHY_ROLE_NAME="AuditReader",
        LAMBDA_WHY_EXTERNAL_ID="lw-env-42",
    )
    assert run.code == 0, run.stderr
    [params] = _assumed(gate)
    assert params["RoleArn"] == f"arn:aws:iam::{SECOND_ACCOUNT}:role/AuditReader"
    assert params["ExternalId"] == "lw-env-42"
    assert re.fullmatch(r"[\w+=,.@-]{2,64}", params["RoleSessionName"])


def test_dotenv_file_holds_the_variables(world: World, gate: AwsGate, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"LAMBDA_WHY_CONFIG={world.home / 'accounts.toml'}\n"
        "LAMBDA_WHY_ROLE_NAME=DotenvReader\nLAMBDA_WHY_EXTERNAL_ID=lw-dotenv\n",
        encoding="utf-8",
    )
    run = check(world, world.arn("xacct-healthy"), cwd=tmp_path)
    assert run.code == 0, run.stderr
    [params] = _assumed(gate)
    assert params["RoleArn"] == f"arn:aws:iam::{SECOND_ACCOUNT}:role/DotenvReader"
    assert params["ExternalId"] == "lw-dotenv"
    # the process environment wins over .env
    gate.clear()
    run = check(world, world.arn("xacct-healthy"), cwd=tmp_path, LAMBDA_WHY_EXTERNAL_ID="lw-env")
    assert run.code == 0, run.stderr
    assert _assumed(gate)[0]["ExternalId"] == "lw-env"


def test_per_account_role_and_external_id_override_the_environment(
    world: World, gate: AwsGate, tmp_path: Path
) -> None:
    config = tmp_path / "lambda-why.toml"
    config.write_text(
        f'[accounts."{SECOND_ACCOUNT}"]\n'
        f'role_arn = "arn:aws:iam::{SECOND_ACCOUNT}:role/team/LedgerReader"\n'
        'external_id = "lw-ledger"\nchannels = ["C0LEDGER"]\n',
        encoding="utf-8",
    )
    run = check(
        world,
        world.arn("xacct-healthy"),
        LAMBDA_WHY_CONFIG=str(config),
        LAMBDA_WHY_ROLE_NAME="Ignored",
        LAMBDA_WHY_EXTERNAL_ID="lw-env",
    )
    assert run.code == 0, run.stderr
    [params] = _assumed(gate)
    assert params["RoleArn"] == f"arn:aws:iam::{SECOND_ACCOUNT}:role/team/LedgerReader"
    assert params["ExternalId"] == "lw-ledger"


def test_without_external_id_none_is_sent(world: World, gate: AwsGate) -> None:
    run = check(
        world, world.arn("xacct-healthy"), LAMBDA_WHY_CONFIG=str(world.home / "accounts.toml")
    )
    assert run.code == 0, run.stderr
    [params] = _assumed(gate)
    assert "ExternalId" not in params


# ---- organization reader ------------------------------------------------------------------


def _org_config(tmp_path: Path, role_arn: str, external_id: str | None = None) -> Path:
    config = tmp_path / "org.toml"
    text = f'[organization]\nrole_arn = "{role_arn}"\n'
    if external_id:
        text += f'external_id = "{external_id}"\n'
    config.write_text(text, encoding="utf-8")
    return config


def test_without_organization_the_output_says_scps_were_not_evaluated(
    world: World, gate: AwsGate
) -> None:
    run = lambda_why(world, "check", world.arn("healthy"))
    assert run.code == 0, run.stderr
    assert re.search(r"SCPs and RCPs were not evaluated", run.stdout)
    assert gate.calls("organizations:DescribeOrganization") == []


def test_organization_reader_role_is_assumed_with_its_external_id(
    world: World, gate: AwsGate, tmp_path: Path
) -> None:
    role = "arn:aws:iam::999999999999:role/LambdaWhyOrgReader"
    run = check(
        world,
        world.arn("healthy"),
        LAMBDA_WHY_CONFIG=str(_org_config(tmp_path, role, "lw-org")),
    )
    assert run.code == 0, run.stderr
    assert [(p["RoleArn"], p.get("ExternalId")) for p in _assumed(gate)] == [(role, "lw-org")]
    reads = [s for s in gate.seen if s.service == "organizations"]
    assert reads, "the organization's policies were not read"
    assumed_keys = {s.access_key for s in reads}
    assert "testing" not in assumed_keys  # read with the reader role's credentials


def test_organization_reader_that_is_the_bots_own_identity_is_not_assumed(
    world: World, gate: AwsGate, tmp_path: Path
) -> None:
    base = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    creds = base.client("sts", endpoint_url=world.moto.endpoint_url).assume_role(
        RoleArn=f"arn:aws:iam::{PRIMARY_ACCOUNT}:role/LambdaWhyOrgReader", RoleSessionName="hub"
    )["Credentials"]
    role = f"arn:aws:iam::{PRIMARY_ACCOUNT}:role/LambdaWhyOrgReader"
    run = check(
        world,
        world.arn("healthy"),
        LAMBDA_WHY_CONFIG=str(_org_config(tmp_path, role)),
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
        AWS_SESSION_TOKEN=creds["SessionToken"],
    )
    assert run.code == 0, run.stderr
    assert _assumed(gate) == []
    assert [s.access_key for s in gate.calls("organizations:DescribeOrganization")] == [
        creds["AccessKeyId"]
    ]


def test_organization_reader_refused_is_a_gap_not_an_error(
    world: World, gate: AwsGate, tmp_path: Path
) -> None:
    role = "arn:aws:iam::999999999999:role/LambdaWhyOrgReader"
    gate.rules.append(lambda s: s.params.get("RoleArn") == role)
    run = check(world, world.arn("vpc-no-eni"), LAMBDA_WHY_CONFIG=str(_org_config(tmp_path, role)))
    assert run.code == 1, run.stderr  # the diagnosis still stands
    doc = run.doc
    assert_contract_document(doc)
    assert [g["resource"] for g in doc["gaps"] if g["operation"] == "sts:AssumeRole"] == [role]
    assert any("SCPs and RCPs were not evaluated" in n for n in doc.get("notes", []))


# ---- --since --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("since", "events"),
    [
        ("30m", []),
        ("6h", ["RemovePermission"]),
        ("1h30m", []),
        ("3H", ["RemovePermission"]),
        ("2d", ["RemovePermission", "AddPermission"]),
        ("1w", ["RemovePermission", "AddPermission"]),
        (None, ["RemovePermission", "AddPermission"]),  # default 24h
    ],
)
def test_since_selects_the_cloudtrail_window(
    world: World, gate: AwsGate, since: str | None, events: list[str]
) -> None:
    args = ["--since", since] if since else []
    run = check(world, world.arn("healthy"), *args)
    assert run.code == 0, run.stderr
    doc = run.doc
    assert_contract_document(doc)
    assert [e["event"] for e in doc["events"]] == events
    assert not [g for g in doc["gaps"] if g["operation"].startswith("cloudtrail:")]
    if events:
        removed = doc["events"][0]
        assert removed["actor"] == f"arn:aws:sts::{PRIMARY_ACCOUNT}:assumed-role/deployer/alice"
        assert removed["summary"].startswith("removed invoke permission s3-uploads")


@pytest.mark.parametrize(
    "since", ["", "6", "h", "0h", "-1h", "1.5h", "6 hours", "6hours", "1d1d", "30m1h", "1y",
              "99999999999d", "9" * 5000 + "d"],
)  # fmt: skip
def test_bad_since_is_bad_input_before_any_aws_call(
    world: World, gate: AwsGate, since: str
) -> None:
    run = check(world, world.arn("healthy"), f"--since={since}")
    assert run.code == 2
    assert run.stdout == ""
    line = run.one_stderr_line()
    assert "duration" in line
    assert len(line) < 300
    assert gate.seen == []


def test_since_without_a_value_is_one_line(world: World, gate: AwsGate) -> None:
    run = check(world, world.arn("healthy"), "--since")
    assert run.code == 2
    assert "--since" in run.one_stderr_line()


# ---- FUNCTION ------------------------------------------------------------------------------


def _forms(world: World) -> list[tuple[str, str]]:
    arn = world.arn("healthy")  # orders-api, with alias `live` on version 1
    name = arn.rsplit(":", 1)[1]
    console = f"https://{REGION}.console.aws.amazon.com/lambda/home?region={REGION}#/functions"
    return [
        (arn, arn),
        (f"{arn}:live", f"{arn}:live"),
        (f"{arn}:1", f"{arn}:1"),
        (f"{arn}:$LATEST", f"{arn}:$LATEST"),
        (name, arn),
        (f"{name}:live", f"{arn}:live"),
        (f"{PRIMARY_ACCOUNT}:function:{name}", arn),
        (f"{PRIMARY_ACCOUNT}:function:{name}:1", f"{arn}:1"),
        (f"{console}/{name}?tab=code", arn),
        (f"{console}/{name}/aliases/live?tab=configure", f"{arn}:live"),
        (f"  {arn}  ", arn),
    ]


def test_function_forms(world: World, gate: AwsGate) -> None:
    for given, expected in _forms(world):
        run = check(world, given)
        assert run.code == 0, f"{given}: {run.stderr}"
        assert run.doc["function"] == expected, given


def test_a_name_takes_the_region_from_the_environment(world: World, gate: AwsGate) -> None:
    run = check(world, "orders-api", AWS_REGION="eu-west-1", AWS_DEFAULT_REGION="eu-west-1")
    assert run.code == 2  # no orders-api in eu-west-1
    line = run.one_stderr_line()
    assert "orders-api" in line
    assert "eu-west-1" in line
    run = check(world, world.arn("healthy"), AWS_REGION="eu-west-1", AWS_DEFAULT_REGION="eu-west-1")
    assert run.code == 0, run.stderr  # an ARN carries its region


def test_a_name_without_any_region_is_bad_input(world: World, gate: AwsGate) -> None:
    run = lambda_why(world, "check", "orders-api", AWS_REGION=None, AWS_DEFAULT_REGION=None)
    assert run.code == 2
    assert "region" in run.one_stderr_line()


@pytest.mark.parametrize(
    "given",
    [
        "arn:aws:lambda:us-east-1:123456789012:function",
        "arn:aws:iam::123456789012:role/orders-api-role",
        "arn:aws:lambda:us-east-1:123456789012:layer:x:1",
        "orders api",
        "orders.api",
        "a" * 65,
        "https://abcdefghijklmnop.lambda-url.us-east-1.on.aws/",
        "https://example.com/functions/orders-api",
    ],
)
def test_not_a_function_reference(world: World, gate: AwsGate, given: str) -> None:
    run = check(world, given)
    assert run.code == 2
    assert run.stdout == ""
    line = run.one_stderr_line()
    assert repr(given) in line or given in line
    if ".lambda-url." in given:
        assert "function URL" in line
    assert gate.calls("lambda:GetFunction") == []


@pytest.mark.parametrize(
    "suffix", ["", ":no-such-alias", ":42"], ids=["function", "alias", "version"]
)
def test_unknown_function_is_bad_input(world: World, gate: AwsGate, suffix: str) -> None:
    base = f"arn:aws:lambda:{REGION}:{PRIMARY_ACCOUNT}:function:"
    given = (base + "does-not-exist") if not suffix else (world.arn("healthy") + suffix)
    run = check(world, given)
    assert run.code == 2
    assert run.stdout == ""
    line = run.one_stderr_line()
    assert "not found" in line
    assert [s.denied for s in gate.calls("lambda:GetFunction")] == [False]


# ---- help, version, usage errors -------------------------------------------------------------


def _plain(world: World, *args: str) -> Run:
    return lambda_why(world, *args)


def test_help_and_version(world: World) -> None:
    top = _plain(world, "--help")
    assert top.code == 0
    for command in ("check", "explain", "simulate", "demo", "serve", "worker"):
        assert command in top.stdout
    for command in ("check", "explain", "simulate", "history", "diff", "demo", "serve", "worker"):
        run = _plain(world, command, "--help")
        assert run.code == 0, command
        assert run.stdout.startswith(f"usage: lambda-why {command}"), command
    check_help = _plain(world, "check", "--help").stdout
    for option in ("--json", "--since"):
        assert option in check_help
    explain_help = _plain(world, "explain", "--help").stdout
    for option in ("--json", "--offline"):
        assert option in explain_help
    assert _plain(world, "--version").stdout.strip() == f"lambda-why {version('lambda-why')}"


@pytest.mark.parametrize(
    "args",
    [["check", "orders-api", "--bogus"], ["nosuch"], ["explain"], ["check", "-x"],
     ["simulate"], ["check", "orders-api", "--snapshot"]],
)  # fmt: skip
def test_usage_errors_are_one_line_exit_2(world: World, args: list[str]) -> None:
    run = _plain(world, *args)
    assert run.code == 2
    assert run.stdout == ""
    assert "--help" in run.one_stderr_line()


def _seen_operations(seen: list[Seen]) -> set[str]:
    return {f"{s.service}:{s.operation}" for s in seen}


def test_check_only_reads(world: World, gate: AwsGate) -> None:
    """AWS access through the standard chain and AWS_ENDPOINT_URL: everything went through
    the gate, and every operation was a read."""
    run = check(world, world.arn("vpc-no-eni"), "--scan-triggers")
    assert run.code == 1, run.stderr
    operations = _seen_operations(gate.seen)
    assert "lambda:GetFunction" in operations
    for op in operations:
        name = op.split(":", 1)[1]
        assert name.startswith(("Get", "List", "Describe", "Lookup", "GET ", "HEAD ")) or op in {
            "sts:AssumeRole",
            "logs:FilterLogEvents",
        }, op


# ---- explain (CONTRACTS §3: the CLI's shape; the parser has its own tests) -------------------


def _denial(principal: str, account: str) -> str:
    return (
        f"User: {principal} is not authorized to perform: dynamodb:PutItem on resource: "
        f"arn:aws:dynamodb:{REGION}:{account}:table/orders because no identity-based policy "
        "allows the dynamodb:PutItem action"
    )


def test_explain_principal_that_cannot_be_read_is_unknown_not_missing(
    world: World, gate: AwsGate
) -> None:
    """A role in an account lambda-why may not read, or whose GetRole is denied, is
    undecided; only NoSuchEntity makes it a role that does not exist."""
    cases = [
        (f"arn:aws:sts::{SECOND_ACCOUNT}:assumed-role/ledger-api-role/x", SECOND_ACCOUNT, set()),
        (f"arn:aws:sts::{PRIMARY_ACCOUNT}:assumed-role/orders-api-role/x", PRIMARY_ACCOUNT,
         {"iam:GetRole"}),
    ]  # fmt: skip
    for principal, account, deny in cases:
        gate.clear()
        gate.deny.update(deny)
        run = lambda_why(world, "explain", _denial(principal, account), "--json")
        assert run.code == 0, run.stderr
        doc = run.doc
        assert set(doc) >= {"parsed", "findings"}
        assert doc["parsed"]["principal"] == principal
        assert [f["status"] for f in doc["findings"]] == ["unknown"], doc["findings"]
        assert "does not exist" not in doc["findings"][0]["title"]


def test_explain_role_that_does_not_exist_fails(world: World, gate: AwsGate) -> None:
    principal = f"arn:aws:sts::{PRIMARY_ACCOUNT}:assumed-role/deleted-role/x"
    run = lambda_why(world, "explain", _denial(principal, PRIMARY_ACCOUNT), "--json")
    assert run.code == 1, run.stderr
    [finding] = run.doc["findings"]
    assert finding["status"] == "fail"
    assert "does not exist" in finding["title"]


def test_explain_offline_reads_nothing_and_not_an_error_is_2(world: World, gate: AwsGate) -> None:
    principal = f"arn:aws:sts::{PRIMARY_ACCOUNT}:assumed-role/orders-api-role/x"
    run = lambda_why(world, "explain", _denial(principal, PRIMARY_ACCOUNT), "--json", "--offline")
    assert run.code == 0, run.stderr
    assert run.doc["findings"] == []
    assert gate.seen == []
    run = lambda_why(world, "explain", "the build failed: exit status 1", "--json")
    assert run.code == 2
    assert run.doc == {"parsed": None, "findings": []}
    run.one_stderr_line()
