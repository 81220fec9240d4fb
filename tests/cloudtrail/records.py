"""Builders for CloudTrail records shaped like real management events.

Field sets follow the CloudTrail record contents reference
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)
and the Lambda and IAM CloudTrail examples: eventVersion 1.08/1.09, `userIdentity` of type
AssumedRole with `sessionContext.sessionIssuer`, `sourceIPAddress`, `userAgent`,
`requestParameters`, `responseElements`, `errorCode`/`errorMessage`, `readOnly`,
`managementEvent`, `recipientAccountId`, `eventCategory`, `tlsDetails`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

ACCOUNT = "111111111111"
CLI_AGENT = (
    "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6"
)
BOTO_AGENT = (
    "Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/linux#5.10.227 lang/python#3.12.7"
    " exec-env/AWS_Lambda_python3.12"
)


def _id(*parts: str) -> str:
    return str(uuid.UUID(hashlib.md5("|".join(parts).encode()).hexdigest()))


def iso(time: datetime) -> str:
    return time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def assumed_role(
    role: str,
    session: str,
    *,
    account: str = ACCOUNT,
    invoked_by: str | None = None,
    created: datetime | None = None,
) -> dict[str, Any]:
    """userIdentity of an assumed-role session (`type: AssumedRole`)."""
    role_id = "AROA" + hashlib.md5(role.encode()).hexdigest()[:17].upper()
    identity: dict[str, Any] = {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "accountId": account,
        "accessKeyId": "ASIA" + hashlib.md5(session.encode()).hexdigest()[:16].upper(),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{account}:role/{role}",
                "accountId": account,
                "userName": role,
            },
            "attributes": {
                "creationDate": iso(created or datetime(2026, 11, 28, 0, 0, tzinfo=UTC)),
                "mfaAuthenticated": "false",
            },
        },
    }
    if invoked_by:
        identity["invokedBy"] = invoked_by
    return identity


def iam_user(name: str, *, account: str = ACCOUNT) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + hashlib.md5(name.encode()).hexdigest()[:17].upper(),
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "accessKeyId": "AKIA" + hashlib.md5(name.encode()).hexdigest()[:16].upper(),
        "userName": name,
    }


def record(
    name: str,
    source: str,
    *,
    time: datetime,
    identity: dict[str, Any],
    region: str = "us-east-1",
    params: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    read_only: bool = False,
    resources: list[dict[str, str]] | None = None,
    source_ip: str = "203.0.113.5",
    user_agent: str = CLI_AGENT,
    account: str = ACCOUNT,
    version: str = "1.09",
) -> dict[str, Any]:
    """One CloudTrail management event record."""
    rec: dict[str, Any] = {
        "eventVersion": version,
        "userIdentity": identity,
        "eventTime": iso(time),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
    }
    if error_code:
        rec["errorCode"] = error_code
        rec["errorMessage"] = error_message or ""
    rec["requestParameters"] = params
    rec["responseElements"] = response
    rec["requestID"] = _id("req", name, iso(time), source_ip)
    rec["eventID"] = _id("evt", name, iso(time), source_ip, repr(sorted((params or {}).items())))
    rec["readOnly"] = read_only
    if resources:
        rec["resources"] = resources
    rec["eventType"] = "AwsApiCall"
    rec["managementEvent"] = True
    rec["recipientAccountId"] = account
    rec["eventCategory"] = "Management"
    if not source_ip.endswith("amazonaws.com"):
        rec["tlsDetails"] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{source.partition('.')[0]}.{region}.amazonaws.com",
        }
    return rec


# -- the events a broken function leaves behind -----------------------------------------------


def remove_permission(
    function: str,
    sid: str,
    *,
    time: datetime,
    region: str = "us-east-1",
    who: str = "alice",
    account: str = ACCOUNT,
) -> dict[str, Any]:
    return record(
        "RemovePermission20150331v2",
        "lambda.amazonaws.com",
        time=time,
        region=region,
        identity=assumed_role("deployer", who, account=account),
        params={"functionName": function, "statementId": sid},
        account=account,
    )


def add_permission(
    function: str,
    sid: str,
    *,
    principal: str,
    source_arn: str | None,
    time: datetime,
    region: str = "us-east-1",
    who: str = "alice",
    account: str = ACCOUNT,
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "functionName": function,
        "statementId": sid,
        "action": "lambda:InvokeFunction",
        "principal": principal,
    }
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": principal},
        "Action": "lambda:InvokeFunction",
        "Resource": f"arn:aws:lambda:{region}:{account}:function:{function}",
    }
    if source_arn:
        params["sourceArn"] = source_arn
        statement["Condition"] = {"ArnLike": {"AWS:SourceArn": source_arn}}
    return record(
        "AddPermission20150331v2",
        "lambda.amazonaws.com",
        time=time,
        region=region,
        identity=assumed_role("deployer", who, account=account),
        params=params,
        response={"statement": json.dumps(statement)},
        account=account,
    )


def detach_role_policy(
    role: str, policy_arn: str, *, time: datetime, who: str = "bob"
) -> dict[str, Any]:
    return record(
        "DetachRolePolicy",
        "iam.amazonaws.com",
        time=time,
        region="us-east-1",
        identity=assumed_role("admin", who),
        params={"roleName": role, "policyArn": policy_arn},
        source_ip="198.51.100.20",
    )


def update_function_configuration(
    function: str,
    *,
    time: datetime,
    region: str = "us-east-1",
    who: str = "alice",
    **changes: Any,
) -> dict[str, Any]:
    return record(
        "UpdateFunctionConfiguration20150331v2",
        "lambda.amazonaws.com",
        time=time,
        region=region,
        identity=assumed_role("deployer", who),
        params={"functionName": function, **changes},
        response={"functionName": function, **changes},
    )


def eni_denied(
    role: str, function: str, subnet: str, *, time: datetime, region: str = "us-east-1"
) -> dict[str, Any]:
    number = int(hashlib.md5(function.encode()).hexdigest(), 16) % 1000
    session = f"awslambda_{number}_{time.strftime('%Y%m%d%H%M%S')}123"
    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"
    return record(
        "CreateNetworkInterface",
        "ec2.amazonaws.com",
        time=time,
        region=region,
        identity=assumed_role(role, session, invoked_by="lambda.amazonaws.com"),
        params={
            "subnetId": subnet,
            "description": f"AWS Lambda VPC ENI-{function}",
            "groupSet": {"items": [{"groupId": "sg-0123456789abcdef0"}]},
        },
        error_code="Client.UnauthorizedOperation",
        error_message=(
            f"You are not authorized to perform this operation. User: {arn} is not authorized "
            f"to perform: ec2:CreateNetworkInterface on resource: arn:aws:ec2:{region}:{ACCOUNT}:"
            f"subnet/{subnet} because no identity-based policy allows the "
            "ec2:CreateNetworkInterface action. Encoded authorization failure message: "
            "Ar2WVzxW1ykGk1CyYyXYa0Aa9Qb2m"
        ),
        source_ip="lambda.amazonaws.com",
        user_agent="lambda.amazonaws.com",
    )


def code_denied(
    role: str,
    function: str,
    *,
    action: str,
    resource: str,
    params: dict[str, Any],
    time: datetime,
    region: str = "us-east-1",
    error_code: str = "AccessDenied",
) -> dict[str, Any]:
    service, name = action.split(":")
    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{function}"
    return record(
        name,
        f"{service}.amazonaws.com",
        time=time,
        region=region,
        identity=assumed_role(role, function),
        params=params,
        error_code=error_code,
        error_message=(
            f"User: {arn} is not authorized to perform: {action} on resource: {resource} "
            f"because no identity-based policy allows the {action} action"
        ),
        read_only=True,
        source_ip="3.83.201.17",
        user_agent=BOTO_AGENT,
    )


def code_call(
    role: str,
    function: str,
    *,
    action: str,
    params: dict[str, Any],
    time: datetime,
    region: str = "us-east-1",
) -> dict[str, Any]:
    service, name = action.split(":")
    return record(
        name,
        f"{service}.amazonaws.com",
        time=time,
        region=region,
        identity=assumed_role(role, function),
        params=params,
        response=None,
        read_only=True,
        source_ip="3.83.201.17",
        user_agent=BOTO_AGENT,
    )
