"""The CLI pieces that need no stack: API error messages, the deployed Keys table, live keys."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest

from heartbeat_cli.keys import deployed_keys_table
from heartbeat_cli.tasks import error_message


def test_api_errors_print_the_envelopes_message() -> None:
    envelope = {"error": {"type": "invalid_request_error", "message": "bad cron", "param": "schedule"}}
    assert error_message(json.dumps(envelope).encode()) == "bad cron (schedule)"
    assert error_message(b'{"message": "Unauthorized"}') == "Unauthorized"
    assert error_message(b"<html>gateway</html>") == "<html>gateway</html>"


class CloudFormation:
    def __init__(self, outputs: list[dict[str, str]]) -> None:
        self.outputs = outputs
        self.asked: list[str] = []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 - boto3's parameter name
        self.asked.append(StackName)
        return {"Stacks": [{"Outputs": self.outputs}]}


def test_the_deployed_keys_table_comes_from_the_stacks_output() -> None:
    cloudformation = CloudFormation(
        [{"OutputKey": "KeysTableName", "OutputValue": "heartbeat-KeysTable-ABC"}]
    )
    assert deployed_keys_table(cloudformation, "heartbeat") == "heartbeat-KeysTable-ABC"
    assert cloudformation.asked == ["heartbeat"]
    with pytest.raises(LookupError, match="--table"):
        deployed_keys_table(CloudFormation([]), "other")


def test_keys_for_a_deployed_table_are_live_keys_and_can_be_revoked() -> None:
    from moto import mock_aws

    from heartbeat_cli.local.aws_endpoint import endpoint_clients
    from heartbeat_cli.local.resources import StackNames, provision
    from heartbeat_cli.main import main

    def run(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(list(argv))
        return code, out.getvalue()

    with mock_aws():
        clients = endpoint_clients(None)
        provision(
            dynamodb=clients["dynamodb"],
            scheduler=clients["scheduler"],
            s3=clients["s3"],
            sqs=clients["sqs"],
            names=StackNames(),
        )
        table = StackNames().table("KeysTable")
        code, out = run("keys", "create", "--tenant", "acme", "--scopes", "config.read", "--table", table)
        assert code == 0 and out.strip().splitlines()[-1].startswith("hb_live_")
        code, out = run("keys", "list", "--table", table, "--json")
        [key] = json.loads(out)
        assert key["tenant_id"] == "acme" and key["scopes"] == ["config.read"] and key["revoked_at"] is None
        assert run("keys", "revoke", key["key_id"], "--table", table)[0] == 0
        assert json.loads(run("keys", "list", "--table", table, "--json")[1])[0]["revoked_at"]
        assert run("keys", "create", "--tenant", "acme", "--scopes", "admin", "--table", table)[0] == 1


def test_heartbeat_local_takes_no_private_targets() -> None:
    from heartbeat_cli.main import build_parser

    assert build_parser().parse_args(["local"]).private_targets is True
    assert build_parser().parse_args(["local", "--no-private-targets"]).private_targets is False
