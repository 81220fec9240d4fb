"""Fixtures for explain tests: moto (in-process) and an AWS-free environment."""

from __future__ import annotations

from tests.aws.conftest import aws_env, moto

__all__ = ["aws_env", "moto"]
