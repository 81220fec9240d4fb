"""Shared helpers for the deploy tests: load the CloudFormation templates as plain data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TEMPLATES = sorted((DEPLOY / "cloudformation").glob("*.yaml"))


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation short-form tags (!Ref, !GetAtt, ...)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)
    assert isinstance(data, dict)
    return data


def role_resource(template: dict[str, Any]) -> dict[str, Any]:
    """The template's single AWS::IAM::Role resource (its Properties)."""
    roles = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) == 1
    properties = roles[0]["Properties"]
    assert isinstance(properties, dict)
    return properties


@pytest.fixture(scope="session")
def readonly_template() -> dict[str, Any]:
    return load_template(DEPLOY / "cloudformation" / "readonly-role.yaml")


@pytest.fixture(scope="session")
def org_reader_template() -> dict[str, Any]:
    return load_template(DEPLOY / "cloudformation" / "org-reader-role.yaml")


PSEUDO = {"AWS::Partition": "aws", "AWS::AccountId": "111111111111", "AWS::Region": "us-east-1"}


_NO_VALUE = object()


def resolve(
    node: Any, parameters: dict[str, str], conditions: dict[str, bool] | None = None
) -> Any:
    """Replace the intrinsics the templates' policies use (`Ref`, `Fn::Sub`, `Fn::If` with
    `AWS::NoValue`) with values; `conditions` decides each `Fn::If`."""
    values = {**PSEUDO, **parameters}
    decided = conditions or {}

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            if set(item) == {"Ref"}:
                return _NO_VALUE if item["Ref"] == "AWS::NoValue" else values[item["Ref"]]
            if set(item) == {"Fn::Sub"} and isinstance(item["Fn::Sub"], str):
                text = item["Fn::Sub"]
                for key, value in values.items():
                    text = text.replace("${" + key + "}", value)
                assert "${" not in text, f"unresolved substitution in {item}"
                return text
            if set(item) == {"Fn::If"}:
                condition, when_true, when_false = item["Fn::If"]
                return walk(when_true if decided[condition] else when_false)
            assert not any(k.startswith("Fn::") for k in item), f"unexpected intrinsic {item}"
            out = {k: walk(v) for k, v in item.items()}
            return {k: v for k, v in out.items() if v is not _NO_VALUE}
        if isinstance(item, list):
            return [v for v in (walk(v) for v in item) if v is not _NO_VALUE]
        return item

    return walk(node)


def role_policies(
    template: dict[str, Any],
    parameters: dict[str, str],
    conditions: dict[str, bool] | None = None,
) -> list[dict[str, Any]]:
    """The role's inline permission policies, resolved."""
    props = role_resource(template)
    return [resolve(p["PolicyDocument"], parameters, conditions) for p in props.get("Policies", [])]


def granted_actions(
    template: dict[str, Any],
    parameters: dict[str, str] | None = None,
    conditions: dict[str, bool] | None = None,
) -> set[str]:
    """Every action the role's permission policies allow."""
    actions: set[str] = set()
    for policy in role_policies(template, parameters or {}, conditions):
        for statement in policy["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            value = statement["Action"]
            actions.update([value] if isinstance(value, str) else value)
    return actions
