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


def resolve(node: Any, parameters: dict[str, str]) -> Any:
    """Replace `Ref` and `Fn::Sub` (the only intrinsics the policies use) with values."""
    values = {**PSEUDO, **parameters}
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            return values[node["Ref"]]
        if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
            text = node["Fn::Sub"]
            for key, value in values.items():
                text = text.replace("${" + key + "}", value)
            assert "${" not in text, f"unresolved substitution in {node}"
            return text
        assert not any(k.startswith("Fn::") for k in node), f"unexpected intrinsic {node}"
        return {k: resolve(v, parameters) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, parameters) for v in node]
    return node


def role_policies(template: dict[str, Any], parameters: dict[str, str]) -> list[dict[str, Any]]:
    """The role's inline permission policies, resolved."""
    props = role_resource(template)
    return [resolve(p["PolicyDocument"], parameters) for p in props.get("Policies", [])]


def granted_actions(template: dict[str, Any]) -> set[str]:
    """Every action the role's permission policies allow (as written)."""
    actions: set[str] = set()
    for policy in role_policies(template, {}):
        for statement in policy["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            value = statement["Action"]
            actions.update([value] if isinstance(value, str) else value)
    return actions
