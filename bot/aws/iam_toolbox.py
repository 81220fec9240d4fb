"""IAM Toolbox (preview): AWS's own account of a denied request, by authorization ID.

Newer AccessDenied messages end with "... call the GetRequestAuthorizationDetails API with
the following authorization id: <id>". `GetRequestAuthorizationDetails` returns the
request context, one evaluation per (action, resource) with the checks AWS made (SCP and
RCP levels, VPC endpoint, resource, principal, boundary, session) and the policies that
matched. botocore names the service `iam-toolbox` (API version 2018-05-10).

https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied-authorization-id.html
https://docs.aws.amazon.com/iam-toolbox/latest/APIReference/API_GetRequestAuthorizationDetails.html
"""

from __future__ import annotations

from typing import Any

from bot.aws.reader import Reader

#: evaluations are paginated; a denied request rarely has more than a handful
MAX_PAGES = 10


async def read_authorization_details(
    reader: Reader, authorization_id: str, *, region: str | None = None
) -> dict[str, Any] | None:
    """The merged pages of GetRequestAuthorizationDetails; None on failure (a gap)."""
    merged: dict[str, Any] = {"requestContext": {}, "evaluations": [], "policies": []}
    token: str | None = None
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {"authorizationId": authorization_id}
        if token:
            params["nextToken"] = token
        reply = await reader.call(
            "iam-toolbox",
            "GetRequestAuthorizationDetails",
            resource=authorization_id,
            gap_operation="iam:GetRequestAuthorizationDetails",
            region=region,
            **params,
        )
        if reply is None:
            return None
        merged["requestContext"].update(reply.get("requestContext") or {})
        merged["evaluations"].extend(reply.get("evaluations") or [])
        merged["policies"].extend(reply.get("policies") or [])
        token = reply.get("nextToken")
        if not token:
            break
    return merged
