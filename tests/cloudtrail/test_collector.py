"""The LookupEvents collector: recorded responses, botocore's Stubber, the fake endpoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from bot.aws.cloudtrail import (
    OPERATION,
    Lookup,
    cloudtrail_client_config,
    collect_cloudtrail,
    lookup_events,
    parse_lookup_event,
    plan_lookups,
)
from bot.snapshot import REDACTED
from tests.cloudtrail import records as r
from tests.cloudtrail.conftest import FUNCTION, NOW, POLICY_ARN, ROLE, ROLE_ARN, make_snapshot
from tests.cloudtrail.fake_cloudtrail import FakeCloudTrail, lookup_event

FIXTURES = Path(__file__).parent / "fixtures"
START = NOW - timedelta(hours=24)


async def no_sleep(_: float) -> None:
    return None


def stubbed_client() -> tuple[Any, Stubber]:
    client = boto3.client(
        "cloudtrail",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        endpoint_url="http://127.0.0.1:9",
        config=cloudtrail_client_config(),
    )
    return client, Stubber(client)


def parsed_page(path: str) -> dict[str, Any]:
    """A recorded LookupEvents response, with EventTime as boto3 returns it (datetime)."""
    page = json.loads((FIXTURES / path).read_text())
    for event in page["Events"]:
        event["EventTime"] = datetime.fromtimestamp(event["EventTime"], UTC)
    return page


def expected(value: str, token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": value}],
        "StartTime": START,
        "EndTime": NOW,
        "MaxResults": 50,
    }
    if token:
        params["NextToken"] = token
    return params


def test_recorded_response_parses_into_events() -> None:
    page = parsed_page("lookup_events_orders.json")
    events = [parse_lookup_event(item) for item in page["Events"]]
    assert all(e is not None for e in events)
    by_name = {e.name: e for e in events if e}
    remove = by_name["RemovePermission20150331v2"]
    assert remove.actor == "arn:aws:sts::111111111111:assumed-role/deployer/alice"
    assert remove.source_ip == "203.0.113.5"
    assert remove.request_parameters == {
        "functionName": "orders",
        "statementId": "s3-orders-upload",
    }
    assert remove.time == datetime(2026, 11, 28, 1, 12, 9, tzinfo=UTC)
    assert "orders" in remove.resources
    eni = by_name["CreateNetworkInterface"]
    assert eni.error_code == "Client.UnauthorizedOperation"
    assert "ec2:CreateNetworkInterface" in (eni.error_message or "")
    assert eni.raw["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] == ROLE_ARN


def test_environment_values_are_redacted() -> None:
    rec = r.update_function_configuration(
        FUNCTION,
        time=NOW,
        environment={"variables": {"DB_PASSWORD": "hunter2", "TABLE": "orders"}},
    )
    event = parse_lookup_event(lookup_event(rec))
    assert event is not None
    assert event.request_parameters is not None
    assert event.request_parameters["environment"]["variables"] == {
        "DB_PASSWORD": REDACTED,
        "TABLE": REDACTED,
    }
    assert "hunter2" not in json.dumps(event.raw)


def test_plan_covers_function_role_policies_sessions_and_keys() -> None:
    snapshot = make_snapshot(region="eu-west-1", vpc=True, kms=True)
    labels = {lookup.label for lookup in plan_lookups(snapshot)}
    arn = snapshot.function.arn
    assert f"ResourceName={FUNCTION}@eu-west-1" in labels
    assert f"ResourceName={arn}@eu-west-1" in labels
    assert f"Username={FUNCTION}@eu-west-1" in labels
    assert "EventName=CreateNetworkInterface@eu-west-1" in labels
    # IAM is global: its events are in us-east-1's event history
    assert f"ResourceName={ROLE}@us-east-1" in labels
    assert f"ResourceName={ROLE}@eu-west-1" in labels
    assert f"ResourceName={POLICY_ARN}@us-east-1" in labels
    # AWS managed policies are not looked up
    assert not any(":iam::aws:policy/" in label for label in labels)
    assert any(label.startswith("ResourceName=arn:aws:kms:") for label in labels)


async def test_stubber_pagination_follows_next_token() -> None:
    client, stub = stubbed_client()
    page = parsed_page("lookup_events_orders.json")
    first = {"Events": page["Events"][:2], "NextToken": "page-2"}
    second = {"Events": page["Events"][2:]}
    stub.add_response("lookup_events", first, expected(FUNCTION))
    stub.add_response("lookup_events", second, expected(FUNCTION, "page-2"))
    with stub:
        result = await lookup_events(
            lambda _: client, [Lookup("ResourceName", FUNCTION, "us-east-1")], START, NOW
        )
    stub.assert_no_pending_responses()
    assert result.gaps == []
    assert len(result.events) == len(page["Events"]) - 1  # the read-only success is dropped
    assert [e.time for e in result.events] == sorted((e.time for e in result.events), reverse=True)


async def test_stubber_page_limit_gives_a_truncation_gap() -> None:
    client, stub = stubbed_client()
    page = parsed_page("lookup_events_orders.json")
    stub.add_response("lookup_events", {"Events": page["Events"][:1], "NextToken": "t"})
    with stub:
        result = await lookup_events(
            lambda _: client,
            [Lookup("ResourceName", FUNCTION, "us-east-1")],
            START,
            NOW,
            max_pages=1,
        )
    assert len(result.events) == 1
    assert len(result.gaps) == 1
    assert result.gaps[0].error.startswith("Truncated after 1 pages")


async def test_stubber_throttling_then_success() -> None:
    client, stub = stubbed_client()
    page = parsed_page("lookup_events_orders.json")
    stub.add_client_error(
        "lookup_events", service_error_code="ThrottlingException", service_message="Rate exceeded"
    )
    stub.add_client_error(
        "lookup_events", service_error_code="ThrottlingException", service_message="Rate exceeded"
    )
    stub.add_response("lookup_events", {"Events": page["Events"]}, expected(FUNCTION))
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    with stub:
        result = await lookup_events(
            lambda _: client,
            [Lookup("ResourceName", FUNCTION, "us-east-1")],
            START,
            NOW,
            sleep=sleep,
        )
    stub.assert_no_pending_responses()
    assert result.gaps == []
    assert result.events
    assert len(slept) == 2
    assert slept[1] > slept[0]  # exponential backoff


async def test_stubber_throttled_beyond_retries_is_a_gap() -> None:
    client, stub = stubbed_client()
    for _ in range(3):
        stub.add_client_error("lookup_events", service_error_code="ThrottlingException")
    with stub:
        result = await lookup_events(
            lambda _: client,
            [Lookup("ResourceName", FUNCTION, "us-east-1")],
            START,
            NOW,
            throttle_retries=2,
            sleep=no_sleep,
        )
    assert result.events == []
    assert [g.error.split(":")[0] for g in result.gaps] == ["ThrottlingException"]


async def test_stubber_access_denied_is_a_gap_and_skips_the_region() -> None:
    client, stub = stubbed_client()
    stub.add_client_error(
        "lookup_events",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:sts::111111111111:assumed-role/LambdaWhyReadOnly/x is "
        "not authorized to perform: cloudtrail:LookupEvents",
        http_status_code=400,
    )
    with stub:
        result = await lookup_events(
            lambda _: client,
            [
                Lookup("ResourceName", FUNCTION, "us-east-1"),
                Lookup("ResourceName", ROLE, "us-east-1"),
            ],
            START,
            NOW,
        )
    stub.assert_no_pending_responses()  # the second lookup was not sent
    assert result.events == []
    [gap] = result.gaps
    assert gap.operation == OPERATION == "cloudtrail:LookupEvents"
    assert gap.resource == f"ResourceName={FUNCTION}@us-east-1"
    assert gap.error.startswith("AccessDeniedException: User:")
    assert gap.error.endswith("(the other 1 lookups in us-east-1 were skipped)")


async def test_stubber_later_failure_keeps_the_other_events() -> None:
    client, stub = stubbed_client()
    page = parsed_page("lookup_events_orders.json")
    stub.add_response("lookup_events", {"Events": page["Events"]})
    stub.add_client_error(
        "lookup_events", service_error_code="InternalFailure", http_status_code=400
    )
    with stub:
        result = await lookup_events(
            lambda _: client,
            [
                Lookup("ResourceName", FUNCTION, "us-east-1"),
                Lookup("ResourceName", ROLE, "us-east-1"),
            ],
            START,
            NOW,
        )
    assert [g.resource for g in result.gaps] == [f"ResourceName={ROLE}@us-east-1"]
    assert result.events


async def test_in_process_moto_without_lookup_events_is_a_gap() -> None:
    from moto import mock_aws

    with mock_aws():
        client = boto3.client(
            "cloudtrail",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        snapshot = make_snapshot()
        await collect_cloudtrail(snapshot, lambda _: client)
    assert snapshot.cloudtrail == []
    [gap] = snapshot.gaps
    assert gap.error.startswith("NotImplementedError")


# -- the fake endpoint, reached through AWS_ENDPOINT_URL_CLOUDTRAIL --------------------------


def env_client_factory(monkeypatch: pytest.MonkeyPatch, url: str) -> Any:
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", url)
    # the service-specific variable wins over the global one (botocore configprovider)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    def factory(region: str) -> Any:
        return boto3.session.Session().client(
            "cloudtrail", region_name=region, config=cloudtrail_client_config()
        )

    return factory


def scenario_records() -> list[dict[str, Any]]:
    return [
        r.add_permission(
            FUNCTION,
            "s3-orders-upload",
            principal="s3.amazonaws.com",
            source_arn="arn:aws:s3:::orders-upload",
            time=NOW - timedelta(hours=20),
            region="eu-west-1",
        ),
        r.remove_permission(
            FUNCTION, "s3-orders-upload", time=NOW - timedelta(hours=2), region="eu-west-1"
        ),
        r.detach_role_policy(ROLE, POLICY_ARN, time=NOW - timedelta(hours=1)),
        # another function's change: never read
        r.remove_permission("billing", "sns", time=NOW - timedelta(hours=1), region="eu-west-1"),
        # older than the window
        r.remove_permission(FUNCTION, "old", time=NOW - timedelta(days=3), region="eu-west-1"),
        r.code_denied(
            ROLE,
            FUNCTION,
            action="secretsmanager:GetSecretValue",
            resource="arn:aws:secretsmanager:eu-west-1:111111111111:secret:prod/db-AbCdEf",
            params={"secretId": "prod/db"},
            time=NOW - timedelta(minutes=30),
            region="eu-west-1",
        ),
        r.eni_denied(
            ROLE, FUNCTION, "subnet-0abc", time=NOW - timedelta(minutes=50), region="eu-west-1"
        ),
        # a session of another role that happens to call CreateNetworkInterface
        r.record(
            "CreateNetworkInterface",
            "ec2.amazonaws.com",
            time=NOW - timedelta(minutes=40),
            region="eu-west-1",
            identity=r.assumed_role("other-role", "awslambda_1_2"),
            params={"subnetId": "subnet-9"},
        ),
    ]


async def test_collect_against_fake_endpoint(
    fake_cloudtrail: FakeCloudTrail, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_cloudtrail.records = scenario_records()
    factory = env_client_factory(monkeypatch, fake_cloudtrail.url)
    snapshot = make_snapshot(region="eu-west-1", vpc=True)
    await collect_cloudtrail(snapshot, factory, sleep=no_sleep)
    assert snapshot.gaps == []
    assert snapshot.cloudtrail is not None
    names = sorted(e.name for e in snapshot.cloudtrail)
    assert names == sorted(
        [
            "AddPermission20150331v2",
            "RemovePermission20150331v2",
            "DetachRolePolicy",
            "GetSecretValue",
            "CreateNetworkInterface",
        ]
    )
    regions = {call["region"] for call in fake_cloudtrail.calls}
    assert regions == {"eu-west-1", "us-east-1"}
    filtered = [c for c in fake_cloudtrail.calls if "LookupAttributes" in c["body"]]
    for call in filtered:
        assert len(call["body"]["LookupAttributes"]) == 1
    # one sweep of recent events per region, last
    sweeps = [c for c in fake_cloudtrail.calls if "LookupAttributes" not in c["body"]]
    assert sorted(c["region"] for c in sweeps) == ["eu-west-1", "us-east-1"]
    iam_calls = [c for c in filtered if c["region"] == "us-east-1"]
    assert {c["body"]["LookupAttributes"][0]["AttributeValue"] for c in iam_calls} == {
        ROLE,
        POLICY_ARN,
    }


async def test_fake_endpoint_paginates(
    fake_cloudtrail: FakeCloudTrail, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_cloudtrail.records = [
        r.remove_permission(FUNCTION, f"sid-{i}", time=NOW - timedelta(minutes=i))
        for i in range(120)
    ]
    factory = env_client_factory(monkeypatch, fake_cloudtrail.url)
    result = await lookup_events(
        factory, [Lookup("ResourceName", FUNCTION, "us-east-1")], START, NOW
    )
    assert len(result.events) == 120
    assert len(fake_cloudtrail.calls) == 3
    assert result.gaps == []


async def test_fake_endpoint_throttling_then_success(
    fake_cloudtrail: FakeCloudTrail, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_cloudtrail.records = scenario_records()
    fake_cloudtrail.throttle_first = 2  # retried by botocore's adaptive retry mode
    factory = env_client_factory(monkeypatch, fake_cloudtrail.url)
    result = await lookup_events(
        factory, [Lookup("ResourceName", FUNCTION, "eu-west-1")], START, NOW, sleep=no_sleep
    )
    assert result.gaps == []
    assert {e.name for e in result.events} == {
        "AddPermission20150331v2",
        "RemovePermission20150331v2",
    }


async def test_fake_endpoint_access_denied_keeps_a_list(
    fake_cloudtrail: FakeCloudTrail, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_cloudtrail.deny = True
    factory = env_client_factory(monkeypatch, fake_cloudtrail.url)
    snapshot = make_snapshot()
    await collect_cloudtrail(snapshot, factory, sleep=no_sleep)
    assert snapshot.cloudtrail == []
    assert snapshot.gaps
    assert all(g.operation == "cloudtrail:LookupEvents" for g in snapshot.gaps)
    assert all(g.error.startswith("AccessDeniedException") for g in snapshot.gaps)


async def test_unreachable_endpoint_is_a_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    factory = env_client_factory(monkeypatch, "http://127.0.0.1:9")

    def quick(region: str) -> Any:
        from botocore.config import Config

        return boto3.session.Session().client(
            "cloudtrail",
            region_name=region,
            config=Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=1),
        )

    del factory
    result = await lookup_events(quick, [Lookup("ResourceName", FUNCTION, "us-east-1")], START, NOW)
    assert result.events == []
    assert len(result.gaps) == 1
    assert "Could not connect" in result.gaps[0].error


async def test_sweep_finds_events_the_indexed_lookups_miss(
    fake_cloudtrail: FakeCloudTrail, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_cloudtrail.records = [
        *scenario_records(),
        r.record(
            "CreateBucket",
            "s3.amazonaws.com",
            time=NOW - timedelta(minutes=5),
            region="eu-west-1",
            identity=r.assumed_role("deployer", "alice"),
            params={"bucketName": "unrelated"},
        ),
    ]
    fake_cloudtrail.indexed = False  # ResourceName lookups find nothing
    factory = env_client_factory(monkeypatch, fake_cloudtrail.url)
    snapshot = make_snapshot(region="eu-west-1", vpc=True)
    await collect_cloudtrail(snapshot, factory, sleep=no_sleep)
    assert snapshot.gaps == []
    names = {e.name for e in snapshot.cloudtrail or []}
    assert "RemovePermission20150331v2" in names
    assert "DetachRolePolicy" in names
    assert "CreateBucket" not in names  # swept, but it does not bear on the function


async def test_sweep_refused_is_not_a_gap(
    fake_cloudtrail: FakeCloudTrail, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_cloudtrail.records = scenario_records()
    fake_cloudtrail.reject_unfiltered = True
    factory = env_client_factory(monkeypatch, fake_cloudtrail.url)
    snapshot = make_snapshot(region="eu-west-1")
    await collect_cloudtrail(snapshot, factory, sleep=no_sleep)
    assert snapshot.gaps == []
    assert "RemovePermission20150331v2" in {e.name for e in snapshot.cloudtrail or []}


def test_parse_odd_entries() -> None:
    # not JSON: the lookup's own fields are used
    event = parse_lookup_event(
        {
            "EventId": "e-1",
            "EventName": "DeleteRole",
            "EventSource": "iam.amazonaws.com",
            "EventTime": NOW,
            "ReadOnly": "false",
            "CloudTrailEvent": "{not json",
            "Resources": [{"ResourceType": "AWS::IAM::Role", "ResourceName": ROLE}],
        }
    )
    assert event is not None
    assert (event.name, event.source, event.resources) == (
        "DeleteRole",
        "iam.amazonaws.com",
        [ROLE],
    )
    assert event.raw == {"readOnly": False}
    # odd field types are kept as text, never a crash
    odd = r.record("DeleteRole", "iam.amazonaws.com", time=NOW, identity=r.iam_user("carol"))
    odd["userIdentity"] = "carol"
    odd["sourceIPAddress"] = {"ip": "203.0.113.9"}
    event = parse_lookup_event({"EventId": "e-3", "CloudTrailEvent": json.dumps(odd)})
    assert event is not None
    assert event.actor is None
    assert event.source_ip == '{"ip": "203.0.113.9"}'
    # no id or no time: skipped
    assert parse_lookup_event({"EventName": "X"}) is None
    assert parse_lookup_event({"EventId": "e-2", "EventName": "X"}) is None


async def test_html_error_page_is_text_in_the_gap() -> None:
    client, stub = stubbed_client()
    stub.add_client_error(
        "lookup_events",
        service_error_code="500",
        service_message="<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>"
        "\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>\n",
        http_status_code=500,
    )
    with stub:
        result = await lookup_events(
            lambda _: client, [Lookup("ResourceName", FUNCTION, "us-east-1")], START, NOW
        )
    [gap] = result.gaps
    assert gap.error == (
        "500: 500 Internal Server Error Internal Server Error The server encountered an "
        "internal error."
    )
