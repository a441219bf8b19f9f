"""A provider key never appears in a log line, an error message, a repr or a run's result: through a
successful run with tool calls, a retried overload, and a rejected key, with every logger (the
Powertools Logger the executor uses, the Soul's loggers, botocore's) at DEBUG."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from fakes.anthropic import FakeAnthropic, error_reply
from fakes.tools import Archive
from moto import mock_aws

from heartbeat.soul.agent import AgentLimits, run_agent
from heartbeat.soul.credentials import ParametersSecretSource
from heartbeat.soul.resolve import SoulSettings, resolve_model
from heartbeat.soul.retry import RetryPolicy
from heartbeat.soul.types import ModelError

KEY = "sk-ant-api03-LEAK-CANARY-7f3a9c1e5b2d4f6a8c0e-DO-NOT-LOG"
SECRET_NAME = "heartbeat/anthropic"


class EverythingFormatter(logging.Formatter):
    """The message with its arguments, every extra field, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{super().format(record)} {record.__dict__!r}"


@pytest.fixture
def logs() -> Iterator[tuple[io.StringIO, Logger]]:
    """Every log record: the Soul's and the executor's Powertools Logger at DEBUG from the start,
    all others (botocore...) from `debug_everywhere()`, after the test's own setup."""
    root = logging.getLogger()
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(EverythingFormatter("%(name)s %(levelname)s %(message)s"))
    saved_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    saved = {
        name: (lg.handlers[:], lg.level, lg.propagate)
        for name, lg in logging.root.manager.loggerDict.items()
        if isinstance(lg, logging.Logger) and name.startswith("heartbeat")
    }
    # A fresh service name: Powertools configures a logger once per name and process.
    executor_logger = Logger(
        service=f"executor-{uuid.uuid4().hex[:8]}",
        level="DEBUG",
        logger_handler=logging.StreamHandler(captured),
    )
    copy_config_to_registered_loggers(source_logger=executor_logger, include={"heartbeat"})
    try:
        yield captured, executor_logger
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
        for name, (handlers, level, propagate) in saved.items():
            lg = logging.getLogger(name)
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate = propagate


def debug_everywhere() -> None:
    logging.getLogger().setLevel(logging.DEBUG)


def test_the_key_is_in_no_log_line_error_or_result(logs, capsys):
    captured, executor_logger = logs
    settings_json = None
    with mock_aws():
        secretsmanager = boto3.client("secretsmanager", region_name="us-east-1")
        secretsmanager.create_secret(Name=SECRET_NAME, SecretString=KEY)  # the test's own setup: not captured
        debug_everywhere()
        source = ParametersSecretSource(secretsmanager_client=secretsmanager, max_age_s=0)

        with FakeAnthropic(api_key=KEY) as fake:
            settings_json = json.dumps(
                {"anthropic": {"kind": "anthropic", "base_url": fake.url, "api_key_secret": SECRET_NAME}}
            )
            settings = SoulSettings.from_env({"HEARTBEAT_PROVIDERS": settings_json})
            model = resolve_model("anthropic/claude-sonnet-4-5", settings, secrets=source, env={})
            fake.enqueue(error_reply(529, "overloaded_error", "Overloaded", retry_after="0"))
            executor_logger.append_keys(tenant_id="t_1", task_id="cron_1", run_id="run_1")
            result = run_agent(
                model,
                system="You are the Soul.",
                prompt="Remember that the key must stay secret.",
                history=(),
                tools=Archive().tools(),
                limits=AgentLimits(),
                remaining_ms=lambda: 60_000,
                retry=RetryPolicy(sleep=lambda s: None),
            )
            executor_logger.info(
                "run finished", extra={"usage": result.usage.to_dict(), "output": result.output}
            )
            assert result.tool_calls == 1 and len(fake.requests) == 3
            assert fake.requests[0].headers["x-api-key"] == KEY  # the key did travel, in its header

        with FakeAnthropic(api_key="sk-ant-api03-a-different-key") as rejecting:
            settings_json = json.dumps(
                {"anthropic": {"kind": "anthropic", "base_url": rejecting.url, "api_key_secret": SECRET_NAME}}
            )
            settings = SoulSettings.from_env({"HEARTBEAT_PROVIDERS": settings_json})
            model = resolve_model("anthropic/claude-sonnet-4-5", settings, secrets=source, env={})
            with pytest.raises(ModelError) as caught:
                run_agent(
                    model,
                    system="s",
                    prompt="hi",
                    history=(),
                    tools=[],
                    limits=AgentLimits(),
                    remaining_ms=lambda: 60_000,
                )
            try:
                raise caught.value
            except ModelError:
                executor_logger.exception("run failed", extra={"error": str(caught.value)})

    error = caught.value
    assert error.status == 401 and "Secrets Manager secret 'heartbeat/anthropic'" in str(error)
    text = captured.getvalue()
    assert "run failed" in text and "model step" in text and "transient model error, retrying" in text
    assert "GetSecretValue" in text  # botocore's DEBUG lines were captured too
    out = capsys.readouterr()
    for where, value in {
        "log lines": text,
        "stdout": out.out,
        "stderr": out.err,
        "error message": str(error),
        "error repr": repr(error),
        "error args": repr(error.args),
        "model repr": repr(model),
        "result": repr(result),
        "settings": repr(settings) + str(settings_json),
        "secret source": repr(source),
    }.items():
        assert KEY not in value, f"the key leaked into the {where}"


def test_the_capture_would_see_a_leak(logs):
    """The control: botocore logs a GetSecretValue response body at DEBUG, key and all, when the
    read does not go through the Soul's secret source."""
    captured, _ = logs
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(Name=SECRET_NAME, SecretString=KEY)
        debug_everywhere()
        client.get_secret_value(SecretId=SECRET_NAME)
    assert KEY in captured.getvalue()
