"""AWS API calls and wall time per diagnosis, against a local moto server.

The function: an execution role with two customer managed policies, a resource policy
(an S3 bucket may invoke it), and one SQS event source mapping.
Calls are counted by the botocore `before-call` hook every AwsAccess client carries
(`CallRecorder`), so every page of a paginated list counts.

Rounds:
- cold: a new AwsAccess (a CLI run): identity, role, policies, everything read;
- warm: the same AwsAccess again (the worker's next diagnosis in the account): role
  details, managed policy documents, trigger listings, URL/destination config and the
  identity come from the per-account TTL cache;
- fresh: `fresh=True` (Rerun): the caches are bypassed except immutable policy versions.

The AWS collectors are counted alone; the late collectors (CloudWatch Logs, CloudTrail,
EFS, ECR, assumed roles) are counted separately in a second pass, because their calls
depend on the log and event volume rather than on the function's configuration.

Run: `.venv/bin/python bench/diagnosis.py [--rounds N]`
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import os
import socket
import statistics
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
from moto.server import ThreadedMotoServer

from bot.aws.access import AwsAccess
from bot.aws.collect import collect
from bot.config import FileConfig, Settings

REGION = "us-east-1"
COLD_TARGET = 12
WARM_TARGET = 4
#: trigger discovery: callers' configuration scanned for the function
TRIGGER_OPS = ("events:", "sns:ListSubscriptions", "s3:")
#: made once per AwsAccess (process or worker), not per diagnosis
ONCE_OPS = ("sts:GetCallerIdentity",)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


def _doc(action: str, resource: str = "*") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
        }
    )


def seed(name: str = "orders") -> str:
    iam = boto3.client("iam")
    lam = boto3.client("lambda", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(trust))
    for policy, action in (("logs", "logs:*"), ("queue", "sqs:ReceiveMessage")):
        arn = iam.create_policy(PolicyName=f"{name}-{policy}", PolicyDocument=_doc(action))
        iam.attach_role_policy(RoleName=f"{name}-role", PolicyArn=arn["Policy"]["Arn"])
    fn = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="index.handler",
        Code={"ZipFile": _zip()},
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{name}-uploads",
    )
    url = sqs.create_queue(QueueName=f"{name}-queue")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    lam.create_event_source_mapping(
        EventSourceArn=queue["Attributes"]["QueueArn"], FunctionName=fn["FunctionArn"]
    )
    return str(fn["FunctionArn"])


async def diagnose(access: AwsAccess, arn: str, **kwargs: object) -> tuple[Counter[str], float]:
    access.recorder.reset()
    start = time.perf_counter()
    await collect(access, arn, **kwargs)  # type: ignore[arg-type]
    return access.recorder.reset(), time.perf_counter() - start


def _split(calls: Counter[str]) -> tuple[int, int]:
    """(permission reads, trigger discovery reads); the once-per-access identity excluded."""
    triggers = sum(n for op, n in calls.items() if op.startswith(TRIGGER_OPS))
    once = sum(n for op, n in calls.items() if op in ONCE_OPS)
    return sum(calls.values()) - triggers - once, triggers


def _line(label: str, calls: Counter[str], seconds: list[float]) -> str:
    core, triggers = _split(calls)
    wall = statistics.median(seconds) * 1000
    return (
        f"{label:<6} calls {sum(calls.values()):>3} (permissions {core:>2}, trigger discovery "
        f"{triggers}, identity {sum(calls.values()) - core - triggers}) "
        f"wall {wall:7.1f} ms median of {len(seconds)}"
    )


async def main(rounds: int) -> int:
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # moto's request log
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION=REGION,
    )
    os.environ.pop("AWS_PROFILE", None)
    try:
        arn = seed()
        settings = Settings(_env_file=None)  # type: ignore[call-arg]

        def new_access() -> AwsAccess:
            return AwsAccess(settings, FileConfig(), base_session=boto3.Session(region_name=REGION))

        cold_times, warm_times, fresh_times = [], [], []
        cold = warm = fresh = Counter[str]()
        for _ in range(rounds):
            access = new_access()
            cold, t = await diagnose(access, arn, late_collectors=())
            cold_times.append(t)
            warm, t = await diagnose(access, arn, late_collectors=())
            warm_times.append(t)
            fresh, t = await diagnose(access, arn, late_collectors=(), fresh=True)
            fresh_times.append(t)
        late, late_time = await diagnose(new_access(), arn)
        late_only = late - cold

        print(f"lambda-why diagnosis bench against moto server :{port} ({rounds} rounds)")
        print(_line("cold", cold, cold_times))
        print(_line("warm", warm, warm_times))
        print(_line("fresh", fresh, fresh_times))
        print(
            f"late collectors (logs, CloudTrail, EFS, ECR; counted apart): "
            f"{sum(late_only.values())} calls, whole cold diagnosis {late_time * 1000:.1f} ms"
        )
        for label, calls in (("cold", cold), ("warm", warm), ("late", late_only)):
            print(f"  {label}: " + ", ".join(f"{op}×{n}" for op, n in sorted(calls.items())))
        core_cold, _ = _split(cold)
        total_warm = sum(warm.values())
        print(
            f"targets: cold permission reads {core_cold} <= {COLD_TARGET}: "
            f"{'met' if core_cold <= COLD_TARGET else 'MISSED'} "
            f"(+{sum(cold[op] for op in ONCE_OPS)} identity call once per AwsAccess, "
            f"+{_split(cold)[1]} trigger discovery); "
            f"warm, all calls {total_warm} <= {WARM_TARGET}: "
            f"{'met' if total_warm <= WARM_TARGET else 'MISSED'}"
        )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    sys.exit(asyncio.run(main(parser.parse_args().rounds)))
