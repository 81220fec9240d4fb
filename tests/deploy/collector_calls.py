"""Static scan: every AWS operation the code under `bot/aws` can send.

lambda-why reaches AWS in three ways, all visible in the source:

- `reader.call("lambda", "GetPolicy", ...)`, `reader.pages("iam", "ListRolePolicies", ...)`:
  a botocore service name and an operation name as string literals;
- `access.call(client, "GetFunction")` / `access.paginate(client, "ListX", ...)`: an
  operation literal, the client made in the same function (`.client("lambda", ...)`);
- an operation name handed to a helper (`_read(reader, "DescribeSubnets", ...)`,
  `pages("ListRoots", "Roots")`) in a module that uses AWS: a literal that is an
  operation of exactly one service that module (or function) names;
- a botocore method used directly (`client.lookup_events`): an attribute of something
  named like a client that is an operation of a service the code names.

Each site resolves to one `<signing name>:<Operation>`, the name `CallRecorder` records.
A site that cannot be resolved to exactly one service is reported, never guessed.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import botocore.session
from botocore import xform_name

from tests.deploy.iam_actions import signing_name

OPERATION_METHODS = frozenset({"call", "pages", "paginate"})


@cache
def _available() -> frozenset[str]:
    return frozenset(botocore.session.get_session().get_available_services())


@cache
def _operations(service: str) -> frozenset[str]:
    return frozenset(botocore.session.get_session().get_service_model(service).operation_names)


@cache
def _methods(service: str) -> dict[str, str]:
    """botocore client method name -> operation name."""
    return {xform_name(op): op for op in _operations(service)}


@dataclass
class ScanResult:
    #: `signing:Operation` -> "file:line" sites
    operations: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    #: sites that name an operation but whose service could not be told
    unresolved: list[str] = field(default_factory=list)


def _str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


#: IAM prefix -> botocore services signed with it, where the names differ
SIGNED_AS = {
    "elasticfilesystem": ("efs",),
    "dynamodb": ("dynamodb", "dynamodbstreams"),
    "apigateway": ("apigateway", "apigatewayv2"),
}


def _service_of(text: str) -> str | None:
    """A botocore service named by a literal: `"lambda"`, or `"cloudtrail:LookupEvents"`."""
    if text in _available():
        return text
    prefix, sep, operation = text.partition(":")
    if sep and operation[:1].isupper():
        for service in SIGNED_AS.get(prefix, (prefix,)):
            if service in _available() and operation in _operations(service):
                return service
    return None


def _services_in(node: ast.AST) -> set[str]:
    return {
        service
        for n in ast.walk(node)
        if (s := _str(n)) is not None and (service := _service_of(s)) is not None
    }


def _scopes(tree: ast.Module) -> dict[ast.AST, ast.AST]:
    """Every node -> its innermost enclosing function (or the module)."""
    owner: dict[ast.AST, ast.AST] = {}

    def visit(node: ast.AST, scope: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else scope
            owner[child] = scope
            visit(child, inner)

    visit(tree, tree)
    return owner


_OPERATION_NAME = re.compile(r"^[A-Z][a-z]+(?:[A-Z0-9][a-z0-9]*)+$")


def _uses_aws(path: Path, tree: ast.Module) -> bool:
    """A module of `bot/aws`, or one importing from it: its bare operation names count."""
    if "aws" in path.parts:
        return True
    return any(
        isinstance(n, ast.ImportFrom) and (n.module or "").startswith("bot.aws")
        for n in ast.walk(tree)
    )


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and _str(body[0].value) is not None:
                found.add(id(body[0].value))
    return found


def _is_client(node: ast.expr) -> bool:
    """Whether an attribute's receiver looks like a botocore client (`client`, `self._client`)."""
    return "client" in ast.unparse(node).lower()


def scan(root: Path, *, exclude: Collection[Path] = ()) -> ScanResult:
    """Every AWS operation sent from the Python files under `root` (minus `exclude`)."""
    files = sorted(p for p in root.rglob("*.py") if not any(p.is_relative_to(e) for e in exclude))
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in files}
    named = set().union(*(_services_in(t) for t in trees.values()))
    result = ScanResult()

    def resolve(op_or_method: str, candidates: set[str], *, method: bool) -> list[str]:
        names = _methods if method else _operations
        return [service for service in sorted(candidates) if op_or_method in names(service)]

    for path, tree in trees.items():
        owner = _scopes(tree)
        module_services = _services_in(tree)
        uses_aws = _uses_aws(path, tree)
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            site = f"{path.relative_to(root.parent)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                args = node.args
                first = _str(args[0]) if args else None
                second = _str(args[1]) if len(args) > 1 else None
                if first in _available() and second and second in _operations(first):
                    result.operations[f"{signing_name(first)}:{second}"].append(site)
                    continue
                if node.func.attr in OPERATION_METHODS and second and second[:1].isupper():
                    scope = owner.get(node, tree)
                    for candidates in (_services_in(scope), module_services, named):
                        services = resolve(second, candidates, method=False)
                        if len(services) == 1:
                            result.operations[f"{signing_name(services[0])}:{second}"].append(site)
                            break
                    else:
                        result.unresolved.append(f"{site}: {second}")
            elif (
                uses_aws
                and (text := _str(node)) is not None
                and _OPERATION_NAME.match(text)
                and id(node) not in docstrings
            ):
                # an operation name handed to a local helper: `_read(reader, "DescribeSubnets")`
                scope = owner.get(node, tree)
                for candidates in (_services_in(scope), module_services):
                    services = resolve(text, candidates, method=False)
                    if len(services) == 1:
                        result.operations[f"{signing_name(services[0])}:{text}"].append(site)
                        break
            elif isinstance(node, ast.Attribute) and _is_client(node.value):
                scope = owner.get(node, tree)
                for candidates in (_services_in(scope), module_services, named):
                    services = resolve(node.attr, candidates, method=True)
                    if len(services) == 1:
                        op = _methods(services[0])[node.attr]
                        result.operations[f"{signing_name(services[0])}:{op}"].append(site)
                        break
                    if len(services) > 1:
                        result.unresolved.append(f"{site}: {node.attr}")
                        break
    return result
