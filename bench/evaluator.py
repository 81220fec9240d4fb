"""Benchmark the policy evaluator: evaluations per second over fixed request mixes.

    .venv/bin/python bench/evaluator.py [--rounds N]

Mixes (each >= 1,000 requests, built from a fixed seed):
- simple: identity policies without conditions (target >= 50,000 evaluations/s/core);
- realistic: identity + boundary + bucket/key policies + two SCP levels, with String,
  Ip, Bool, Arn, Date and Null conditions, same- and cross-account callers, services;
- pmapper: the IAM-principal part of the realistic mix, run through lambda-why and, when
  the optional `principalmapper` package is importable, through PMapper's
  `local_check_authorization_full` in the same run, printed as a ratio.

Requests and policies are parsed before timing; only evaluate() is timed, by this
process's CPU time (`--wall` for wall-clock time). Each mix is timed three ways, by how
the evaluator's memo tables (`bot.iam.memo`, on by default) stand: warm (filled by an
earlier pass over the same requests, as in a long run), cold (emptied before the pass, so
only request shapes repeated within the mix reuse work) and off (every request matched
from scratch). Figures only, nothing is asserted.
"""

from __future__ import annotations

import argparse
import copy
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.iam import PolicySet, Request, evaluate, parse_policy, set_memoisation

A = "111111111111"
B = "222222222222"
REGIONS = ["us-east-1", "eu-west-1", "ap-south-1"]
TABLES = [f"arn:aws:dynamodb:us-east-1:{A}:table/{n}" for n in ("orders", "users", "audit")]
BUCKETS = ["reports", "uploads", "secret"]


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


SIMPLE_IDENTITY = [
    _policy(
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        },
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLES[0]},
    ),
    _policy(
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": "arn:aws:s3:::reports/*",
        },
        {
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": f"arn:aws:sqs:us-east-1:{A}:jobs",
        },
    ),
]
APP = _policy(
    {
        "Sid": "Logs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": "*",
    },
    {
        "Sid": "Tables",
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
        "Resource": [*TABLES, *(t + "/index/*" for t in TABLES)],
        "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
    },
    {
        "Sid": "Reports",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*", "arn:aws:s3:::uploads/*"],
    },
    {
        "Sid": "Office",
        "Effect": "Allow",
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::uploads/*",
        "Condition": {
            "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]},
            "Bool": {"aws:SecureTransport": "true"},
        },
    },
    {
        "Sid": "Keys",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
        "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
    },
    {
        "Sid": "NoSecret",
        "Effect": "Deny",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::secret", "arn:aws:s3:::secret/*"],
    },
    {
        "Sid": "NoTagEdits",
        "Effect": "Deny",
        "Action": ["dynamodb:TagResource", "dynamodb:UntagResource"],
        "Resource": "*",
        "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "owner"]}},
    },
)
BOUNDARY = _policy(
    {
        "Effect": "Allow",
        "Action": ["logs:*", "dynamodb:*", "s3:*", "kms:*", "sqs:*"],
        "Resource": "*",
    },
    {"Effect": "Deny", "Action": "iam:*", "Resource": "*"},
)
BUCKET_POLICY = _policy(
    {
        "Sid": "OrgRead",
        "Effect": "Allow",
        "Principal": {"AWS": [B, f"arn:aws:iam::{A}:root"]},
        "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"],
    },
    {
        "Sid": "TLSOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    },
    {
        "Sid": "Logs",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::reports/logs/*",
        "Condition": {
            "ArnLike": {"aws:SourceArn": "arn:aws:s3:::uploads"},
            "StringEquals": {"aws:SourceAccount": A},
        },
    },
)
SCP_ROOT = _policy({"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"})
SCP_OU = _policy(
    {"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"},
    {
        "Sid": "Regions",
        "Effect": "Deny",
        "NotAction": ["iam:*", "sts:*", "organizations:*"],
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
    },
    {
        "Sid": "Until",
        "Effect": "Deny",
        "Action": "s3:DeleteBucket",
        "Resource": "*",
        "Condition": {
            "DateLessThan": {"aws:CurrentTime": "2000-01-01T00:00:00Z"},
            "Null": {"aws:PrincipalTag/breakglass": "true"},
        },
    },
)
ACTIONS = [
    ("dynamodb:GetItem", lambda r: r.choice(TABLES)),
    ("dynamodb:PutItem", lambda r: r.choice(TABLES)),
    ("dynamodb:DeleteItem", lambda r: r.choice(TABLES)),
    ("dynamodb:TagResource", lambda r: r.choice(TABLES)),
    ("s3:GetObject", lambda r: f"arn:aws:s3:::{r.choice(BUCKETS)}/k/{r.randint(1, 99)}.csv"),
    ("s3:PutObject", lambda r: f"arn:aws:s3:::{r.choice(BUCKETS)}/k/{r.randint(1, 99)}.csv"),
    ("s3:ListBucket", lambda r: f"arn:aws:s3:::{r.choice(BUCKETS)}"),
    ("logs:PutLogEvents", lambda r: f"arn:aws:logs:us-east-1:{A}:log-group:/aws/lambda/f:*"),
    ("kms:Decrypt", lambda r: "*"),
    ("sqs:SendMessage", lambda r: f"arn:aws:sqs:us-east-1:{A}:jobs"),
    ("iam:PassRole", lambda r: f"arn:aws:iam::{A}:role/app"),
]


@dataclass
class Item:
    request: Request
    policies: PolicySet
    pmapper: tuple[Any, ...] | None = (
        None  # (role arn, identity docs, boundary doc, resource doc, owner)
    )


def _context(rng: random.Random) -> dict[str, str | list[str]]:
    ctx: dict[str, str | list[str]] = {
        "aws:SecureTransport": rng.choice(["true", "true", "false"]),
        "aws:SourceIp": rng.choice(["203.0.113.9", "198.51.100.4", "2001:db8::7"]),
        "aws:RequestedRegion": rng.choice(REGIONS),
        "aws:PrincipalTag/team": rng.choice(["pay", "ops"]),
        "aws:ResourceTag/team": rng.choice(["pay", "ops"]),
    }
    if rng.random() < 0.3:
        ctx["aws:TagKeys"] = rng.sample(["team", "env", "owner", "cost"], 2)
    if rng.random() < 0.3:
        ctx["kms:ViaService"] = rng.choice(
            ["s3.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com"]
        )
    return ctx


def build_simple(n: int, seed: int = 7) -> list[Item]:
    rng = random.Random(seed)
    policies = PolicySet(
        identity=[parse_policy(p, f"identity[{i}]") for i, p in enumerate(SIMPLE_IDENTITY)]
    )
    items = []
    for _ in range(n):
        action, resource = rng.choice(ACTIONS)
        principal = f"arn:aws:sts::{A}:assumed-role/app/s{rng.randint(1, 5)}"
        items.append(
            Item(Request(principal=principal, action=action, resource=resource(rng)), policies)
        )
    return items


def build_realistic(n: int, seed: int = 11) -> list[Item]:
    rng = random.Random(seed)
    app = parse_policy(APP, "app")
    boundary = parse_policy(BOUNDARY, "boundary")
    bucket = parse_policy(BUCKET_POLICY, "bucket")
    scp = [[parse_policy(SCP_ROOT, "scp-root")], [parse_policy(SCP_OU, "scp-ou")]]
    items = []
    for i in range(n):
        action, resource_of = rng.choice(ACTIONS)
        resource = resource_of(rng)
        roll = rng.random()
        cross = roll < 0.2
        account = B if cross else A
        role = rng.choice(["app", "etl", "ci"])
        use_role_arn = i % 2 == 0
        principal = (
            f"arn:aws:iam::{account}:role/{role}"
            if use_role_arn
            else f"arn:aws:sts::{account}:assumed-role/{role}/s{rng.randint(1, 9)}"
        )
        with_boundary = rng.random() < 0.4
        resource_policy = bucket if resource.startswith("arn:aws:s3:::") else None
        if roll > 0.93:
            principal = rng.choice(["logging.s3.amazonaws.com", "lambda.amazonaws.com"])
        policies = PolicySet(
            identity=[app],
            boundary=boundary if with_boundary else None,
            resource=resource_policy,
            scp=scp,
        )
        request = Request(
            principal=principal,
            action=action,
            resource=resource,
            resource_account=A,
            context=_context(rng),
        )
        pm = None
        if use_role_arn and roll <= 0.93:
            pm = (
                principal,
                [APP],
                BOUNDARY if with_boundary else None,
                BUCKET_POLICY if resource_policy else None,
                A,
            )
        items.append(Item(request, policies, pm))
    return items


#: the clock figures are taken with: this process's CPU time (one core's work, not the
#: time other processes on a shared machine hold the core) or, with --wall, wall time
CLOCK = {"now": time.process_time}


def measure(fn: Callable[[], int], rounds: int) -> float:
    """Best evaluations/second over `rounds` runs of fn (which returns its count)."""
    now = CLOCK["now"]
    best = 0.0
    for _ in range(rounds):
        start = now()
        count = fn()
        elapsed = now() - start
        best = max(best, count / elapsed)
    return best


def run_ours(items: list[Item]) -> Callable[[], int]:
    def go() -> int:
        for item in items:
            evaluate(item.request, item.policies)
        return len(items)

    return go


def run_pmapper(items: list[Item]) -> Callable[[], int] | None:
    # PMapper 1.1.5 imports Mapping/MutableMapping from `collections` (removed in Python
    # 3.10); alias them so it can be imported for the comparison.
    import collections
    import collections.abc

    for name in ("Mapping", "MutableMapping"):
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))
    try:
        from principalmapper.common import Node
        from principalmapper.common import Policy as PMPolicy
        from principalmapper.querying.query_interface import local_check_authorization_full
    except ImportError:
        return None
    logging.getLogger("principalmapper").setLevel(logging.WARNING)
    scps = [
        [PMPolicy("arn:aws:organizations::1:policy/root", "root", SCP_ROOT)],
        [PMPolicy("arn:aws:organizations::1:policy/ou", "ou", SCP_OU)],
    ]
    prepared = []
    for item in items:
        if item.pmapper is None:
            continue
        arn, identity, boundary, resource_policy, owner = item.pmapper
        node = Node(
            arn,
            "AROAEXAMPLE",
            [PMPolicy(arn, f"p{i}", copy.deepcopy(d)) for i, d in enumerate(identity)],
            None,
            {"Version": "2012-10-17", "Statement": []},
            None,
            0,
            False,
            False,
            PMPolicy(arn, "boundary", boundary) if boundary else None,
            False,
            None,
        )
        context = dict(item.request.context)
        prepared.append(
            (node, item.request.action, item.request.resource, context, resource_policy, owner)
        )

    def go() -> int:
        for node, action, resource, context, resource_policy, owner in prepared:
            local_check_authorization_full(
                node,
                action,
                resource,
                context,
                resource_policy,
                owner if resource_policy else None,
                scps,
                None,
            )
        return len(prepared)

    return go


#: how the evaluator's memo tables stand while a pass is timed
MODES = (
    # on, and filled by an untimed pass over the same requests (a long run's steady state)
    ("memo warm", True, True),
    # on, emptied before the pass: only request shapes repeated within the mix hit
    ("memo cold", True, False),
    # off: every request matched from scratch
    ("memo off", False, False),
)


def timed_pass(fn: Callable[[], int], on: bool, warm: bool) -> float:
    """Evaluations/second of one pass of fn with the memo tables as the mode says."""
    set_memoisation(on)  # (also empties them)
    if warm:
        fn()
    try:
        return measure(fn, 1)
    finally:
        set_memoisation(True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--wall", action="store_true", help="time by wall clock, not CPU time")
    args = parser.parse_args()
    if args.wall:
        CLOCK["now"] = time.perf_counter
    simple = build_simple(args.requests)
    realistic = build_realistic(args.requests)
    iam_only = [item for item in realistic if item.pmapper is not None]
    labels = ", ".join(label for label, _, _ in MODES)
    print(f"evaluations/s, best of {args.rounds} passes ({labels}):")
    for name, items in (("simple", simple), ("realistic", realistic)):
        go = run_ours(items)
        rates = [max(timed_pass(go, on, warm) for _ in range(args.rounds)) for _, on, warm in MODES]
        figures = " ".join(f"{rate:10,.0f}" for rate in rates)
        print(f"{name + ' mix':15s} {len(items):5d} requests: {figures}")
    ours_fn = run_ours(iam_only)
    pmapper = run_pmapper(iam_only)
    best = dict.fromkeys([label for label, _, _ in MODES] + ["PMapper"], 0.0)
    # interleave lambda-why and PMapper so that load from other processes hits all alike
    for _ in range(args.rounds):
        for label, on, warm in MODES:
            best[label] = max(best[label], timed_pass(ours_fn, on, warm))
        if pmapper is not None:
            best["PMapper"] = max(best["PMapper"], measure(pmapper, 1))
    figures = " ".join(f"{best[label]:10,.0f}" for label, _, _ in MODES)
    print(f"{'pmapper mix':15s} {len(iam_only):5d} requests: {figures}")
    if pmapper is None:
        print("principalmapper is not installed: `pip install principalmapper` to compare")
        return
    theirs = best["PMapper"]
    print(
        f"{'PMapper':15s} {len(iam_only):5d} requests: {theirs:10,.0f} "
        "(local_check_authorization_full, same requests and policies)"
    )
    ratios = ", ".join(f"{best[label] / theirs:.1f}x {label}" for label, _, _ in MODES)
    print(f"ratio: lambda-why is {ratios} PMapper")


if __name__ == "__main__":
    main()
