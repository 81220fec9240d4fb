"""`lambda-why check` exit codes and one-line errors (CONTRACTS §2)."""

from __future__ import annotations

import socket

from bot.demo.scenarios import PRIMARY_ACCOUNT, REGION

from .conftest import Seeded, lambda_why


def _one_line(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one stderr line, got:\n{stderr}"
    assert "Traceback" not in stderr


def test_malformed_arn_is_bad_input(seeded: Seeded) -> None:
    run = lambda_why(
        ["check", "arn:aws:lambda:us-east-1:12345:function", "--json"], seeded.env(), seeded.home
    )
    assert run.code == 2
    assert run.stdout == ""
    _one_line(run.stderr)


def test_not_a_function_name_is_bad_input(seeded: Seeded) -> None:
    run = lambda_why(["check", "this is not a function!", "--json"], seeded.env(), seeded.home)
    assert run.code == 2
    _one_line(run.stderr)


def test_unknown_function_is_bad_input(seeded: Seeded) -> None:
    arn = f"arn:aws:lambda:{REGION}:{PRIMARY_ACCOUNT}:function:does-not-exist"
    run = lambda_why(["check", arn, "--json"], seeded.env(), seeded.home)
    assert run.code == 2
    _one_line(run.stderr)
    assert "does-not-exist" in run.stderr


def test_function_name_uses_current_account_and_region(seeded: Seeded) -> None:
    run = lambda_why(["check", "orders-api", "--json"], seeded.env(), seeded.home)
    assert run.code == 0, run.stderr
    assert run.document["function"] == seeded.scenarios["healthy"].function_arn


def test_unconfigured_other_account_is_refused(seeded: Seeded) -> None:
    arn = seeded.scenarios["xacct-healthy"].function_arn
    env = seeded.env()
    del env["LAMBDA_WHY_CONFIG"]
    run = lambda_why(["check", arn, "--json"], env, seeded.home)
    assert run.code == 2
    _one_line(run.stderr)


def test_unreachable_endpoint_exits_3(seeded: Seeded) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # nothing listens on the port once the socket is closed
    env = seeded.env(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_MAX_ATTEMPTS="2")
    arn = seeded.scenarios["healthy"].function_arn
    run = lambda_why(["check", arn, "--json"], env, seeded.home, timeout=90)
    assert run.code == 3
    _one_line(run.stderr)


def test_no_credentials_exits_3(seeded: Seeded) -> None:
    env = seeded.env()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        del env[name]
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    arn = seeded.scenarios["healthy"].function_arn
    run = lambda_why(["check", arn, "--json"], env, seeded.home, timeout=90)
    assert run.code == 3
    _one_line(run.stderr)


def test_console_url_and_partial_arn(seeded: Seeded) -> None:
    arn = seeded.scenarios["healthy"].function_arn
    refs = [
        f"https://{REGION}.console.aws.amazon.com/lambda/home?region={REGION}"
        "#/functions/orders-api?tab=code",
        f"{PRIMARY_ACCOUNT}:function:orders-api",
    ]
    for ref in refs:
        run = lambda_why(["check", ref, "--json"], seeded.env(), seeded.home)
        assert run.code == 0, f"{ref}: {run.stderr}"
        assert run.document["function"] == arn


def test_unknown_qualifier_is_bad_input(seeded: Seeded) -> None:
    arn = seeded.scenarios["healthy"].function_arn + ":no-such-alias"
    run = lambda_why(["check", arn, "--json"], seeded.env(), seeded.home)
    assert run.code == 2
    _one_line(run.stderr)
