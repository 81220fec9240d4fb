"""A VPC-attached function's execution role can manage its network interfaces.

Required (Lambda refuses to create or update the function without them, and Hyperplane ENIs
cannot be created): `ec2:CreateNetworkInterface`, `ec2:DescribeNetworkInterfaces` (only
works on `"Resource": "*"`), `ec2:DeleteNetworkInterface`. Also in
AWSLambdaVPCAccessExecutionRole and recommended: `ec2:DescribeSubnets`,
`ec2:AssignPrivateIpAddresses`, `ec2:UnassignPrivateIpAddresses` (warnings).
https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
A function without VPC configuration yields no finding.
"""

from __future__ import annotations

from bot.checks.common import Ask, ask_role, checked_role
from bot.checks.fixes import MANAGED
from bot.checks.outcome import Wording, role_finding
from bot.report import Finding, Severity
from bot.snapshot import Snapshot

ID = "vpc-eni"

REQUIRED = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
)
RECOMMENDED = (
    "ec2:DescribeSubnets",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


def run(snapshot: Snapshot) -> list[Finding]:
    vpc = snapshot.function.vpc
    if vpc is None or not vpc.subnet_ids:
        return []
    rp = checked_role(snapshot)
    if rp is None:
        return []
    ec2 = f"arn:{snapshot.partition}:ec2:{snapshot.region}:{snapshot.account}"
    eni = f"{ec2}:network-interface/*"
    subnets = [f"{ec2}:subnet/{s}" for s in vpc.subnet_ids]
    groups = [f"{ec2}:security-group/{g}" for g in vpc.security_group_ids]
    # the VPC EC2 reports for the subnets (DescribeSubnets) wins over the function's
    # VpcConfig.VpcId, which an emulator may fill with a placeholder
    vpc_ids = {s.vpc_id for s in (snapshot.network.subnets if snapshot.network else []) if s.vpc_id}
    vpc_id = next(iter(vpc_ids)) if len(vpc_ids) == 1 else vpc.vpc_id
    region_key: dict[str, str | list[str]] = {"ec2:Region": snapshot.region}
    context: dict[str, str | list[str]] = dict(region_key)
    if vpc_id:
        context["ec2:Vpc"] = f"{ec2}:vpc/{vpc_id}"
    asks: list[Ask] = []
    # CreateNetworkInterface is authorized on the new interface, each subnet and each
    # group, each with its own condition keys (Service Authorization Reference): the new
    # interface has none of the VPC's; a subnet has ec2:SubnetID and ec2:Vpc; a security
    # group ec2:SecurityGroupID and ec2:Vpc
    asks.append(ask_role(snapshot, rp, "ec2:CreateNetworkInterface", eni, context=region_key))
    for resource in subnets:
        extra = {**context, "ec2:SubnetID": resource.rsplit("/", 1)[-1]}
        asks.append(ask_role(snapshot, rp, "ec2:CreateNetworkInterface", resource, context=extra))
    for resource in groups:
        extra = {**context, "ec2:SecurityGroupID": resource.rsplit("/", 1)[-1]}
        asks.append(ask_role(snapshot, rp, "ec2:CreateNetworkInterface", resource, context=extra))
    asks.append(ask_role(snapshot, rp, "ec2:DescribeNetworkInterfaces", "*", context=region_key))
    asks.append(ask_role(snapshot, rp, "ec2:DeleteNetworkInterface", eni, context=context))
    asks.append(ask_role(snapshot, rp, "ec2:DescribeSubnets", "*", required=False))
    for action in ("ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"):
        asks.append(ask_role(snapshot, rp, action, eni, context=context, required=False))
    wording = Wording(
        fail="Execution role cannot manage VPC network interfaces",
        ok="Execution role can manage VPC network interfaces",
        unknown="Could not decide whether the function can manage its VPC network interfaces",
        warn="Execution role lacks recommended VPC permissions",
        purpose="create and remove the function's network interfaces",
        context=(
            f"The function is attached to subnets {', '.join(vpc.subnet_ids)}"
            + (f" in {vpc.vpc_id}" if vpc.vpc_id else "")
            + "; Lambda creates its network interfaces with the execution role."
        ),
    )
    return [
        role_finding(
            snapshot,
            rp,
            ID,
            asks,
            wording,
            severity=Severity.HIGH,
            sid="LambdaWhyVpcEni",
            managed=MANAGED["vpc"],
        )
    ]
