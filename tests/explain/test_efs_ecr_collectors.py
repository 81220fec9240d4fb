"""EFS and ECR late collectors against moto."""

from __future__ import annotations

import json

import boto3

from bot.aws import ecr, efs
from bot.aws.reader import Reader
from bot.snapshot import FileSystemConfig
from tests.aws.conftest import ACCOUNT, REGION, make_access

FS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/orders-role"},
            "Action": "elasticfilesystem:ClientMount",
            "Resource": "*",
        }
    ],
}


async def test_efs_policy_read_through_access_point(moto: None) -> None:
    client = boto3.client("efs", region_name=REGION)
    fs = client.create_file_system(CreationToken="t")
    point = client.create_access_point(FileSystemId=fs["FileSystemId"])
    client.put_file_system_policy(FileSystemId=fs["FileSystemId"], Policy=json.dumps(FS_POLICY))
    mount = FileSystemConfig(arn=point["AccessPointArn"], local_mount_path="/mnt/data")
    reader = Reader(make_access(), account=ACCOUNT, region=REGION)
    await efs.read_file_system_policy(reader, mount)
    assert mount.file_system_arn is not None
    assert mount.file_system_arn.endswith(f"file-system/{fs['FileSystemId']}")
    assert mount.file_system_policy == FS_POLICY
    assert reader.gaps == []


async def test_efs_without_policy_is_none_without_gap(moto: None) -> None:
    client = boto3.client("efs", region_name=REGION)
    fs = client.create_file_system(CreationToken="t2")
    point = client.create_access_point(FileSystemId=fs["FileSystemId"])
    mount = FileSystemConfig(arn=point["AccessPointArn"], local_mount_path="/mnt/data")
    reader = Reader(make_access(), account=ACCOUNT, region=REGION)
    await efs.read_file_system_policy(reader, mount)
    assert mount.file_system_policy is None
    assert reader.gaps == []


def test_repository_of_image_uri() -> None:
    repo = ecr.repository_of(f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/team/orders:latest")
    assert repo is not None
    assert repo.arn == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/orders"
    assert repo.name == "team/orders"
    assert ecr.repository_of("public.ecr.aws/lambda/python:3.12") is None


async def test_ecr_repository_policy(moto: None) -> None:
    client = boto3.client("ecr", region_name=REGION)
    client.create_repository(repositoryName="orders")
    document = {
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
    client.set_repository_policy(repositoryName="orders", policyText=json.dumps(document))
    repo = ecr.repository_of(f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/orders:latest")
    assert repo is not None
    reader = Reader(make_access(), account=ACCOUNT, region=REGION)
    await ecr.read_repository_policy(reader, repo)
    assert repo.policy == document
    assert reader.gaps == []
    bare = ecr.repository_of(f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/orders:latest")
    assert bare is not None
    client.delete_repository_policy(repositoryName="orders")
    await ecr.read_repository_policy(reader, bare)
    assert bare.policy is None
    assert reader.gaps == []
