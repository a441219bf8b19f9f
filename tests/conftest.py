"""Shared fixtures: a moto-backed AWS with the stack's resources created from template.yaml."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

# No test may reach real AWS: fake credentials and region for every boto3 client.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_SESSION_TOKEN", "testing")
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Heartbeat")


@dataclass
class Aws:
    dynamodb: Any
    scheduler: Any
    s3: Any
    sqs: Any
    lambda_: Any
    names: Any
    env: dict[str, str]


@pytest.fixture
def aws() -> Iterator[Aws]:
    import boto3
    from moto import mock_aws

    from heartbeat_cli.local.resources import StackNames, provision

    with mock_aws():
        names = StackNames()
        clients = {
            "dynamodb": boto3.client("dynamodb"),
            "scheduler": boto3.client("scheduler"),
            "s3": boto3.client("s3"),
            "sqs": boto3.client("sqs"),
        }
        provision(**clients, names=names)
        yield Aws(**clients, lambda_=boto3.client("lambda"), names=names, env=names.environment())
