"""`lambda-why serve` as an outside acceptance run drives it.

A subprocess in HTTP mode configured only by environment variables, a moto server seeded
here with boto3, and `StrictSlack` (tests/slack/strict_slack.py): a Web API double written
apart from `bot.slack.double` that refuses what Slack would refuse. Requests are signed
here too (https://docs.slack.dev/authentication/verifying-requests-from-slack), not with
the project's sender. Every Web API call must be one Slack accepts, unless the test
scripted the fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import io
import json
import os
import re
import socket
import sys
import time
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import boto3
import pytest

from .strict_slack import BOT_USER, TEAM, Posted, StrictSlack, texts

TOKEN = "xoxb-1111-2222-strictstrictstrict"
SECRET = "e2e0c8b1f7a94d55a3c1d2b7f0e9a8c6"
ACCOUNT = "123456789012"  # moto's account for unknown credentials
REGION = "us-east-1"
CHANNEL = "C0INCIDENTS"
OUTSIDE = "C0NOTJOINED"
ESCALATE = "C0ESCALATE"
ALICE = "U0ALICE"
HANAKO = "U0HANAKOJA"

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _logging_policy(name: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "logs:CreateLogGroup",
                "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:*",
            },
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{name}:*",
            },
        ],
    }


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


@dataclass
class Aws:
    endpoint: str
    functions: dict[str, str] = field(default_factory=dict)

    def arn(self, name: str) -> str:
        return self.functions[name]


def _seed(endpoint: str) -> Aws:
    """`orders` in a VPC whose role may not manage ENIs; `fenced`, whose ENI permissions a
    long explicit deny takes away; `noisy`, whose logs hold 40 different AccessDenied errors
    (a report with many findings)."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    iam = session.client("iam", endpoint_url=endpoint)
    ec2 = session.client("ec2", endpoint_url=endpoint)
    lam = session.client("lambda", endpoint_url=endpoint)
    logs = session.client("logs", endpoint_url=endpoint)
    aws = Aws(endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="orders", Description="orders", VpcId=vpc)
    for name in ("orders", "noisy"):
        role = iam.create_role(
            RoleName=f"{name}-exec", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)
        )["Role"]["Arn"]
        iam.put_role_policy(
            RoleName=f"{name}-exec",
            PolicyName="logging",
            PolicyDocument=json.dumps(_logging_policy(name)),
        )
        extra: dict[str, Any] = {}
        if name == "orders":
            extra["VpcConfig"] = {"SubnetIds": [subnet], "SecurityGroupIds": [group["GroupId"]]}
        aws.functions[name] = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": _zip()},
            **extra,
        )["FunctionArn"]
    # `fenced`: ENI actions allowed, then denied by a long region fence: the evidence alone
    # is more text than one Slack message takes
    fence = [f"xx-approved-{n:03d}" for n in range(450)]
    role = iam.create_role(
        RoleName="fenced-exec", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="fenced-exec",
        PolicyName="vpc",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "Eni",
                        "Effect": "Allow",
                        "Action": [
                            "ec2:CreateNetworkInterface",
                            "ec2:DescribeNetworkInterfaces",
                            "ec2:DeleteNetworkInterface",
                        ],
                        "Resource": "*",
                    },
                    {
                        "Sid": "OnlyApprovedRegions",
                        "Effect": "Deny",
                        "Action": "ec2:*",
                        "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:RequestedRegion": fence}},
                    },
                ],
            }
        ),
    )
    aws.functions["fenced"] = lam.create_function(
        FunctionName="fenced",
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _zip()},
        VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [group["GroupId"]]},
    )["FunctionArn"]
    logs.create_log_group(logGroupName="/aws/lambda/noisy")
    logs.create_log_stream(logGroupName="/aws/lambda/noisy", logStreamName="2026/01/01/[$LATEST]a")
    now = datetime.now(UTC)
    events = []
    for n in range(40):
        stamp = now - timedelta(minutes=50 - n)
        events.append(
            {
                "timestamp": int(stamp.timestamp() * 1000),
                "message": (
                    f"[ERROR] ClientError: An error occurred (AccessDeniedException) when calling "
                    f"the PutItem operation: User: arn:aws:sts::{ACCOUNT}:assumed-role/noisy-exec/"
                    f"noisy is not authorized to perform: dynamodb:PutItem on resource: "
                    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ledger-{n:02d} because no "
                    f"identity-based policy allows the dynamodb:PutItem action"
                ),
            }
        )
    logs.put_log_events(
        logGroupName="/aws/lambda/noisy", logStreamName="2026/01/01/[$LATEST]a", logEvents=events
    )
    return aws


@pytest.fixture(scope="module")
def aws() -> Iterator[Aws]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield _seed(f"http://{host}:{port}")
    finally:
        server.stop()


# ------------------------------------------------------------------ signed Slack requests


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signature(body: str, stamp: int, secret: str = SECRET) -> str:
    base = f"v0:{stamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Answer:
    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


class Slack:
    """What Slack sends to the app: signed commands, events and interactions."""

    def __init__(self, url: str, api: StrictSlack) -> None:
        self.url = url
        self.api = api
        self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        await self.session.close()

    async def send(
        self,
        body: str,
        ctype: str,
        *,
        stamp: int | None = None,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        stamp = int(time.time()) if stamp is None else stamp
        all_headers = {
            "Content-Type": ctype,
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": signature(body, stamp, secret),
            **(headers or {}),
        }
        async with self.session.post(self.url, data=body.encode(), headers=all_headers) as resp:
            return Answer(resp.status, await resp.text(), dict(resp.headers))

    def command_body(self, text: str, *, user: str = ALICE, channel: str = CHANNEL) -> str:
        return urlencode(
            {
                "token": "verification-token-unused",
                "team_id": TEAM,
                "team_domain": "strict",
                "channel_id": channel,
                "channel_name": "incidents",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/lambda-why",
                "text": text,
                "api_app_id": "A0STRICT",
                "is_enterprise_install": "false",
                "response_url": self.api.response_url(),
                "trigger_id": f"{time.time():.0f}.{uuid.uuid4().int % 10**9}.x",
            }
        )

    async def command(self, text: str, **kwargs: Any) -> Answer:
        return await self.send(
            self.command_body(text, **kwargs), "application/x-www-form-urlencoded"
        )

    def event_body(self, event: dict[str, Any], event_id: str | None = None) -> str:
        return json.dumps(
            {
                "token": "verification-token-unused",
                "team_id": TEAM,
                "api_app_id": "A0STRICT",
                "event": event,
                "type": "event_callback",
                "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
                "event_time": int(time.time()),
                "authorizations": [
                    {
                        "team_id": TEAM,
                        "user_id": BOT_USER,
                        "is_bot": True,
                        "is_enterprise_install": False,
                    }
                ],
                "is_ext_shared_channel": False,
            }
        )

    async def mention(
        self,
        text: str,
        *,
        user: str = ALICE,
        channel: str = CHANNEL,
        thread_ts: str | None = None,
        event_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[Answer, Posted]:
        said = self.api.person_says(
            channel, f"<@{BOT_USER}> {text}", user=user, thread_ts=thread_ts
        )
        event = {
            "type": "app_mention",
            "user": user,
            "text": said.text,
            "ts": said.ts,
            "channel": channel,
            "event_ts": said.ts,
            "team": TEAM,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        body = self.event_body(event, event_id)
        return await self.send(body, "application/json", headers=headers), said

    async def click(self, message: Posted, label: str, *, user: str = ALICE) -> Answer:
        """Press the button whose label contains `label` on a message the bot posted."""
        for block in message.blocks:
            for element in block.get("elements", []) if block["type"] == "actions" else []:
                if element.get("type") == "button" and label in element["text"]["text"]:
                    action = {
                        "type": "button",
                        "action_id": element["action_id"],
                        "block_id": block.get("block_id", "b"),
                        "text": element["text"],
                        "value": element.get("value"),
                        "action_ts": f"{time.time():.6f}",
                    }
                    break
            else:
                continue
            break
        else:
            raise LookupError(f"no button labelled {label!r}")
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "api_app_id": "A0STRICT",
            "token": "verification-token-unused",
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": False,
            },
            "trigger_id": f"{time.time():.0f}.{uuid.uuid4().int % 10**9}.t",
            "team": {"id": TEAM, "domain": "strict"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": message.channel, "name": "incidents"},
            "message": {
                "type": "message",
                "user": BOT_USER,
                "bot_id": "B0",
                "ts": message.ts,
                "text": message.text,
                "blocks": message.blocks,
            },
            "state": {"values": {}},
            "response_url": self.api.response_url(),
            "actions": [action],
        }
        return await self.send(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    async def submit(
        self, view: dict[str, Any], values: dict[str, Any], *, user: str = ALICE
    ) -> Answer:
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "strict"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "api_app_id": "A0STRICT",
            "token": "verification-token-unused",
            "trigger_id": f"{time.time():.0f}.{uuid.uuid4().int % 10**9}.v",
            "view": {**view, "state": {"values": values}, "hash": "1.abc"},
            "response_urls": [],
        }
        return await self.send(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )


@dataclass
class Served:
    base: str
    api: StrictSlack
    slack: Slack
    aws: Aws
    out: list[str] = field(default_factory=list)

    def audit(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out if line.startswith("{")]


@contextlib.asynccontextmanager
async def serve(
    aws: Aws, tmp_path: Path, *, locales: dict[str, str] | None = None, **env: str
) -> AsyncIterator[Served]:
    async with StrictSlack(
        token=TOKEN,
        member_of={CHANNEL, ESCALATE, "C0SECOND"},
        outside={OUTSIDE},
        locales=locales or {},
    ) as api:
        port = _free_port()
        empty = tmp_path / "aws-empty"
        empty.write_text("")
        proc_env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api.api_url,
            "PORT": str(port),
            "AWS_ENDPOINT_URL": aws.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(empty),
            "AWS_SHARED_CREDENTIALS_FILE": str(empty),
            **env,
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            cwd=str(tmp_path),
            env=proc_env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        served = Served(base, api, Slack(f"{base}/slack/events", api), aws)

        errors: list[str] = []

        async def read(stream: asyncio.StreamReader | None, into: list[str]) -> None:
            assert stream is not None
            async for line in stream:
                into.append(line.decode())

        readers = [
            asyncio.create_task(read(proc.stdout, served.out)),
            asyncio.create_task(read(proc.stderr, errors)),
        ]
        try:
            async with aiohttp.ClientSession() as session:
                for _ in range(200):
                    with contextlib.suppress(aiohttp.ClientError):
                        async with session.get(f"{base}/healthz") as resp:
                            if resp.status == 200:
                                break
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError("lambda-why serve never answered /healthz")
            yield served
        finally:
            await served.slack.close()
            if proc.returncode is None:
                proc.terminate()
            await asyncio.wait_for(proc.wait(), timeout=30)
            await asyncio.gather(*readers)
            stderr = "".join(errors)
            assert proc.returncode == 0, stderr[-3000:]
            assert "Traceback" not in stderr, stderr[-3000:]


def _all_text(message: Posted | dict[str, Any]) -> str:
    blocks = message.blocks if isinstance(message, Posted) else message.get("blocks") or []
    text = message.text if isinstance(message, Posted) else message.get("text") or ""
    return text + "\n" + "\n".join(texts(blocks))


async def finished_parent(
    api: StrictSlack, channel: str, *, within: float = 90, thread_ts: str | None = None
) -> Posted:
    """The bot's parent message once it carries the buttons."""

    def done() -> Posted | None:
        for message in api.bot_messages(channel):
            if message.thread_ts != thread_ts:
                continue
            if any(b["type"] == "actions" for b in message.blocks) and message.edits:
                return message
        return None

    return await api.until(done, within=within, what=f"a finished parent in {channel}")


# ------------------------------------------------------------------ the tests


async def test_requests_slack_did_not_sign_are_refused(aws: Aws, tmp_path: Path) -> None:
    async with serve(aws, tmp_path) as s:
        body = s.slack.command_body(aws.arn("orders"))
        wrong = await s.slack.send(body, "application/x-www-form-urlencoded", secret="nope")
        stale = await s.slack.send(
            body, "application/x-www-form-urlencoded", stamp=int(time.time()) - 600
        )
        unsigned_headers = {"Content-Type": "application/x-www-form-urlencoded"}
        async with (
            aiohttp.ClientSession() as session,
            session.post(s.slack.url, data=body, headers=unsigned_headers) as resp,
        ):
            unsigned = resp.status
        assert (wrong.status, stale.status, unsigned) == (401, 401, 401)
        await s.api.quiet(1.5)
        assert [c.method for c in s.api.calls if c.method != "auth.test"] == []
        assert not s.api.responses
        # url_verification (signed, as Slack sends it when the request URL is saved)
        challenge = uuid.uuid4().hex
        answer = await s.slack.send(
            json.dumps({"token": "x", "challenge": challenge, "type": "url_verification"}),
            "application/json",
        )
        assert answer.status == 200
        assert challenge in answer.body
    assert not [a for a in s.audit() if a.get("event") == "request"]


async def test_help_bad_input_and_refusals_are_ephemeral(aws: Aws, tmp_path: Path) -> None:
    async with serve(aws, tmp_path) as s:
        help_reply = await s.slack.command("help")
        assert help_reply.status == 200
        body = help_reply.json()
        assert body["response_type"] == "ephemeral"
        assert "/lambda-why" in _all_text(body)
        answers = {}
        for text in (
            "what is this?!",
            "arn:aws:s3:::bucket",
            "arn:aws:lambda:us-east-1:999999999999:function:elsewhere",
            "explain",
        ):
            reply = await s.slack.command(text)
            assert reply.status == 200, text
            answers[text] = reply.json()
            assert answers[text]["response_type"] == "ephemeral", text
        # what was wrong, and how to call it
        assert "/lambda-why" in _all_text(answers["what is this?!"])
        assert "999999999999" in _all_text(
            answers["arn:aws:lambda:us-east-1:999999999999:function:elsewhere"]
        )
        await s.api.quiet(1.5)
        assert not s.api.to("chat.postMessage"), "bad input must queue nothing"
        assert s.api.refusals == []


async def test_command_posts_a_parent_and_threaded_findings(aws: Aws, tmp_path: Path) -> None:
    async with serve(aws, tmp_path) as s:
        reply = await s.slack.command(aws.arn("orders"))
        assert reply.status == 200
        assert reply.json()["response_type"] == "ephemeral"
        parent = await finished_parent(s.api, CHANNEL)
        labels = [
            e["text"]["text"]
            for b in parent.blocks
            if b["type"] == "actions"
            for e in b["elements"]
        ]
        assert [
            any(word in label for label in labels) for word in ("Rerun", "Escalate", "Export")
        ] == [True, True, True]
        thread = s.api.thread(CHANNEL, parent.ts)
        assert thread, "findings go in the parent's thread"
        assert "ec2:CreateNetworkInterface" in "\n".join(_all_text(m) for m in thread)
        assert s.api.refusals == []
        # the token never appears in anything posted
        assert TOKEN not in json.dumps([c.params for c in s.api.calls])
        # a bare name works: with no config file, the bot's own account
        await s.slack.command("orders", channel="C0SECOND")
        second = await finished_parent(s.api, "C0SECOND")
        assert aws.arn("orders") in _all_text(second)
    requests = [a for a in s.audit() if a.get("event") == "request"]
    assert len(requests) == 2


async def test_mentions_answer_in_their_thread_and_retries_run_once(
    aws: Aws, tmp_path: Path
) -> None:
    async with serve(aws, tmp_path) as s:
        # an incident thread started by a person; the mention is a reply in it
        root = s.api.person_says(CHANNEL, "orders is failing since 02:10", user="U0BOB")
        console = (
            f"<https://{REGION}.console.aws.amazon.com/lambda/home?region={REGION}"
            f"#/functions/orders?tab=configure|orders in the console>"
        )
        event_id = "Ev0MENTION01"
        first, _ = await s.slack.mention(
            f"why is this denied? {console}", thread_ts=root.ts, event_id=event_id
        )
        assert first.status == 200
        parent = await finished_parent(s.api, CHANNEL, thread_ts=root.ts)
        assert aws.arn("orders") in _all_text(parent)
        replies = s.api.thread(CHANNEL, root.ts)
        assert "ec2:CreateNetworkInterface" in "\n".join(_all_text(m) for m in replies)
        # Slack retries the same event: acknowledged, never run again
        posts = len(s.api.to("chat.postMessage"))
        for attempt in ("1", "2"):
            retry = s.api.person_says(CHANNEL, "ignored", user="U0BOB", thread_ts=root.ts)
            again = await s.slack.send(
                s.slack.event_body(
                    {
                        "type": "app_mention",
                        "user": ALICE,
                        "channel": CHANNEL,
                        "text": f"<@{BOT_USER}> {console}",
                        "ts": retry.ts,
                        "thread_ts": root.ts,
                        "event_ts": retry.ts,
                    },
                    event_id,
                ),
                "application/json",
                headers={"X-Slack-Retry-Num": attempt, "X-Slack-Retry-Reason": "http_timeout"},
            )
            assert again.status == 200
        await s.api.quiet(2)
        assert len(s.api.to("chat.postMessage")) == posts
        # a top-level mention with a plain ARN starts a thread under the mention itself
        _, said = await s.slack.mention(f"please check {aws.arn('orders')} thanks")
        top = await finished_parent(s.api, CHANNEL, thread_ts=said.ts)
        assert top.thread_ts == said.ts
        # a mention naming nothing gets an ephemeral answer in its thread, nothing posted
        posts = len(s.api.to("chat.postMessage"))
        _, _vague = await s.slack.mention("hello there", thread_ts=root.ts)
        note = await s.api.until(
            lambda: [e for e in s.api.ephemerals if e.thread_ts == root.ts], what="ephemeral"
        )
        assert note[0].user == ALICE
        await s.api.quiet(1)
        assert len(s.api.to("chat.postMessage")) == posts
        assert s.api.refusals == []


async def test_buttons_rerun_escalate_export(aws: Aws, tmp_path: Path) -> None:
    async with serve(aws, tmp_path, ESCALATION_CHANNEL=ESCALATE) as s:
        await s.slack.command(aws.arn("orders"))
        parent = await finished_parent(s.api, CHANNEL)
        first_replies = len(s.api.thread(CHANNEL, parent.ts))
        # Rerun: the new result in the same thread, saying what changed
        rerun = await s.slack.click(parent, "Rerun")
        assert rerun.status == 200
        await s.api.until(
            lambda: any(
                "Rerun" in _all_text(m) or "rerun" in _all_text(m).lower()
                for m in s.api.thread(CHANNEL, parent.ts)[first_replies:]
            ),
            what="rerun result",
        )
        await s.api.quiet(1.5)
        assert len([m for m in s.api.bot_messages(CHANNEL) if m.thread_ts is None]) == 1
        # Escalate: a modal, then a post in the escalation channel linking the thread
        parent = s.api.find(CHANNEL, parent.ts) or parent
        escalate = await s.slack.click(parent, "Escalate")
        assert escalate.status == 200
        view = (await s.api.until(lambda: s.api.views, what="views.open"))[0]
        values: dict[str, Any] = {}
        for block in view["blocks"]:
            if block["type"] != "input":
                continue
            element = block["element"]
            if element["type"] == "radio_buttons":
                state = {"type": "radio_buttons", "selected_option": element["options"][1]}
            else:
                state = {"type": element["type"], "value": f"answer for {block['block_id']}"}
            values[block["block_id"]] = {element["action_id"]: state}
        submitted = await s.slack.submit(view, values)
        assert submitted.status == 200
        post = await s.api.until(lambda: s.api.bot_messages(ESCALATE), what="escalation")
        assert f"p{parent.ts.replace('.', '')}" in _all_text(post[0])
        # Export: the bundle uploaded into the thread
        export = await s.slack.click(parent, "Export")
        assert export.status == 200
        shared = await s.api.until(s.api.shared_files, what="bundle upload")
        bundle = shared[0]
        assert (bundle.channel, bundle.thread_ts) == (CHANNEL, parent.ts)
        assert bundle.filename.endswith(".zip")
        assert bundle.content is not None
        with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
            names = set(archive.namelist())
            assert {"summary.txt", "findings.json", "logs.txt", "snapshot.json"} <= names
            findings = json.loads(archive.read("findings.json"))
            summary = archive.read("summary.txt").decode()
            everything = b"".join(archive.read(n) for n in names)
        assert findings["function"] == aws.arn("orders")
        assert "answer for impact" in summary or "answer for impact" in everything.decode()
        assert TOKEN.encode() not in everything
        assert SECRET.encode() not in everything
        assert s.api.refusals == []


async def test_a_japanese_user_is_answered_in_japanese(aws: Aws, tmp_path: Path) -> None:
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    async with serve(aws, tmp_path, locales={HANAKO: "ja-JP"}) as s:
        ack = await s.slack.command(aws.arn("orders"), user=HANAKO)
        assert japanese.search(_all_text(ack.json())), ack.body
        bad = await s.slack.command("???", user=HANAKO)
        assert japanese.search(_all_text(bad.json()))
        parent = await finished_parent(s.api, CHANNEL)
        assert japanese.search(_all_text(parent))
        for reply in s.api.thread(CHANNEL, parent.ts):
            assert japanese.search(_all_text(reply)), _all_text(reply)[:300]
        info = s.api.to("users.info")
        assert info
        assert all(str(c.params.get("include_locale")).lower() in ("true", "1") for c in info)
        assert s.api.refusals == []


async def test_a_large_report_fits_slack_and_loses_nothing(aws: Aws, tmp_path: Path) -> None:
    async with serve(aws, tmp_path) as s:
        await s.slack.command(aws.arn("noisy"))
        parent = await finished_parent(s.api, CHANNEL, within=120)
        assert s.api.refusals == []
        thread = "\n".join(_all_text(m) for m in s.api.thread(CHANNEL, parent.ts))
        missing = [n for n in range(40) if f"table/ledger-{n:02d}" not in thread]
        assert missing == []
        await s.slack.click(parent, "Export")
        shared = await s.api.until(s.api.shared_files, what="bundle upload")
        assert shared[0].content is not None
        with zipfile.ZipFile(io.BytesIO(shared[0].content)) as archive:
            findings = json.loads(archive.read("findings.json"))
        fails = [f for f in findings["findings"] if f["status"] == "fail"]
        assert len(fails) >= 40
        # one finding whose evidence is longer than a message: continued, not cut
        await s.slack.command(aws.arn("fenced"), channel="C0SECOND")
        fenced = await finished_parent(s.api, "C0SECOND")
        replies = s.api.thread("C0SECOND", fenced.ts)
        evidence = "\n".join(_all_text(m) for m in replies)
        assert "OnlyApprovedRegions" in evidence
        assert [n for n in range(450) if f"xx-approved-{n:03d}" not in evidence] == []
        assert any("(continued 2/" in _all_text(m) for m in replies)
        assert s.api.refusals == []


def _said_to(s: Served, user: str = ALICE) -> str:
    """Everything the user was told privately: response_url posts and ephemerals."""
    told = [_all_text(r) for r in s.api.responses]
    told += [
        _all_text({"text": e.text, "blocks": e.blocks}) for e in s.api.ephemerals if e.user == user
    ]
    return "\n".join(told)


async def test_a_channel_the_bot_is_not_in_is_explained_to_the_user(
    aws: Aws, tmp_path: Path
) -> None:
    async with serve(aws, tmp_path) as s:
        reply = await s.slack.command(aws.arn("orders"), channel=OUTSIDE)
        assert reply.status == 200
        told = await s.api.until(
            lambda: "not_in_channel" in _said_to(s) and _said_to(s), what="the user told"
        )
        assert "/invite" in told
        await s.api.quiet(1)
        assert not s.api.bot_messages(OUTSIDE)
        # a private channel the bot was never invited to: Slack says channel_not_found
        await s.slack.command(aws.arn("orders"), channel="G0PRIVATE")
        await s.api.until(lambda: "channel_not_found" in _said_to(s), what="the user told")
        assert not s.api.bot_messages("G0PRIVATE")
    finished = [a for a in s.audit() if a.get("event") == "job_finished"]
    assert [a["outcome"] for a in finished] == ["cannot_post", "cannot_post"]


async def test_rate_limits_are_waited_out(aws: Aws, tmp_path: Path) -> None:
    async with serve(aws, tmp_path) as s:
        # the parent, then a burst of thread replies hit Slack's per-channel limit
        s.api.ratelimit("chat.postMessage", times=1, retry_after=1)
        s.api.fail(
            "chat.postMessage",
            "ratelimited",
            status=429,
            retry_after=1,
            times=2,
            when=lambda p: bool(p.get("thread_ts")),
        )
        s.api.ratelimit("chat.update", times=1, retry_after=1)
        await s.slack.command(aws.arn("orders"))
        parent = await finished_parent(s.api, CHANNEL)
        thread = "\n".join(_all_text(m) for m in s.api.thread(CHANNEL, parent.ts))
        assert "ec2:CreateNetworkInterface" in thread
        limited = [c for c in s.api.calls if c.status == 429]
        assert len(limited) == 4
        assert s.api.refusals == []


async def test_a_refused_reply_is_never_silently_lost(aws: Aws, tmp_path: Path) -> None:
    async with serve(aws, tmp_path) as s:
        # Slack refuses the first finding's blocks (e.g. a limit we did not foresee)
        s.api.fail("chat.postMessage", "invalid_blocks", when=lambda p: bool(p.get("thread_ts")))
        await s.slack.command(aws.arn("orders"))
        parent = await finished_parent(s.api, CHANNEL)
        thread = "\n".join(_all_text(m) for m in s.api.thread(CHANNEL, parent.ts))
        # the finding still reaches the thread, and the failure is said, not swallowed
        assert "ec2:CreateNetworkInterface" in thread
        assert "invalid_blocks" in thread + _all_text(parent) + _said_to(s)


async def test_web_api_errors_on_buttons_reach_the_user(aws: Aws, tmp_path: Path) -> None:
    async with serve(aws, tmp_path, ESCALATION_CHANNEL=OUTSIDE) as s:
        await s.slack.command(aws.arn("orders"))
        parent = await finished_parent(s.api, CHANNEL)
        # Export: Slack refuses the upload
        s.api.fail("files.completeUploadExternal", "not_in_channel")
        await s.slack.click(parent, "Export")
        await s.api.until(lambda: "not_in_channel" in _said_to(s), what="export failure told")
        # Escalate: the trigger expired (more than 3 s, or used twice)
        s.api.fail("views.open", "expired_trigger_id")
        await s.slack.click(parent, "Escalate")
        await s.api.until(lambda: "expired_trigger_id" in _said_to(s), what="modal failure told")
        # again; the escalation channel is one the bot was not invited to
        await s.slack.click(parent, "Escalate")
        view = (await s.api.until(lambda: s.api.views, what="views.open"))[0]
        await s.slack.submit(view, {})
        await s.api.until(
            lambda: any(
                "not_in_channel" in _all_text(m) and OUTSIDE in _all_text(m)
                for m in s.api.thread(CHANNEL, parent.ts)
            ),
            what="escalation failure in the thread",
        )
        # the parent was deleted: Rerun still answers in the thread
        s.api.fail("chat.update", "message_not_found", times=5)
        replies = len(s.api.thread(CHANNEL, parent.ts))
        await s.slack.click(parent, "Rerun")
        await s.api.until(
            lambda: len(s.api.thread(CHANNEL, parent.ts)) > replies + 1, what="rerun replies"
        )
        await s.api.quiet(1.5)
        everything = "\n".join(_all_text(m) for m in s.api.thread(CHANNEL, parent.ts))
        assert "message_not_found" in everything + _said_to(s)


async def test_explain_shortcut_and_unsubscribed_events(aws: Aws, tmp_path: Path) -> None:
    async with serve(aws, tmp_path) as s:
        denied = (
            f"An error occurred (AccessDeniedException) when calling the PutItem operation: "
            f"User: arn:aws:sts::{ACCOUNT}:assumed-role/noisy-exec/noisy is not authorized to "
            f"perform: dynamodb:PutItem on resource: arn:aws:dynamodb:{REGION}:{ACCOUNT}:"
            f"table/ledger-07 because no identity-based policy allows the dynamodb:PutItem action"
        )
        ack = await s.slack.command(f"explain {denied}")
        assert ack.json()["response_type"] == "ephemeral"
        answer = await s.api.until(
            lambda: [m for m in s.api.bot_messages(CHANNEL) if "dynamodb:PutItem" in _all_text(m)],
            what="the explanation",
        )
        assert answer[0].thread_ts is None
        # the message shortcut on an alarm someone forwarded: answered in its thread
        alarm = s.api.person_says(
            "C0SECOND",
            "ALARM: orders-errors in US East (N. Virginia)",
            user="U0CHATBOT",
        )
        payload = {
            "type": "message_action",
            "callback_id": "diagnose_message",
            "team": {"id": TEAM, "domain": "strict"},
            "user": {"id": ALICE, "username": "alice", "team_id": TEAM},
            "channel": {"id": "C0SECOND", "name": "alarms"},
            "message": {
                "type": "message",
                "user": "U0CHATBOT",
                "ts": alarm.ts,
                "text": alarm.text,
                "attachments": [
                    {
                        "fallback": "CloudWatch alarm",
                        "title": "orders-errors",
                        "text": (
                            f"Alarm arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:orders-errors "
                            "changed to ALARM. Dimensions: FunctionName = orders"
                        ),
                    }
                ],
            },
            "message_ts": alarm.ts,
            "trigger_id": f"{time.time():.0f}.1.s",
            "response_url": s.api.response_url(),
            "token": "verification-token-unused",
        }
        shortcut = await s.slack.send(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )
        assert shortcut.status == 200
        parent = await finished_parent(s.api, "C0SECOND", thread_ts=alarm.ts)
        assert aws.arn("orders") in _all_text(parent)
        # an event type the manifest does not subscribe to: 200, and nothing happens
        calls = len(s.api.calls)
        other = await s.slack.send(
            s.slack.event_body(
                {
                    "type": "message",
                    "user": ALICE,
                    "channel": CHANNEL,
                    "text": "hi",
                    "ts": s.api.person_says(CHANNEL, "hi", user=ALICE).ts,
                }
            ),
            "application/json",
        )
        assert other.status == 200
        await s.api.quiet(1)
        assert len(s.api.calls) == calls
        assert s.api.refusals == []


async def test_a_slow_users_info_does_not_delay_the_ack(aws: Aws, tmp_path: Path) -> None:
    async with serve(aws, tmp_path) as s:
        s.api.ratelimit("users.info", times=3, retry_after=20)
        started = time.monotonic()
        reply = await s.slack.command("help", user="U0SLOWLOCALE")
        assert reply.status == 200
        assert time.monotonic() - started < 2.5, "Slack gives up on an ack after 3 s"
        assert "/lambda-why" in _all_text(reply.json())


async def test_the_configuration_file_decides_accounts_and_channels(
    aws: Aws, tmp_path: Path
) -> None:
    config = tmp_path / "lambda-why.toml"
    config.write_text(
        f'[accounts."{ACCOUNT}"]\nchannels = ["{CHANNEL}"]\n\n'
        '[accounts."222222222222"]\nchannels = ["C0OTHERTEAM"]\n'
    )
    async with serve(aws, tmp_path, LAMBDA_WHY_CONFIG=str(config)) as s:
        elsewhere = await s.slack.command(aws.arn("orders"), channel="C0SECOND")
        assert ACCOUNT in _all_text(elsewhere.json())
        unknown = await s.slack.command(
            "arn:aws:lambda:us-east-1:999999999999:function:x", channel=CHANNEL
        )
        assert "999999999999" in _all_text(unknown.json())
        await s.api.quiet(1)
        assert not s.api.to("chat.postMessage")
        # a bare name in a channel mapped to exactly one account
        await s.slack.command("orders", channel=CHANNEL)
        parent = await finished_parent(s.api, CHANNEL)
        assert aws.arn("orders") in _all_text(parent)
        assert s.api.refusals == []


async def test_with_redis_the_worker_answers(aws: Aws, tmp_path: Path, redis_url: str) -> None:
    async with serve(aws, tmp_path, REDIS_URL=redis_url) as s:
        reply = await s.slack.command(aws.arn("orders"))
        assert reply.json()["response_type"] == "ephemeral"
        await s.api.quiet(1)
        assert not s.api.to("chat.postMessage"), "with REDIS_URL, serve only queues"
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_API_URL": s.api.api_url,
            "REDIS_URL": redis_url,
            "AWS_ENDPOINT_URL": aws.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "worker",
            "--burst",
            cwd=str(tmp_path),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _out, err = await asyncio.wait_for(worker.communicate(), timeout=120)
        assert worker.returncode == 0, err.decode()[-2000:]
        parent = await finished_parent(s.api, CHANNEL, within=10)
        thread = "\n".join(_all_text(m) for m in s.api.thread(CHANNEL, parent.ts))
        assert "ec2:CreateNetworkInterface" in thread
        assert s.api.refusals == []
