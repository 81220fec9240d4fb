"""ARNs and function references: parsing only, no I/O.

`parse_function_ref` accepts what people paste: a function ARN (with a version or alias
qualifier), a bare name, `name:qualifier`, a partial ARN `123456789012:function:name`, or
a Lambda console URL. Formats:
https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html#API_GetFunction_RequestSyntax
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel

#: partitions lambda-why knows; the first three are the commercial, China and GovCloud ones
PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f")

_PARTITION = r"aws(?:-cn|-us-gov|-iso(?:-[bef])?)?"
_REGION = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d"
_ACCOUNT = r"\d{12}"
_NAME = r"[A-Za-z0-9_-]{1,140}"
#: `$LATEST`, a version number, or an alias name
_QUALIFIER = r"\$LATEST|[A-Za-z0-9_-]{1,128}"

_FUNCTION_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):lambda:(?P<region>{_REGION}):(?P<account>{_ACCOUNT})"
    rf":function:(?P<name>{_NAME})(?::(?P<qualifier>{_QUALIFIER}))?$"
)
_PARTIAL_ARN = re.compile(
    rf"^(?P<account>{_ACCOUNT}):function:(?P<name>{_NAME})(?::(?P<qualifier>{_QUALIFIER}))?$"
)
_NAME_REF = re.compile(rf"^(?P<name>{_NAME})(?::(?P<qualifier>{_QUALIFIER}))?$")
_FUNCTION_ARN_IN_TEXT = re.compile(
    rf"arn:{_PARTITION}:lambda:{_REGION}:{_ACCOUNT}:function:[A-Za-z0-9_-]{{1,140}}"
    rf"(?::(?:\$LATEST|[A-Za-z0-9_-]{{1,128}}))?"
)
_GENERIC_ARN = re.compile(
    r"^arn:(?P<partition>[a-z0-9-]+):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*)"
    r":(?P<account>[0-9]{12}|aws|)?:(?P<resource>.+)$"
)
#: console fragments: `/functions/NAME`, `/functions/NAME:QUAL`,
#: `/functions/NAME/versions/3`, `/functions/NAME/aliases/live`
_CONSOLE_FRAGMENT = re.compile(
    rf"^/?functions/(?P<name>{_NAME})(?::(?P<qualifier>{_QUALIFIER}))?"
    rf"(?:/(?:versions|aliases)/(?P<sub>{_QUALIFIER}))?(?:[/?].*)?$"
)
#: `https://<url-id>.lambda-url.<region>.on.aws/`: an opaque id, not the function's name
#: https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
_FUNCTION_URL_HOST = re.compile(rf"^[a-z0-9]+\.lambda-url\.{_REGION}\.on\.aws$")
_CONSOLE_HOSTS = (
    "console.aws.amazon.com",
    "console.amazonaws.cn",
    "console.amazonaws-us-gov.com",
)
_HOST_PARTITION = {
    "console.aws.amazon.com": "aws",
    "console.amazonaws.cn": "aws-cn",
    "console.amazonaws-us-gov.com": "aws-us-gov",
}


class BadFunctionRef(ValueError):
    """The text is not a Lambda function ARN, name or console URL (CLI exit 2)."""


class BadArn(ValueError):
    """The text is not an ARN."""


class FunctionRef(BaseModel):
    """A function as the user named it; region/account None: the current ones."""

    model_config = {"frozen": True}

    partition: str = "aws"
    region: str | None = None
    account: str | None = None
    name: str
    qualifier: str | None = None

    def resolve(self, *, partition: str, region: str, account: str) -> FunctionRef:
        """Fill the missing region and account (and the partition of a bare name)."""
        explicit = self.region is not None or self.account is not None
        return FunctionRef(
            partition=self.partition if explicit else partition,
            region=self.region or region,
            account=self.account or account,
            name=self.name,
            qualifier=self.qualifier,
        )

    @property
    def unqualified_arn(self) -> str:
        """`arn:aws:lambda:REGION:ACCOUNT:function:NAME` (needs region and account)."""
        if self.region is None or self.account is None:
            raise BadFunctionRef(f"function {self.name!r} has no region or account yet")
        return function_arn(self.partition, self.region, self.account, self.name)

    @property
    def arn(self) -> str:
        """The ARN with the qualifier, when there is one."""
        base = self.unqualified_arn
        return f"{base}:{self.qualifier}" if self.qualifier else base

    @property
    def api_name(self) -> str:
        """What to pass as `FunctionName`: the full ARN when known, else the name."""
        if self.region is not None and self.account is not None:
            return self.unqualified_arn
        return self.name


class Arn(BaseModel):
    """A generic ARN: `arn:partition:service:region:account:resource`."""

    model_config = {"frozen": True}

    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @property
    def resource_type(self) -> str | None:
        """`function` for `function:name`, `role` for `role/path/name`, else None."""
        for sep in (":", "/"):
            if sep in self.resource:
                return self.resource.split(sep, 1)[0]
        return None

    @property
    def resource_id(self) -> str:
        """The part after the resource type (`name` of `function:name`, path of `role/..`)."""
        for sep in (":", "/"):
            if sep in self.resource:
                return self.resource.split(sep, 1)[1]
        return self.resource


def parse_arn(text: str) -> Arn:
    """Split an ARN into its fields; raises BadArn."""
    match = _GENERIC_ARN.match(text.strip())
    if match is None:
        raise BadArn(f"not an ARN: {text!r}")
    return Arn(
        partition=match["partition"],
        service=match["service"],
        region=match["region"],
        account=match["account"] or "",
        resource=match["resource"],
    )


def account_of(arn: str) -> str | None:
    """The 12-digit account of an ARN, or None (S3 buckets, AWS managed policies, non-ARNs)."""
    try:
        account = parse_arn(arn).account
    except BadArn:
        return None
    return account if len(account) == 12 else None


def partition_of(arn: str) -> str | None:
    try:
        return parse_arn(arn).partition
    except BadArn:
        return None


def region_of(arn: str) -> str | None:
    try:
        return parse_arn(arn).region or None
    except BadArn:
        return None


def function_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:lambda:{region}:{account}:function:{name}"


def log_group_name(function_name: str) -> str:
    """The default log group of a function: `/aws/lambda/<name>`.

    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
    """
    return f"/aws/lambda/{function_name}"


def role_name_of(role_arn: str) -> str:
    """`orders-role` from `arn:aws:iam::1:role/service-role/orders-role`."""
    return role_arn.rsplit("/", 1)[-1]


def find_function_arns(text: str) -> list[str]:
    """Every Lambda function ARN in a text (Slack message), in order, without duplicates."""
    seen: dict[str, None] = {}
    for match in _FUNCTION_ARN_IN_TEXT.finditer(text):
        seen.setdefault(match.group(0), None)
    return list(seen)


def parse_function_ref(text: str) -> FunctionRef:
    """Parse what a user typed or pasted into a FunctionRef; raises BadFunctionRef."""
    raw = text
    text = text.strip().strip("<>`'\"").strip()
    if "|" in text and text.startswith(("http", "arn:")):  # Slack link markup <url|label>
        text = text.split("|", 1)[0]
    if not text:
        raise BadFunctionRef("no function given: expected a Lambda function ARN or name")
    if text.startswith(("https://", "http://")):
        return _parse_console_url(text, raw)
    if text.startswith("arn:"):
        match = _FUNCTION_ARN.match(text)
        if match is None:
            raise BadFunctionRef(f"not a Lambda function ARN or name: {raw.strip()!r}")
        return FunctionRef(
            partition=match["partition"],
            region=match["region"],
            account=match["account"],
            name=match["name"],
            qualifier=match["qualifier"],
        )
    match = _PARTIAL_ARN.match(text)
    if match is not None:
        return FunctionRef(
            account=match["account"], name=match["name"], qualifier=match["qualifier"]
        )
    match = _NAME_REF.match(text)
    if match is not None and len(match["name"]) <= 64:
        return FunctionRef(name=match["name"], qualifier=match["qualifier"])
    raise BadFunctionRef(f"not a Lambda function ARN or name: {raw.strip()!r}")


def _parse_console_url(text: str, raw: str) -> FunctionRef:
    """`https://REGION.console.aws.amazon.com/lambda/home?region=R#/functions/NAME?tab=code`."""
    bad = BadFunctionRef(f"not a Lambda console function URL: {raw.strip()!r}")
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if _FUNCTION_URL_HOST.match(host):
        raise BadFunctionRef(
            f"{raw.strip()!r} is a function URL, which does not name its function: "
            "pass the function ARN, name or console URL"
        )
    console = next((h for h in _CONSOLE_HOSTS if host == h or host.endswith("." + h)), None)
    if console is None or not parts.path.startswith("/lambda"):
        raise bad
    fragment = unquote(parts.fragment)
    match = _CONSOLE_FRAGMENT.match(fragment)
    if match is None:
        raise bad
    region: str | None = None
    for pair in (parts.query + "&" + fragment.partition("?")[2]).split("&"):
        key, _, value = pair.partition("=")
        if key == "region" and re.fullmatch(_REGION, value):
            region = value
    if region is None:
        prefix = host[: -len(console)].rstrip(".")
        if re.fullmatch(_REGION, prefix):
            region = prefix
    return FunctionRef(
        partition=_HOST_PARTITION[console],
        region=region,
        name=match["name"],
        qualifier=match["sub"] or match["qualifier"],
    )
