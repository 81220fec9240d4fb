"""Proof that the read-only role templates suffice, and grant nothing the code cannot use.

1. **Dynamic**: a moto server is seeded with functions that exercise every collector (the
   demo scenarios: VPC, SQS/Kinesis/DynamoDB mappings, KMS environment key, DLQ, SNS,
   EventBridge and S3 triggers, function URL, cross-account reads; plus a "kitchen sink"
   function with layers, EFS, an image, destinations, an alias URL and API Gateway
   triggers, and an organization with SCPs). Every function is collected with
   `scan_triggers=True` through `AwsAccess`, whose `CallRecorder` names every operation
   sent. Each one is mapped to its IAM action and evaluated with lambda-why's own
   evaluator as a request by the `LambdaWhyReadOnly` session against the template's
   policy (organizations calls: the `LambdaWhyOrgReader` session and its template). Every
   `sts:AssumeRole` is evaluated against the template's trust policy with the ExternalId
   sent, plus the hub role's identity policy.
2. **Static**: every operation the code under `bot/` can send (`collector_calls.scan`)
   maps to a granted action, and every granted action is such an operation: a new
   collector call without a permission fails, and so does a grant nothing uses.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import boto3
import pytest

from bot.aws.access import AwsAccess, CallRecorder
from bot.aws.collect import collect
from bot.cli.explain import gather_inputs
from bot.config import FileConfig, Settings
from bot.demo.moto import MotoEndpoint, moto_server
from bot.demo.scenarios import PRIMARY_ACCOUNT, SECOND_ACCOUNT, seed_sync
from bot.explain.parser import parse_message
from bot.iam import PolicySet, Request, Verdict, evaluate, parse_policy
from tests.deploy.collector_calls import scan
from tests.deploy.conftest import (
    DEPLOY,
    ROOT,
    granted_actions,
    load_template,
    resolve,
    role_policies,
    role_resource,
)
from tests.deploy.iam_actions import iam_action

REGION = "us-east-1"
#: a third account for the kitchen-sink function, reached through its read-only role
THIRD_ACCOUNT = "333333333333"
EXTERNAL_ID = "lw-test-tenant-5d1e9f"
ORG_EXTERNAL_ID = "lw-test-org-0a7c3b"
HUB_ROLE = "arn:aws:iam::999999999999:role/lambda-why"
HUB_SESSION = "arn:aws:sts::999999999999:assumed-role/lambda-why/ecs-task"
READ_ONLY = "LambdaWhyReadOnly"
ORG_READER = f"arn:aws:iam::{PRIMARY_ACCOUNT}:role/LambdaWhyOrgReader"
PARAMETERS = {"HubPrincipalArn": HUB_ROLE, "ExternalId": EXTERNAL_ID}
ORG_PARAMETERS = {"HubPrincipalArn": HUB_ROLE, "ExternalId": ORG_EXTERNAL_ID}
#: what the static scan covers: everything that may call AWS at run time (the demo's
#: seeding writes with its own boto3 clients and is not part of a diagnosis)
SCANNED = [ROOT / "bot", ROOT / "handlers"]
EXCLUDED = {ROOT / "bot" / "demo"}

READONLY = load_template(DEPLOY / "cloudformation" / "readonly-role.yaml")
ORG = load_template(DEPLOY / "cloudformation" / "org-reader-role.yaml")
HUB = load_template(DEPLOY / "cloudformation" / "hub-role.yaml")


# --------------------------------------------------------------------------- seeding


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _session(endpoint: MotoEndpoint, account: str) -> boto3.Session:
    base = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    if account == PRIMARY_ACCOUNT:
        return base
    sts = base.client("sts", endpoint_url=endpoint.endpoint_url)
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="deploy-test-seed",
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


def _seed_kitchen_sink(endpoint: MotoEndpoint) -> list[str]:
    """Functions using what the demo scenarios do not: layers, EFS, an image, destinations,
    an alias with a function URL, REST and HTTP APIs; returns their ARNs."""
    session = _session(endpoint, THIRD_ACCOUNT)

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint.endpoint_url)

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = client("iam")
    role = iam.create_role(RoleName="kitchen-sink-role", AssumeRolePolicyDocument=json.dumps(trust))
    role_arn = role["Role"]["Arn"]
    iam.attach_role_policy(
        RoleName="kitchen-sink-role",
        PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    )
    boundary = iam.create_policy(
        PolicyName="kitchen-sink-boundary",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName="kitchen-sink-role", PermissionsBoundary=boundary)
    iam.put_role_policy(
        RoleName="kitchen-sink-role",
        PolicyName="efs",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "elasticfilesystem:Client*", "Resource": "*"}
                ],
            }
        ),
    )
    code = _zip()
    lam = client("lambda")
    layer = lam.publish_layer_version(
        LayerName="shared-utils", Content={"ZipFile": code}, CompatibleRuntimes=["python3.12"]
    )
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="ks", Description="kitchen sink", VpcId=vpc)
    efs = client("efs")
    fs = efs.create_file_system(CreationToken="kitchen-sink")
    efs.create_mount_target(FileSystemId=fs["FileSystemId"], SubnetId=subnet)
    access_point = efs.create_access_point(FileSystemId=fs["FileSystemId"])["AccessPointArn"]
    efs.put_file_system_policy(
        FileSystemId=fs["FileSystemId"],
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": "elasticfilesystem:ClientMount",
                        "Resource": fs["FileSystemArn"],
                        "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}},
                    }
                ],
            }
        ),
    )
    sqs = client("sqs")
    queue = sqs.create_queue(QueueName="kitchen-sink-failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic = client("sns").create_topic(Name="kitchen-sink-success")["TopicArn"]
    key = client("kms").create_key(Description="kitchen sink env")["KeyMetadata"]["Arn"]
    name = "kitchen-sink"
    function = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="app.handler",
        Code={"ZipFile": code},
        Layers=[layer["LayerVersionArn"]],
        VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [group["GroupId"]]},
        FileSystemConfigs=[{"Arn": access_point, "LocalMountPath": "/mnt/data"}],
        DeadLetterConfig={"TargetArn": queue_arn},
        TracingConfig={"Mode": "Active"},
        KMSKeyArn=key,
        Environment={"Variables": {"TABLE": "orders"}},
    )["FunctionArn"]
    lam.put_function_event_invoke_config(
        FunctionName=name,
        DestinationConfig={
            "OnSuccess": {"Destination": topic},
            "OnFailure": {"Destination": queue_arn},
        },
    )
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="AWS_IAM")
    apigw = client("apigateway")
    api = apigw.create_rest_api(name="kitchen-sink-api")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api,
        resourceId=root,
        httpMethod="GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function}/invocations",
    )
    v2 = client("apigatewayv2")
    http = v2.create_api(Name="kitchen-sink-http", ProtocolType="HTTP", Target=function)["ApiId"]
    authorizer = v2.create_authorizer(
        ApiId=http,
        AuthorizerType="REQUEST",
        IdentitySource=["$request.header.Authorization"],
        Name="kitchen-sink-authorizer",
        AuthorizerUri=(
            f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function}/invocations"
        ),
        AuthorizerPayloadFormatVersion="2.0",
    )["AuthorizerId"]
    v2.create_route(
        ApiId=http, RouteKey="GET /orders", AuthorizationType="CUSTOM", AuthorizerId=authorizer
    )
    ecr = client("ecr")
    repo = ecr.create_repository(repositoryName="image-fn")["repository"]
    ecr.put_image(
        repositoryName="image-fn",
        imageTag="v1",
        imageManifest=json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "size": 7023,
                    "digest": "sha256:" + "a" * 64,
                },
                "layers": [],
            }
        ),
    )
    ecr.set_repository_policy(
        repositoryName="image-fn",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "LambdaECRImageRetrievalPolicy",
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    }
                ],
            }
        ),
    )
    image = lam.create_function(
        FunctionName="image-fn",
        Role=role_arn,
        PackageType="Image",
        Code={"ImageUri": f"{repo['repositoryUri']}:v1"},
    )["FunctionArn"]
    return [function, f"{function}:live", image]


def _seed_organization(endpoint: MotoEndpoint) -> str:
    """An organization managed by the primary account, with an SCP and an RCP at the root
    and a member account holding one function; returns that function's ARN."""
    org = _session(endpoint, PRIMARY_ACCOUNT).client(
        "organizations", endpoint_url=endpoint.endpoint_url
    )
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    for policy_type, content in (
        (
            "SERVICE_CONTROL_POLICY",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Deny", "Action": "lambda:DeleteFunction", "Resource": "*"}
                ],
            },
        ),
        (
            "RESOURCE_CONTROL_POLICY",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "sqs:*",
                        "Resource": "*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            },
        ),
    ):
        org.enable_policy_type(RootId=root, PolicyType=policy_type)
        policy = org.create_policy(
            Content=json.dumps(content),
            Description=f"lambda-why deploy test {policy_type}",
            Name=policy_type.lower().replace("_", "-"),
            Type=policy_type,
        )
        org.attach_policy(PolicyId=policy["Policy"]["PolicySummary"]["Id"], TargetId=root)
    status = org.create_account(Email="member@example.com", AccountName="member")
    member = status["CreateAccountStatus"]["AccountId"]
    session = _session(endpoint, member)
    role = session.client("iam", endpoint_url=endpoint.endpoint_url).create_role(
        RoleName="member-fn-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    function = session.client("lambda", endpoint_url=endpoint.endpoint_url).create_function(
        FunctionName="member-fn",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip()},
    )
    return str(function["FunctionArn"])


P = PRIMARY_ACCOUNT
#: `lambda-why explain` inputs: one per kind of principal and resource policy it reads
EXPLAIN_MESSAGES = [
    f"User: arn:aws:iam::{P}:user/alice is not authorized to perform: s3:GetObject on "
    'resource: "arn:aws:s3:::reports-bucket/2026/11.csv" because no identity-based policy '
    "allows the s3:GetObject action. Go to https://us-east-1.console.aws.amazon.com/iam/home"
    "?region=us-east-1#/authorization-details/0a1b2c3d4e5f6g7h8i9j for complete details, or "
    "call the GetRequestAuthorizationDetails API with the following authorization id: "
    "0a1b2c3d4e5f6g7h8i9j",
    "An error occurred (AccessDeniedException) when calling the GetSecretValue operation: "
    f"User: arn:aws:sts::{P}:assumed-role/app-role/worker is not authorized to perform: "
    f"secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:{REGION}:{P}:"
    "secret:db-AbCdEf because no resource-based policy allows the "
    "secretsmanager:GetSecretValue action",
    f"User: arn:aws:sts::{P}:assumed-role/app-role/worker is not authorized to perform: "
    f"sqs:SendMessage on resource: arn:aws:sqs:{REGION}:{P}:orders-queue because no "
    "resource-based policy allows the sqs:SendMessage action",
    f"User: arn:aws:sts::{P}:assumed-role/app-role/worker is not authorized to perform: "
    f"SNS:Publish on resource: arn:aws:sns:{REGION}:{P}:alerts because no resource-based "
    "policy allows the SNS:Publish action",
    f"User: arn:aws:sts::{P}:assumed-role/app-role/worker is not authorized to perform: "
    f"kms:Decrypt on resource: arn:aws:kms:{REGION}:{P}:key/"
    "1234abcd-12ab-34cd-56ef-1234567890ab because no resource-based policy allows the "
    "kms:Decrypt action",
    f"User: arn:aws:sts::{P}:assumed-role/app-role/worker is not authorized to perform: "
    f"ecr:BatchGetImage on resource: arn:aws:ecr:{REGION}:{P}:repository/app because no "
    "resource-based policy allows the ecr:BatchGetImage action",
    f"User: arn:aws:sts::{P}:assumed-role/app-role/worker is not authorized to perform: "
    f"lambda:InvokeFunction on resource: arn:aws:lambda:{REGION}:{P}:function:orders "
    "because no resource-based policy allows the lambda:InvokeFunction action",
    f"User: arn:aws:sts::{P}:assumed-role/app-role/worker is not authorized to perform: "
    f"lambda:GetLayerVersion on resource: arn:aws:lambda:{REGION}:{P}:layer:"
    "shared:3 because no resource-based policy allows the lambda:GetLayerVersion action",
    f"User: arn:aws:sts::{P}:assumed-role/app-role/worker is not authorized to perform: "
    f"events:PutEvents on resource: arn:aws:events:{REGION}:{P}:event-bus/orders because "
    "no resource-based policy allows the events:PutEvents action",
]


def _seed_explain(endpoint: MotoEndpoint) -> None:
    """The IAM user (in a group) and the role the explain messages name."""
    iam = _session(endpoint, PRIMARY_ACCOUNT).client("iam", endpoint_url=endpoint.endpoint_url)
    read = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
    }
    iam.create_user(UserName="alice")
    iam.put_user_policy(UserName="alice", PolicyName="own", PolicyDocument=json.dumps(read))
    iam.attach_user_policy(
        UserName="alice", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    iam.create_group(GroupName="analysts")
    iam.add_user_to_group(GroupName="analysts", UserName="alice")
    iam.put_group_policy(GroupName="analysts", PolicyName="team", PolicyDocument=json.dumps(read))
    iam.attach_group_policy(
        GroupName="analysts", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="app-role", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="app-role", PolicyName="app", PolicyDocument=json.dumps(read))


# --------------------------------------------------------------------------- recording


@dataclass
class Recorded:
    #: `signing:Operation` -> how often it was sent
    operations: dict[str, int] = field(default_factory=dict)
    #: the API parameters of every sts:AssumeRole sent
    assume_role: list[dict[str, Any]] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)


class _FakeEndpoints(BaseHTTPRequestHandler):
    """What moto 5.2 does not implement: CloudTrail `LookupEvents` (no events) and IAM
    Toolbox `GetRequestAuthorizationDetails` (no evaluations)."""

    def _reply(self, status: int, body: dict[str, Any], content_type: str) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        if target.endswith(".LookupEvents"):
            self._reply(200, {"Events": []}, "application/x-amz-json-1.1")
        else:
            error = {"__type": "UnknownOperationException", "message": target}
            self._reply(400, error, "application/x-amz-json-1.1")

    def do_GET(self) -> None:
        if self.path.startswith("/authorization-details/"):
            body: dict[str, Any] = {"requestContext": {}, "evaluations": [], "policies": []}
            self._reply(200, body, "application/json")
        else:
            self._reply(404, {"message": f"no route {self.path}"}, "application/json")

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def _fake_endpoints() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeEndpoints)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def recorded() -> Iterator[Recorded]:
    """Collect every seeded function through AwsAccess and keep what it sent."""
    with (
        moto_server(REGION) as endpoint,
        _fake_endpoints() as fake_url,
        pytest.MonkeyPatch.context() as patch,
    ):
        for key, value in endpoint.client_env().items():
            patch.setenv(key, value)
        patch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", fake_url)
        patch.setenv("AWS_ENDPOINT_URL_IAM_TOOLBOX", fake_url)
        scenarios = seed_sync(endpoint.endpoint_url, region=REGION)
        functions = [s.function_arn for s in scenarios]
        functions += _seed_kitchen_sink(endpoint)
        member_function = _seed_organization(endpoint)
        functions.append(member_function)
        _seed_explain(endpoint)
        member = member_function.split(":")[4]
        accounts = sorted({PRIMARY_ACCOUNT, SECOND_ACCOUNT, THIRD_ACCOUNT, member})
        config = FileConfig.model_validate(
            {
                # every account, the bot's own included, is read through LambdaWhyReadOnly
                "accounts": {
                    a: {"role_arn": f"arn:aws:iam::{a}:role/{READ_ONLY}"} for a in accounts
                },
                "organization": {"role_arn": ORG_READER, "external_id": ORG_EXTERNAL_ID},
            }
        )
        settings = Settings(_env_file=None, lambda_why_external_id=EXTERNAL_ID)
        base = boto3.Session(region_name=REGION)
        result = Recorded(functions=functions)

        def keep_assume_role(params: dict[str, Any], **_: Any) -> None:
            result.assume_role.append(dict(params))

        base.events.register("provide-client-params.sts.AssumeRole", keep_assume_role)
        recorder = CallRecorder()
        access = AwsAccess(
            settings, config, requested_by="U0DEPLOYTEST", base_session=base, recorder=recorder
        )

        async def run() -> None:
            for function in functions:
                await collect(access, function, scan_triggers=True)
            for message in EXPLAIN_MESSAGES:
                parsed = parse_message(message)
                assert parsed is not None, message
                await gather_inputs(access, parsed)

        asyncio.run(run())
        result.operations = dict(recorder.calls)
        yield result


# --------------------------------------------------------------------------- evaluation


def _policy_set(template: dict[str, Any], parameters: dict[str, str], label: str) -> PolicySet:
    documents = role_policies(template, parameters)
    return PolicySet(
        identity=[parse_policy(doc, f"{label}[{i}]") for i, doc in enumerate(documents)]
    )


def _request(operation: str, account: str, role: str) -> Request:
    action = iam_action(operation)
    assert action is not None
    prefix = action.split(":", 1)[0]
    return Request(
        principal=f"arn:aws:sts::{account}:assumed-role/{role}/lambda-why-U0DEPLOYTEST",
        action=action,
        # the policies grant on Resource "*" (asserted below): any resource of the account
        resource=f"arn:aws:{prefix}:{REGION}:{account}:lambda-why-probe",
        resource_account=account,
    )


def test_policies_grant_on_every_resource() -> None:
    """Why the requests above may use any resource: every Allow is on Resource "*"."""
    for template in (READONLY, ORG):
        for policy in role_policies(template, {}):
            for statement in policy["Statement"]:
                assert statement["Resource"] == "*"
                assert "Condition" not in statement


def test_every_recorded_operation_is_allowed(recorded: Recorded) -> None:
    readonly = _policy_set(READONLY, PARAMETERS, READ_ONLY)
    org = _policy_set(ORG, ORG_PARAMETERS, "LambdaWhyOrgReader")
    denied = []
    for operation in sorted(recorded.operations):
        if operation.startswith("sts:"):
            continue  # the hub's own calls: trust policies, tested below
        if iam_action(operation) is None:
            continue
        if operation.startswith("organizations:"):
            request = _request(operation, PRIMARY_ACCOUNT, "LambdaWhyOrgReader")
            decision = evaluate(request, org)
        else:
            request = _request(operation, THIRD_ACCOUNT, READ_ONLY)
            decision = evaluate(request, readonly)
        if decision.verdict is not Verdict.ALLOWED:
            denied.append(f"{operation} -> {request.action}: {decision.explanation}")
    assert denied == []


#: operations the code can send that the moto scenarios cannot reach, and why; they are
#: proven by the static half only (test_role_grants_exactly_what_the_code_calls)
NOT_REACHED = {
    "kafka:DescribeClusterV2": "moto rejects Amazon MSK event source mappings",
    "kafka:GetClusterPolicy": "moto rejects Amazon MSK event source mappings",
    "mq:DescribeBroker": "moto rejects Amazon MQ event source mappings",
    "rds:DescribeDBClusters": "moto rejects DocumentDB event source mappings",
    "secretsmanager:DescribeSecret": "only self-managed Kafka/MQ/DocumentDB mappings name secrets",
    "elasticfilesystem:DescribeAccessPoints": "moto's GetFunction omits FileSystemConfigs",
    "elasticfilesystem:DescribeFileSystemPolicy": "moto's GetFunction omits FileSystemConfigs",
    "apigateway:GetIntegration": "moto's GetResources already embeds each integration",
    "support:CreateCase": "the escalation writer, not a diagnosis (hub role, optional)",
}


def test_scenarios_exercise_the_collectors(recorded: Recorded) -> None:
    """The dynamic half proves something only if the collectors really ran: every operation
    the code can send was recorded, except the few moto cannot reach (listed with why)."""
    unexercised = sorted(set(_static_operations()) - set(recorded.operations) - set(NOT_REACHED))
    assert unexercised == [], "seed a scenario that reaches these, or say in NOT_REACHED why not"
    assert len(recorded.functions) >= 20


def test_every_assume_role_is_trusted_with_its_external_id(recorded: Recorded) -> None:
    assert recorded.assume_role, "no role was assumed"
    hub = parse_policy(_hub_policy(with_org_reader=True), "lambda-why hub")
    for params in recorded.assume_role:
        role_arn = params["RoleArn"]
        if role_arn == ORG_READER:
            trust, parameters = ORG, ORG_PARAMETERS
        else:
            assert role_arn.endswith(f":role/{READ_ONLY}"), role_arn
            trust, parameters = READONLY, PARAMETERS
        document = resolve(role_resource(trust)["AssumeRolePolicyDocument"], parameters)
        policies = PolicySet(identity=[hub], resource=parse_policy(document, "trust"))
        actions = ["sts:AssumeRole"]
        if "SourceIdentity" in params:
            actions.append("sts:SetSourceIdentity")
        if params.get("Tags") or params.get("TransitiveTagKeys"):
            actions.append("sts:TagSession")
        context = {"sts:ExternalId": params["ExternalId"]} if "ExternalId" in params else {}
        for action in actions:
            request = Request(
                principal=HUB_SESSION, action=action, resource=role_arn, context=context
            )
            decision = evaluate(request, policies)
            assert decision.verdict is Verdict.ALLOWED, (params, decision.explanation)


@pytest.mark.parametrize(
    ("principal", "external_id"),
    [
        (HUB_SESSION, "guessed"),
        (HUB_SESSION, None),
        ("arn:aws:sts::888888888888:assumed-role/lambda-why/ecs-task", EXTERNAL_ID),
        ("arn:aws:sts::999999999999:assumed-role/other-role/x", EXTERNAL_ID),
    ],
)
def test_trust_refuses_other_principals_and_wrong_external_ids(
    principal: str, external_id: str | None
) -> None:
    """The confused-deputy guard: only the hub role, and only with the tenant's ExternalId.

    The identity side allows (`sts:AssumeRole` on `*`) so that only the trust policy decides.
    """
    document = resolve(role_resource(READONLY)["AssumeRolePolicyDocument"], PARAMETERS)
    anything = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
        },
        "caller",
    )
    policies = PolicySet(identity=[anything], resource=parse_policy(document, "trust"))
    request = Request(
        principal=principal,
        action="sts:AssumeRole",
        resource=f"arn:aws:iam::{THIRD_ACCOUNT}:role/{READ_ONLY}",
        context={"sts:ExternalId": external_id} if external_id else {},
    )
    assert evaluate(request, policies).verdict is not Verdict.ALLOWED


def _hub_policy(*, with_org_reader: bool, support_cases: bool = False) -> dict[str, Any]:
    """The hub role's identity policy from hub-role.yaml, its conditions decided."""
    parameters = {"ReadOnlyRoleName": READ_ONLY, "OrgReaderRoleArn": ORG_READER}
    conditions = {"HasOrgReader": with_org_reader, "SupportCases": support_cases}
    (document,) = role_policies(HUB, parameters, conditions)
    return document


# --------------------------------------------------------------------------- static


@cache
def _static_operations() -> dict[str, list[str]]:
    operations: dict[str, list[str]] = {}
    unresolved: list[str] = []
    for root in SCANNED:
        result = scan(root, exclude=EXCLUDED)
        unresolved += result.unresolved
        for operation, sites in result.operations.items():
            operations.setdefault(operation, []).extend(sites)
    assert unresolved == [], "AWS calls whose service the scan cannot tell"
    return operations


def test_static_scan_finds_what_was_recorded(recorded: Recorded) -> None:
    """The scan is complete for everything the scenarios reached."""
    missing = sorted(set(recorded.operations) - set(_static_operations()))
    assert missing == [], "recorded operations the static scan did not find"


#: which roles send an operation: the hub's own calls (assuming roles, opening support
#: cases), the organization reader, or the read-only role (everything else); CloudTrail
#: lookups are sent by both the read-only role (the function's account) and the
#: organization reader (SCP changes in the management account)
def _roles_of(operation: str) -> set[str]:
    if operation.startswith(("sts:", "support:")):
        return {"hub"}
    if operation.startswith("organizations:"):
        return {"org"}
    if operation == "cloudtrail:LookupEvents":
        return {"readonly", "org"}
    return {"readonly"}


def _needed(role: str) -> dict[str, list[str]]:
    """IAM action -> call sites, for the operations sent with `role`."""
    needed: dict[str, list[str]] = {}
    for operation, sites in _static_operations().items():
        if role not in _roles_of(operation):
            continue
        action = iam_action(operation)
        if action is not None:
            needed.setdefault(action, []).extend(sites)
    return needed


@pytest.mark.parametrize(
    ("role", "template", "conditions"),
    [
        ("readonly", READONLY, None),
        ("org", ORG, None),
        ("hub", HUB, {"HasOrgReader": True, "SupportCases": True, "OnEc2": False}),
    ],
    ids=["LambdaWhyReadOnly", "LambdaWhyOrgReader", "hub"],
)
def test_role_grants_exactly_what_the_code_calls(
    role: str, template: dict[str, Any], conditions: dict[str, bool] | None
) -> None:
    needed = _needed(role)
    parameters = {"ReadOnlyRoleName": READ_ONLY, "OrgReaderRoleArn": ORG_READER}
    granted = granted_actions(template, parameters, conditions)
    missing = {a: sorted(set(needed[a])) for a in sorted(set(needed) - granted)}
    assert missing == {}, "the code calls these, the role does not grant them"
    unused = sorted(granted - set(needed))
    assert unused == [], "granted, but no code calls them"


def test_scan_sees_through_every_calling_style(tmp_path: Path) -> None:
    """The scanner itself: literal pairs, client + operation, and bare botocore methods."""
    package = tmp_path / "bot" / "aws"
    package.mkdir(parents=True)
    (package / "sample.py").write_text(
        "async def a(reader):\n"
        '    await reader.call("efs", "DescribeAccessPoints", FileSystemId="fs")\n'
        '    await reader.pages("s3", "ListBuckets", "Buckets")\n'
        "async def b(access):\n"
        '    client = await access.client("kms", account="1", region="r")\n'
        '    await access.call(client, "GetKeyPolicy", KeyId="k")\n'
        'OPERATION = "cloudtrail:LookupEvents"\n'
        "def c(client):\n"
        "    return client.lookup_events\n",
        encoding="utf-8",
    )
    result = scan(package)
    assert result.unresolved == []
    assert set(result.operations) == {
        "elasticfilesystem:DescribeAccessPoints",
        "s3:ListBuckets",
        "kms:GetKeyPolicy",
        "cloudtrail:LookupEvents",
    }
