"""Container files: the compose file's structure, the Dockerfile's hygiene, the Procfile.

No Docker engine runs in CI, so the compose file is checked as data (services, health
checks, scaling) and the Dockerfile by inspection of its instructions.
"""

from __future__ import annotations

import re
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import DEPLOY, ROOT

HEALTHCHECK_SCRIPT = "/usr/local/lib/lambda-why/healthcheck.py"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _instructions(text: str) -> list[tuple[str, str]]:
    """Dockerfile instructions as (KEYWORD, arguments), continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, rest = stripped.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def test_compose_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= {"redis", "web", "worker"}
    assert services["web"]["command"] == ["serve"]
    assert services["worker"]["command"] == ["worker"]
    for name in ("web", "worker"):
        service = services[name]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert service["environment"]["REDIS_URL"].startswith("redis://redis:")
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        assert service["read_only"] is True
        assert "ALL" in service["cap_drop"]


def test_compose_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        check = service.get("healthcheck")
        assert check, f"{name} has no health check"
        assert check["test"][0] in {"CMD", "CMD-SHELL"}
        for key in ("interval", "timeout", "retries"):
            assert key in check, f"{name} health check lacks {key}"
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    web = services["web"]["healthcheck"]["test"]
    assert web[-2:] == [HEALTHCHECK_SCRIPT, "/readyz"]
    assert services["worker"]["healthcheck"]["test"][-2:] == [HEALTHCHECK_SCRIPT, "redis"]


def test_compose_scales_workers_and_persists_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["worker"]["stop_grace_period"] == "40s", "longer than the worker's --grace"
    assert "ports" not in services["worker"], "fixed host ports would block --scale worker=N"
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    volume = services["redis"]["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]


def test_dockerfile_is_multi_stage_pinned_and_non_root() -> None:
    instructions = _instructions((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    keywords = [k for k, _ in instructions]
    args = dict(a.split("=", 1) for k, a in instructions if k == "ARG" and "=" in a)
    froms = [a for k, a in instructions if k == "FROM"]
    assert len(froms) >= 2, "multi-stage build"
    for line in froms:
        image = line.split()[0]
        image = args.get(image.strip("${}"), image)
        name, _, tag = image.partition(":")
        assert name == "python", image
        assert re.match(r"^3\.11\.\d+-slim", tag), f"pin a patch release: {image}"
    users = [a for k, a in instructions if k == "USER"]
    assert users, "the runtime stage must drop root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "FROM")
    healthcheck = [a for k, a in instructions if k == "HEALTHCHECK"]
    assert len(healthcheck) == 1
    assert "/healthz" in healthcheck[0]
    assert HEALTHCHECK_SCRIPT in healthcheck[0]
    assert ("ENTRYPOINT", '["lambda-why"]') in instructions
    assert not any(k == "ADD" for k in keywords), "COPY, not ADD"
    copies = " ".join(a for k, a in instructions if k == "COPY")
    assert "deploy/healthcheck.py" in copies
    # exec-form CMD/ENTRYPOINT/HEALTHCHECK: signals reach the process
    for keyword, argument in instructions:
        if keyword in {"CMD", "ENTRYPOINT"}:
            assert argument.startswith("["), f"{keyword} should use the exec form"


def test_dockerignore_keeps_only_what_the_build_copies() -> None:
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[0] == "**"
    assert {"!pyproject.toml", "!bot/**", "!handlers/**", "!deploy/healthcheck.py"} <= set(rules)


def test_procfile() -> None:
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
    entries = dict(line.split(": ", 1) for line in lines if line.strip())
    assert entries == {"web": "lambda-why serve", "worker": "lambda-why worker"}


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = {"/healthz": 200, "/readyz": 503}.get(self.path, 404)
        self.send_response(status)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def _run_probe(target: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEPLOY / "healthcheck.py"), target],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_healthcheck_probe_against_a_real_server() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {"PORT": str(server.server_address[1]), "PATH": "/usr/bin:/bin"}
        assert _run_probe("/healthz", env).returncode == 0
        failed = _run_probe("/readyz", env)
        assert failed.returncode == 1
        assert "HTTP 503" in failed.stderr
    finally:
        server.shutdown()
        server.server_close()


def test_healthcheck_probe_fails_when_nothing_listens() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Health) as server:
        port = server.server_address[1]
    result = _run_probe("/healthz", {"PORT": str(port), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1


def test_healthcheck_probe_redis() -> None:
    ok = _run_probe("redis", {"REDIS_URL": "redis://127.0.0.1:6379/0", "PATH": "/usr/bin:/bin"})
    assert ok.returncode == 0, ok.stderr
    unset = _run_probe("redis", {"PATH": "/usr/bin:/bin"})
    assert unset.returncode == 1
    assert "REDIS_URL is not set" in unset.stderr


def test_env_example_names_only_contract_variables() -> None:
    from bot.config import Settings

    text = (DEPLOY / "env.example").read_text(encoding="utf-8")
    names = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in text.splitlines()
        if "=" in line and re.match(r"^#? ?[A-Z][A-Z0-9_]+=", line)
    }
    fields = {name.upper() for name in Settings.model_fields}
    aws = {n for n in names if n.startswith("AWS_")}
    assert names - aws <= fields, names - aws - fields
    values = [
        line.split("=", 1)[1]
        for line in text.splitlines()
        if re.match(r"^[A-Z][A-Z0-9_]+=", line) and line.startswith("SLACK_")
    ]
    assert all(v == "" for v in values), "never ship secret values"
    assert Path(DEPLOY / "config.example.toml").exists()


def test_config_example_is_valid() -> None:
    from bot.config import FileConfig

    config = FileConfig.load(DEPLOY / "config.example.toml")
    assert set(config.accounts) == {"111111111111", "222222222222"}
    assert config.organization is not None
    assert config.organization.role_arn.endswith(":role/LambdaWhyOrgReader")
