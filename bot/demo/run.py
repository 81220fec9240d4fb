"""`lambda-why demo`: the whole product on one machine, with nothing configured.

1. an in-process moto server, seeded with broken and healthy functions (`scenarios`);
2. fake AWS credentials and the moto endpoint set in THIS process's environment only;
3. each scenario diagnosed — through the Slack flow (`bot.demo.slack_flow`: local Slack
   Web API double, the Bolt app, signed slash commands and button clicks) when the Slack
   app is available, else directly with `bot.diagnose.diagnose`;
4. the threads (or findings) printed in the terminal, the support bundles written to
   `out_dir`.

Nothing here reaches the network: moto and the Slack double listen on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.demo.cloudtrail import DemoCloudTrail
from bot.demo.moto import MotoEndpoint, moto_server
from bot.demo.scenarios import Expected, Scenario, config_toml, seed
from bot.report import Finding, Report

if TYPE_CHECKING:
    from bot.config import Settings

#: the scenarios `lambda-why demo` shows by default (`--all` shows every one)
DEMO_KEYS = (
    "healthy",
    "trust-wrong",
    "vpc-boundary",
    "sqs-no-receive",
    "events-no-permission",
    "kms-env",
    "xacct-logging",
)

#: variables that could point the demo at real AWS; removed while it runs
_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CA_BUNDLE",
)


@dataclass
class ScenarioResult:
    scenario: Scenario
    report: Report | None = None
    bundle: Path | None = None
    error: str | None = None
    #: expected findings that the diagnosis did not produce
    missing: list[Expected] = field(default_factory=list)

    #: why the result cannot be compared with the scenario's expectation
    note: str | None = None

    @property
    def as_expected(self) -> bool:
        """Broken: every expected root cause found; healthy: no `fail`."""
        if self.report is None or self.note is not None:
            return False
        if self.scenario.healthy:
            return self.report.summary.fail == 0
        return not self.missing


@dataclass
class DemoResult:
    results: list[ScenarioResult]
    out_dir: Path
    mode: str  # "slack" or "diagnose"
    seconds: float

    @property
    def bundles(self) -> list[Path]:
        return [r.bundle for r in self.results if r.bundle is not None]


@contextmanager
def demo_environment(
    endpoint: MotoEndpoint, workdir: Path, *, cloudtrail_url: str | None = None
) -> Iterator[None]:
    """Point boto3 in this process at moto (and CloudTrail at the demo's event history)
    with fake credentials; restore the environment afterwards."""
    saved = dict(os.environ)
    try:
        for name in list(os.environ):
            if name in _AWS_VARIABLES or name.startswith("AWS_ENDPOINT_URL_"):
                del os.environ[name]
        empty = workdir / "aws-empty"
        empty.write_text("", encoding="utf-8")
        os.environ.update(endpoint.client_env())
        os.environ["AWS_CONFIG_FILE"] = str(empty)
        os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(empty)
        if cloudtrail_url:
            os.environ["AWS_ENDPOINT_URL_CLOUDTRAIL"] = cloudtrail_url
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def matches(finding: Finding, expected: Expected) -> bool:
    """Whether a finding is the expected root cause (CONTRACTS §2 fields)."""
    if finding.check != expected.check or finding.status != expected.status:
        return False
    if expected.principal is not None and finding.principal != expected.principal:
        return False
    if not set(expected.actions) <= set(finding.actions):
        return False
    if expected.source is not None and finding.source != expected.source:
        return False
    return expected.denied_by is None or set(expected.denied_by) <= set(finding.denied_by)


def missing_expectations(scenario: Scenario, report: Report) -> list[Expected]:
    """Expected findings absent from the report."""
    return [e for e in scenario.expected if not any(matches(f, e) for f in report.findings)]


def select(keys: Sequence[str] | None, all_scenarios: bool) -> list[str] | None:
    """The scenario keys to seed: explicit ones, all (None), or the demo default."""
    if keys:
        return list(keys)
    return None if all_scenarios else list(DEMO_KEYS)


def slack_available() -> bool:
    """The Slack app pieces the full demo drives (Slack helper's modules)."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("bot.web", "bot.slack.double", "bot.demo.slack_flow")
    )


async def run_demo(
    out_dir: Path,
    *,
    keys: Sequence[str] | None = None,
    all_scenarios: bool = False,
    use_slack: bool | None = None,
    stream: TextIO | None = None,
) -> DemoResult:
    """Run the demo end to end; print to `stream`; write bundles under `out_dir`."""
    from bot.demo import render

    out = stream or sys.stdout
    started = time.monotonic()
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    slack = slack_available() if use_slack is None else use_slack
    with tempfile.TemporaryDirectory(prefix="lambda-why-demo-") as tmp, moto_server() as endpoint:
        workdir = Path(tmp)
        render.banner(out, endpoint.endpoint_url)
        scenarios = await seed(endpoint.endpoint_url, only=select(keys, all_scenarios))
        config = workdir / "lambda-why.toml"
        config.write_text(config_toml(scenarios), encoding="utf-8")
        render.seeded(out, scenarios, time.monotonic() - started)
        trail = DemoCloudTrail(record for s in scenarios for record in s.cloudtrail)
        async with trail:
            with demo_environment(endpoint, workdir, cloudtrail_url=trail.url):
                results = await _run(scenarios, config, out_dir, out, slack=slack)
    result = DemoResult(
        results=results,
        out_dir=out_dir,
        mode="slack" if slack else "diagnose",
        seconds=time.monotonic() - started,
    )
    render.footer(out, result)
    return result


async def _run(
    scenarios: Sequence[Scenario], config: Path, out_dir: Path, out: TextIO, *, slack: bool
) -> list[ScenarioResult]:
    if slack:
        from bot.demo.slack_flow import run_slack_flow

        return await run_slack_flow(scenarios, config, out_dir, out)
    return await _run_diagnose(scenarios, config, out_dir, out)


async def _run_diagnose(
    scenarios: Sequence[Scenario], config: Path, out_dir: Path, out: TextIO
) -> list[ScenarioResult]:
    """Without the Slack app: diagnose each scenario directly and print its findings."""
    from bot.aws.access import AwsAccess
    from bot.bundle import build_bundle, bundle_name
    from bot.config import FileConfig
    from bot.demo import render
    from bot.diagnose import diagnose

    settings = demo_settings(config)
    access = AwsAccess(settings, FileConfig.load(config), requested_by="lambda-why-demo")
    results: list[ScenarioResult] = []
    for scenario in scenarios:
        result = ScenarioResult(scenario)
        snapshot, report = await diagnose(
            access, scenario.function_arn, scan_triggers=scenario.scan_triggers
        )
        result.report = report
        result.missing = missing_expectations(scenario, report)
        if report.summary.fail or report.summary.warn:
            path = out_dir / bundle_name(report)
            path.write_bytes(build_bundle(report, snapshot))
            result.bundle = path
        render.diagnosis(out, result)
        results.append(result)
    return results


def demo_settings(config: Path, **overrides: object) -> Settings:
    """Settings for the demo only: never the user's environment or `.env` (no real Slack)."""
    from bot.config import Settings

    values: dict[str, object] = {
        "slack_bot_token": FAKE_SLACK_BOT_TOKEN,
        "slack_signing_secret": FAKE_SLACK_SIGNING_SECRET,
        "slack_app_token": None,
        "slack_api_url": "http://127.0.0.1:9/api/",
        "port": 0,
        "redis_url": None,
        "lambda_why_role_name": "LambdaWhyReadOnly",
        "lambda_why_external_id": None,
        "escalation_channel": DEMO_ESCALATION_CHANNEL,
        "lambda_why_config": config,
    }
    values.update(overrides)
    # model_validate skips the environment and `.env` sources: only these values count
    return Settings.model_validate(values)


FAKE_SLACK_BOT_TOKEN = "xoxb-0000000000-0000000000-lambdawhydemo0000000000"
FAKE_SLACK_SIGNING_SECRET = "0123456789abcdef0123456789abcdef"
DEMO_CHANNEL = "C0DEMO0001"
DEMO_ESCALATION_CHANNEL = "C0ESCALATE"
