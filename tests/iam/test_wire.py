"""bot.iam.wire: the CONTRACTS §1 JSON form of requests and policy sets."""

from __future__ import annotations

from typing import Any

import pytest

from bot.iam import PolicyError
from bot.iam.wire import WireError, policy_set_from_json, request_from_json

REQ = {"principal": "arn:aws:iam::111111111111:user/a", "action": "s3:GetObject", "resource": "*"}
POL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def test_request_context_values_are_normalised() -> None:
    request = request_from_json(
        {**REQ, "context": {"a": True, "b": 5, "c": ["x", 1, False], "d": None, "e": "s"}}
    )
    assert request.context == {"a": "true", "b": "5", "c": ["x", "1", "false"], "e": "s"}


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ([], "must be an object"),
        ({**REQ, "principal": ""}, "request.principal"),
        ({k: v for k, v in REQ.items() if k != "action"}, "request.action"),
        ({**REQ, "colour": "red"}, "unknown field 'colour'"),
        ({**REQ, "resource_account": 5}, "resource_account"),
        ({**REQ, "context": []}, "request.context"),
        ({**REQ, "context": {"k": {"x": 1}}}, "context key 'k'"),
        ({**REQ, "context": {"k": [["x"]]}}, "nested lists"),
    ],
)
def test_bad_requests(raw: Any, fragment: str) -> None:
    with pytest.raises(WireError, match=fragment):
        request_from_json(raw)


def test_policy_set_labels_and_levels() -> None:
    policies = policy_set_from_json(
        {
            "identity": [POL, POL],
            "resource": {**POL, "Statement": [{**POL["Statement"][0], "Principal": "*"}]},
            "boundary": POL,
            "session": None,
            "scp": [[POL], [POL, POL]],
            "rcp": None,
        }
    )
    assert [p.label for p in policies.identity] == ["identity[0]", "identity[1]"]
    assert policies.resource is not None
    assert policies.resource.label == "resource"
    assert policies.session is None
    assert policies.scp is not None
    assert [[p.label for p in level] for level in policies.scp] == [
        ["scp[0][0]"],
        ["scp[1][0]", "scp[1][1]"],
    ]
    assert policies.rcp is None
    assert policy_set_from_json(None).identity == []
    assert len(policy_set_from_json({"identity": POL}).identity) == 1


def test_policy_documents_as_json_text() -> None:
    import json

    policies = policy_set_from_json({"identity": [json.dumps(POL)]})
    assert len(policies.identity[0].statements) == 1


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("x", '"policies" must be an object'),
        ({"boundaries": POL}, "unknown policy type 'boundaries'"),
        ({"identity": 5}, "policies.identity"),
        ({"scp": [POL]}, r"policies.scp\[0\] must be a list of policies"),
        ({"scp": POL}, "policies.scp must be a list"),
        ({"resource": [POL]}, "resource: a policy must be a JSON object"),
        ({"identity": [{**POL, "Statement": [{"Effect": "Allow", "Action": "*"}]}]}, "Resource"),
        ({"resource": POL}, "Principal"),
    ],
)
def test_bad_policy_sets(raw: Any, fragment: str) -> None:
    with pytest.raises((WireError, PolicyError), match=fragment):
        policy_set_from_json(raw)
