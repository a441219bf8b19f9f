"""Webhooks end to end on the local stack: a receiver on loopback verifying with
`standardwebhooks` gets each run's result, signed; a failing task alerts it once."""

from __future__ import annotations

import pytest

from support.receiver import webhook_receiver

from .conftest import create_key, http, wait_for

pytestmark = pytest.mark.e2e


def test_a_run_now_reaches_a_subscribed_receiver_signed_and_is_listed_as_delivered(start_stack, data_dir):
    stack = start_stack(data_dir)
    key = create_key(data_dir)
    api = stack.api_url
    with webhook_receiver() as receiver:
        status, created = http(
            "POST", f"{api}/v1/webhooks", key, {"url": receiver.url, "events": ["run.succeeded"]}
        )
        assert status == 201, created
        hook = created["webhook"]
        receiver.secret = hook["secret"]
        status, task = http(
            "POST", f"{api}/v1/tasks", key, {"name": "report", "prompt": "Say hello", "schedule": "0 9 * * *"}
        )
        assert status == 201, task
        status, run = http("POST", f"{api}/v1/tasks/{task['task']['id']}/run", key)
        assert status == 202, run
        (got,) = receiver.wait_for(1, timeout=20)
        assert got.verified, got.error
        assert got.json["type"] == "run.succeeded"
        assert got.json["data"]["run"]["id"] == run["run"]["id"]
        assert got.json["data"]["task"]["id"] == task["task"]["id"]

        def delivered():
            status, page = http("GET", f"{api}/v1/webhooks/{hook['id']}/deliveries", key)
            return (
                page["deliveries"]
                if status == 200 and page["deliveries"] and page["deliveries"][0]["status"] == "delivered"
                else None
            )

        (delivery,) = wait_for(delivered, timeout=10)
        assert delivery["event_id"] == got.headers["webhook-id"] and delivery["attempts"] == 1
        status, listed = http("GET", f"{api}/v1/webhooks", key)
        assert hook["secret"] not in str(listed)


def test_the_test_route_sends_a_webhook_test_event(start_stack, data_dir):
    stack = start_stack(data_dir)
    key = create_key(data_dir)
    with webhook_receiver() as receiver:
        status, created = http(
            "POST", f"{stack.api_url}/v1/webhooks", key, {"url": receiver.url, "format": "slack"}
        )
        assert status == 201
        status, answer = http("POST", f"{stack.api_url}/v1/webhooks/{created['webhook']['id']}/test", key)
        assert status == 202, answer
        (got,) = receiver.wait_for(1, timeout=20)
        assert "text" in got.json


def test_the_cli_creates_tests_and_lists_deliveries(start_stack, data_dir):
    from .conftest import cli

    start_stack(data_dir)
    key = create_key(data_dir)
    base = ("webhooks", "--data-dir", str(data_dir), "--key", key)
    with webhook_receiver() as receiver:
        code, out = cli(*base, "create", receiver.url, "--events", "run.failed,task.failing")
        assert code == 0, out
        secret = out.strip().splitlines()[-1]
        assert secret.startswith("whsec_")
        receiver.secret = secret
        code, out = cli(*base, "list")
        assert code == 0 and "run.failed,task.failing" in out and secret not in out
        webhook_id = out.splitlines()[1].split()[0]
        assert cli(*base, "test", webhook_id)[0] == 0
        (got,) = receiver.wait_for(1, timeout=20)
        assert got.verified, got.error
        code, out = wait_for(
            lambda: (r := cli(*base, "deliveries", webhook_id))[1].count("delivered") and r, 10
        )
        assert "webhook.test" in out


def test_an_agents_notify_call_reaches_the_receiver_as_agent_notification(start_stack, data_dir):
    """The offline model turns a prompt line `notify: ...` into a notify tool call; the run's
    notification goes out as its own signed event."""
    stack = start_stack(data_dir)
    key = create_key(data_dir)
    api = stack.api_url
    with webhook_receiver() as receiver:
        status, created = http(
            "POST", f"{api}/v1/webhooks", key, {"url": receiver.url, "events": ["agent.notification"]}
        )
        assert status == 201, created
        receiver.secret = created["webhook"]["secret"]
        status, task = http(
            "POST",
            f"{api}/v1/tasks",
            key,
            {
                "name": "deploy-watch",
                "prompt": "notify: the deploy is stuck at 40%",
                "schedule": "*/15 * * * *",
            },
        )
        assert status == 201, task
        assert http("POST", f"{api}/v1/tasks/{task['task']['id']}/run", key)[0] == 202
        (got,) = receiver.wait_for(1, timeout=20)
    assert got.verified, got.error
    assert got.json["type"] == "agent.notification"
    note = got.json["data"]["notification"]
    assert note["message"] == "the deploy is stuck at 40%" and note["severity"] == "warning"
