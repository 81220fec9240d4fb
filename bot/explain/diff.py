"""Compare a failing function with a working one (pure; `lambda-why diff`).

Four kinds of difference, the ones that can explain the failure first:

1. `check`: a check that fails (or is unknown) for the failing function but passes for the
   working one;
2. `permission`: what each execution role may do — the actions the checks care about,
   evaluated on each function's own resources (its log group, queues, streams, keys,
   destinations, network interfaces), and every action named in either role's policies
   (allowed on any resource those policies name) — through the same evaluator as `check`
   (identity policies, boundary, SCPs/RCPs when read);
3. `resource-policy`: principals (and source ARNs) the function's resource policy lets in;
4. `feature`: configuration (VPC, KMS key, event sources, destinations, tracing, layers,
   runtime, architectures, package type, file systems, function URLs, logging).

A difference `explains` the failure when the failing side lacks something the working
side has (a denial only the failing role gets, a principal only the working policy
admits, a feature only the failing function uses that needs permissions).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from bot.checks import run_checks
from bot.checks.common import ask_role, role_policies, statements_of
from bot.report import Status
from bot.snapshot import Snapshot

Category = Literal["check", "permission", "resource-policy", "feature"]


class Difference(BaseModel):
    category: Category
    item: str
    failing: str
    working: str
    #: True when this difference plausibly explains why the failing function fails
    explains: bool = False
    note: str = ""


class FunctionDiff(BaseModel):
    failing: str
    working: str
    differences: list[Difference] = Field(default_factory=list)
    #: what could not be compared (unreadable roles, SCPs not evaluated, ...)
    notes: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- permissions


def required_actions(snapshot: Snapshot) -> dict[str, list[str]]:
    """Actions the checks care about → the function's own resources they apply to."""
    fn = snapshot.function
    p, r, a = snapshot.partition, snapshot.region, snapshot.account
    out: dict[str, list[str]] = {}

    def need(action: str, *resources: str) -> None:
        out.setdefault(action, [])
        for res in resources:
            if res not in out[action]:
                out[action].append(res)

    group = f"arn:{p}:logs:{r}:{a}:log-group:{fn.logging.log_group}"
    need("logs:CreateLogStream", f"{group}:*")
    need("logs:PutLogEvents", f"{group}:log-stream:*")
    eni = f"arn:{p}:ec2:{r}:{a}:network-interface/*"
    need("ec2:CreateNetworkInterface", eni)
    need("ec2:DescribeNetworkInterfaces", "*")
    need("ec2:DeleteNetworkInterface", eni)
    for mapping in snapshot.event_source_mappings:
        arn = mapping.source.arn
        if not arn:
            continue
        kind = mapping.source.type
        if kind == "sqs":
            for act in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
                need(act, arn)
        elif kind in ("kinesis", "dynamodb"):
            for op in ("GetRecords", "GetShardIterator", "DescribeStream"):
                need(f"{kind}:{op}", arn)
        if mapping.source.kms_key_arn:
            need("kms:Decrypt", mapping.source.kms_key_arn)
    if fn.kms_key_arn:
        need("kms:Decrypt", fn.kms_key_arn)
    for target in snapshot.destinations:
        action = {
            "sqs": "sqs:SendMessage",
            "sns": "sns:Publish",
            "lambda": "lambda:InvokeFunction",
            "events": "events:PutEvents",
        }.get(target.service)
        if action:
            need(action, target.arn)
    if fn.tracing_mode == "Active":
        need("xray:PutTraceSegments", "*")
        need("xray:PutTelemetryRecords", "*")
    return out


def policy_actions(snapshot: Snapshot) -> dict[str, list[str]]:
    """Literal (wildcard-free) actions named in the role's policies → literal resources."""
    out: dict[str, list[str]] = {}
    role = snapshot.role
    if role is None:
        return out
    for named in [*role.inline_policies, *role.attached_policies]:
        for stmt in statements_of(named.document):
            actions = stmt.get("Action") or []
            resources = stmt.get("Resource") or ["*"]
            for action in [actions] if isinstance(actions, str) else actions:
                if not isinstance(action, str) or "*" in action or "?" in action:
                    continue
                lst = out.setdefault(action, [])
                for res in [resources] if isinstance(resources, str) else resources:
                    if isinstance(res, str) and res not in lst:
                        lst.append(res)
    return out


def _allowed(snapshot: Snapshot, action: str, resources: Iterable[str]) -> tuple[bool, str]:
    """Whether the role may `action` on any of `resources`; and a short why."""
    rp = role_policies(snapshot)
    if rp.unreadable:
        return False, "role not readable"
    verdicts: list[str] = []
    for resource in resources:
        ask = ask_role(snapshot, rp, action, resource)
        if ask.allowed:
            return True, f"allowed on {resource}"
        how = "explicit deny" if ask.explicit else "not allowed"
        verdicts.append(f"{how} ({', '.join(ask.denied_by) or 'no policy'})")
    return False, verdicts[0] if verdicts else "no resource"


def permission_differences(failing: Snapshot, working: Snapshot) -> list[Difference]:
    out: list[Difference] = []
    req_f, req_w = required_actions(failing), required_actions(working)
    for action in sorted(set(req_f) & set(req_w)):
        ok_f, why_f = _allowed(failing, action, req_f[action])
        ok_w, why_w = _allowed(working, action, req_w[action])
        if ok_f != ok_w:
            out.append(
                Difference(
                    category="permission",
                    item=action,
                    failing=why_f,
                    working=why_w,
                    explains=ok_w and not ok_f and _feature_uses(failing, action),
                    note="on each function's own resources",
                )
            )
    pol_f, pol_w = policy_actions(failing), policy_actions(working)
    seen = {d.item for d in out}
    for action in sorted((set(pol_f) | set(pol_w)) - seen):
        resources = [*pol_f.get(action, []), *pol_w.get(action, [])]
        resources = list(dict.fromkeys(resources)) or ["*"]
        ok_f, why_f = _allowed(failing, action, resources)
        ok_w, why_w = _allowed(working, action, resources)
        if ok_f != ok_w:
            out.append(
                Difference(
                    category="permission",
                    item=action,
                    failing=why_f,
                    working=why_w,
                    explains=ok_w and not ok_f,
                    note="named in the roles' policies",
                )
            )
    return out


def _feature_uses(snapshot: Snapshot, action: str) -> bool:
    """True when the function's configuration needs `action` (so a denial breaks it)."""
    service = action.split(":", 1)[0]
    fn = snapshot.function
    if service == "ec2":
        return fn.vpc is not None and bool(fn.vpc.subnet_ids)
    if service == "xray":
        return fn.tracing_mode == "Active"
    if service == "logs":
        return True
    return True


# --------------------------------------------------------------------------- resource policy


def policy_principals(snapshot: Snapshot) -> dict[str, str]:
    """`principal [from source]` → the actions the function's resource policy allows it."""
    out: dict[str, str] = {}
    for stmt in statements_of(snapshot.resource_policy):
        if stmt.get("Effect") != "Allow":
            continue
        principal = stmt.get("Principal")
        names: list[str] = []
        if isinstance(principal, str):
            names = [principal]
        elif isinstance(principal, dict):
            for value in principal.values():
                names.extend([value] if isinstance(value, str) else list(value))
        source = None
        for block in (stmt.get("Condition") or {}).values():
            if isinstance(block, dict):
                for key, value in block.items():
                    if key.lower() == "aws:sourcearn":
                        source = value if isinstance(value, str) else ",".join(value)
        action = stmt.get("Action")
        action_text = action if isinstance(action, str) else ",".join(action or [])
        for name in names:
            key = f"{name} from {source}" if source else name
            out[key] = action_text
    return out


def resource_policy_differences(failing: Snapshot, working: Snapshot) -> list[Difference]:
    pf, pw = policy_principals(failing), policy_principals(working)
    out: list[Difference] = []
    for key in sorted(set(pf) | set(pw)):
        if key in pf and key in pw:
            continue
        out.append(
            Difference(
                category="resource-policy",
                item=key,
                failing=pf.get(key, "not allowed"),
                working=pw.get(key, "not allowed"),
                explains=key in pw and key not in pf,
            )
        )
    return out


# --------------------------------------------------------------------------- features


def features(snapshot: Snapshot) -> dict[str, str]:
    fn = snapshot.function
    vpc = "no"
    if fn.vpc is not None and fn.vpc.subnet_ids:
        vpc = f"{fn.vpc.vpc_id or 'yes'} ({len(fn.vpc.subnet_ids)} subnets)"
    layers = ", ".join(sorted({layer.account or "?" for layer in fn.layers})) if fn.layers else ""
    return {
        "vpc": vpc,
        "environment KMS key": fn.kms_key_arn or "AWS managed",
        "event sources": ", ".join(
            sorted(f"{m.source.type}" for m in snapshot.event_source_mappings)
        )
        or "none",
        "destinations": ", ".join(sorted(f"{d.kind}:{d.service}" for d in snapshot.destinations))
        or "none",
        "dead-letter queue": "yes" if fn.dead_letter_target else "no",
        "tracing": fn.tracing_mode or "PassThrough",
        "layers": f"{len(fn.layers)} (accounts {layers})" if fn.layers else "none",
        "runtime": fn.runtime or "-",
        "architectures": ", ".join(fn.architectures) or "x86_64",
        "package type": fn.package_type,
        "file systems": str(len(fn.file_systems)) if fn.file_systems else "none",
        "function URL": ", ".join(sorted(u.auth_type for u in snapshot.function_urls)) or "none",
        "log group": "custom" if fn.logging.custom else "default",
        "permissions boundary": (
            snapshot.role.boundary.label
            if snapshot.role is not None and snapshot.role.boundary is not None
            else "none"
        ),
        "cross-account": "yes"
        if any((layer.account and layer.account != snapshot.account) for layer in fn.layers)
        else "no",
    }


#: features that only cause permission failures when the failing function has them
_NEEDS_PERMISSIONS = {
    "vpc": "no",
    "environment KMS key": "AWS managed",
    "event sources": "none",
    "destinations": "none",
    "dead-letter queue": "no",
    "tracing": "PassThrough",
    "layers": "none",
    "file systems": "none",
    "permissions boundary": "none",
    "cross-account": "no",
}


def feature_differences(failing: Snapshot, working: Snapshot) -> list[Difference]:
    ff, fw = features(failing), features(working)
    out: list[Difference] = []
    for key in ff:
        if ff[key] == fw.get(key):
            continue
        plain = _NEEDS_PERMISSIONS.get(key)
        explains = plain is not None and ff[key] != plain and fw.get(key) == plain
        out.append(
            Difference(
                category="feature",
                item=key,
                failing=ff[key],
                working=fw.get(key, "-"),
                explains=explains,
                note="only the failing function uses it" if explains else "",
            )
        )
    return out


# --------------------------------------------------------------------------- checks


def check_differences(failing: Snapshot, working: Snapshot) -> list[Difference]:
    def worst(snapshot: Snapshot) -> dict[str, Status]:
        order = {Status.FAIL: 0, Status.UNKNOWN: 1, Status.WARN: 2, Status.PASS: 3}
        out: dict[str, Status] = {}
        for finding in run_checks(snapshot):
            current = out.get(finding.check)
            if current is None or order[finding.status] < order[current]:
                out[finding.check] = finding.status
        return out

    wf, ww = worst(failing), worst(working)
    out: list[Difference] = []
    for check in sorted(set(wf) | set(ww)):
        sf, sw = wf.get(check), ww.get(check)
        if sf == sw:
            continue
        out.append(
            Difference(
                category="check",
                item=check,
                failing=sf.value if sf else "not applicable",
                working=sw.value if sw else "not applicable",
                explains=sf in (Status.FAIL, Status.UNKNOWN)
                and sw in (Status.PASS, Status.WARN, None),
            )
        )
    return out


# --------------------------------------------------------------------------- all


_ORDER = {"check": 0, "permission": 1, "resource-policy": 2, "feature": 3}


def compare(failing: Snapshot, working: Snapshot) -> FunctionDiff:
    """All differences, those that explain the failure first."""
    diffs = [
        *check_differences(failing, working),
        *permission_differences(failing, working),
        *resource_policy_differences(failing, working),
        *feature_differences(failing, working),
    ]
    diffs.sort(key=lambda d: (not d.explains, _ORDER[d.category], d.item))
    notes: list[str] = []
    for label, snap in (("failing", failing), ("working", working)):
        if snap.organization is None or snap.organization.scp is None:
            notes.append(f"SCPs and RCPs were not evaluated for the {label} function.")
        rp = role_policies(snap)
        if rp.unreadable:
            notes.append(f"The {label} function's role could not be read: {rp.unreadable}.")
    return FunctionDiff(
        failing=failing.function.arn, working=working.function.arn, differences=diffs, notes=notes
    )
