"""Opening an AWS Support case on escalation (`support:CreateCase`).

A separate, deliberately small writer: the collectors are read-only and refuse any write.
Used only when `[escalation] support_case = true`. The Support API lives in us-east-1 and
needs a Business, Enterprise On-Ramp or Enterprise support plan.
https://docs.aws.amazon.com/awssupport/latest/APIReference/API_CreateCase.html
"""

from __future__ import annotations

import asyncio
from typing import Any

import boto3

from bot.slack.deps import SupportCaseFn

SUPPORT_REGION = "us-east-1"


def support_case_writer(session: Any | None = None) -> SupportCaseFn:
    """An async `(subject, body) -> case id` using the bot's own credentials."""

    def create(subject: str, body: str) -> str:
        client = (session or boto3.Session()).client("support", region_name=SUPPORT_REGION)
        reply = client.create_case(
            subject=subject,
            communicationBody=body[:8000],
            issueType="technical",
            severityCode="low",
            language="en",
        )
        return str(reply["caseId"])

    async def open_case(subject: str, body: str) -> str:
        return await asyncio.to_thread(create, subject, body)

    return open_case
