"""/v1/webhooks through the api handler: the secret shown once, tenancy, validation, and the
subscription summary the executor reads."""

from __future__ import annotations

import logging
from contextlib import contextmanager

import pytest

from heartbeat.dal.webhooks import HOOK_ATTR_PREFIX
from support.api import ApiClient


def meta_hooks(world) -> dict:
    item = world.dynamodb.get_item(
        TableName=world.env["TASKS_TABLE"], Key={"pk": {"S": "tenant-a"}, "sk": {"S": "#meta"}}
    ).get("Item", {})
    return {k: v for k, v in item.items() if k.startswith(HOOK_ATTR_PREFIX)}


def test_create_answers_the_secret_once_and_never_again(world, caplog):
    caplog.set_level(logging.INFO)  # the deployed log level (botocore logs request bodies at DEBUG)
    created = world.create_webhook("https://hooks.example.com/x", events=["run.failed", "task.failing"])
    assert created["id"].startswith("wh_") and created["secret"].startswith("whsec_")
    assert created["events"] == ["run.failed", "task.failing"] and created["enabled"] is True
    secret = created["secret"]
    for path in ("/v1/webhooks", f"/v1/webhooks/{created['id']}"):
        status, answer = world.api.call("GET", path)
        assert status == 200 and secret not in str(answer) and "secret" not in str(answer)
    status, patched = world.api.call("PATCH", f"/v1/webhooks/{created['id']}", body={"events": ["*"]})
    assert status == 200 and "secret" not in patched["webhook"]
    assert secret not in caplog.text
    stored = world.dynamodb.scan(TableName=world.env["WEBHOOKS_TABLE"])["Items"]
    assert secret not in str(stored)  # only Secrets Manager holds it


def test_another_tenants_webhook_is_not_found_through_every_route(world):
    created = world.create_webhook("https://hooks.example.com/x")
    path = f"/v1/webhooks/{created['id']}"
    for method, suffix, body in (
        ("GET", "", None),
        ("PATCH", "", {"enabled": False}),
        ("DELETE", "", None),
        ("POST", "/test", None),
        ("GET", "/deliveries", None),
    ):
        status, answer = world.api.call(method, path + suffix, body=body, tenant="tenant-b")
        assert status == 404, (method, suffix, answer)
    status, listed = world.api.call("GET", "/v1/webhooks", tenant="tenant-b")
    assert listed == {"webhooks": []}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"url": "https://x.example.com", "events": ["run.exploded"]}, "events"),
        ({"url": "https://x.example.com", "events": []}, "events"),
        ({"url": "https://x.example.com", "events": ["*", "run.failed"]}, "events"),
        ({"url": "https://x.example.com", "format": "teams"}, "format"),
        ({"url": "https://x.example.com", "task_ids": ["nope"]}, "task_ids"),
        ({"url": "https://x.example.com", "task_ids": [f"cron_{n:026d}" for n in range(51)]}, "task_ids"),
        ({"url": "ftp://x.example.com/hook"}, "url"),
        ({"url": "https://user:pw@x.example.com/hook"}, "url"),
        ({"events": ["*"]}, "url"),
    ],
)
def test_bad_webhooks_are_a_400_naming_the_field(world, body, param):
    status, answer = world.api.call("POST", "/v1/webhooks", body=body)
    assert status == 400, answer
    assert answer["error"]["param"].split(".")[0] == param, answer


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/hook", "http://169.254.169.254/latest/meta-data", "http://10.0.0.8/", "http://[::1]/"],
)
def test_a_private_address_is_refused_where_the_deployment_refuses_them(world, url):
    strict = ApiClient(world, ALLOW_PRIVATE_NETWORK_TARGETS="false")
    status, answer = strict.call("POST", "/v1/webhooks", body={"url": url})
    assert status == 400 and answer["error"]["param"] == "url", answer


def test_the_tenants_subscription_summary_follows_enable_disable_and_delete(world):
    created = world.create_webhook("https://hooks.example.com/x", events=["run.failed"])
    assert list(meta_hooks(world)) == [HOOK_ATTR_PREFIX + created["id"]]
    world.api.call("PATCH", f"/v1/webhooks/{created['id']}", body={"enabled": False})
    assert meta_hooks(world) == {}
    world.api.call("PATCH", f"/v1/webhooks/{created['id']}", body={"enabled": True})
    assert len(meta_hooks(world)) == 1
    status, answer = world.api.call("DELETE", f"/v1/webhooks/{created['id']}")
    assert (status, answer) == (200, {"ok": True, "id": created["id"]})
    assert meta_hooks(world) == {}
    assert world.api.call("GET", f"/v1/webhooks/{created['id']}")[0] == 404
    names = [s["Name"] for s in world.secretsmanager.list_secrets()["SecretList"]]
    assert not any(created["id"] in n for n in names)


@contextmanager
def answer_lost(client, operation: str):
    """The call takes effect, then its answer is lost (a read timeout), once."""
    from botocore.exceptions import ReadTimeoutError

    calls = {"n": 0}

    def lose(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ReadTimeoutError(endpoint_url="dynamodb")

    event = f"after-call.dynamodb.{operation}"
    client.meta.events.register(event, lose)
    try:
        yield
    finally:
        client.meta.events.unregister(event, lose)
    assert calls["n"] >= 1, f"{operation} was not called"


def test_a_lost_answer_to_the_create_keeps_the_webhook_and_its_secret(world):
    """The transaction took effect but its answer was lost (a read timeout): the endpoint is read
    back and kept, with the secret the caller is given."""
    with answer_lost(world.dynamodb, "TransactWriteItems"):
        status, answer = world.api.call("POST", "/v1/webhooks", body={"url": "https://hooks.example.com/x"})
    assert status == 201, answer
    assert world.api.call("GET", f"/v1/webhooks/{answer['webhook']['id']}")[0] == 200
    assert len(world.secretsmanager.list_secrets()["SecretList"]) == 1
    assert len(meta_hooks(world)) == 1


def test_a_lost_answer_to_a_patch_answers_the_change_that_was_made(world):
    created = world.create_webhook("https://hooks.example.com/x")
    with answer_lost(world.dynamodb, "TransactWriteItems"):
        status, answer = world.api.call("PATCH", f"/v1/webhooks/{created['id']}", body={"enabled": False})
    assert status == 200 and answer["webhook"]["enabled"] is False, answer
    assert meta_hooks(world) == {}  # and the executor's summary says nobody listens


def test_a_lost_answer_to_a_delete_still_removes_the_secret_and_answers_ok(world):
    created = world.create_webhook("https://hooks.example.com/x")
    with answer_lost(world.dynamodb, "TransactWriteItems"):
        status, answer = world.api.call("DELETE", f"/v1/webhooks/{created['id']}")
    assert (status, answer) == (200, {"ok": True, "id": created["id"]})
    assert world.secretsmanager.list_secrets()["SecretList"] == []
    assert world.api.call("GET", f"/v1/webhooks/{created['id']}")[0] == 404


def test_deliveries_page_newest_first(world):
    created = world.create_webhook("https://hooks.example.com/x")
    status, answer = world.api.call("GET", f"/v1/webhooks/{created['id']}/deliveries", query={"limit": "5"})
    assert (status, answer) == (200, {"deliveries": [], "next_cursor": None})


def create_task(world, tenant: str = "tenant-a") -> str:
    body = {"name": "t", "prompt": "p", "schedule": "0 9 * * *"}
    status, answer = world.api.call("POST", "/v1/tasks", body=body, tenant=tenant)
    assert status == 201, answer
    return str(answer["task"]["id"])


UNKNOWN_TASK = "cron_01jd0000000000000000000000"


def test_a_webhook_naming_a_task_that_does_not_exist_is_a_400_and_leaves_nothing_behind(world):
    status, answer = world.api.call(
        "POST", "/v1/webhooks", body={"url": "https://x.example.com", "task_ids": [UNKNOWN_TASK]}
    )
    assert status == 400 and answer["error"]["param"] == "task_ids", answer
    assert UNKNOWN_TASK in answer["error"]["message"]
    assert world.api.call("GET", "/v1/webhooks")[1] == {"webhooks": []}
    assert meta_hooks(world) == {}
    assert world.secretsmanager.list_secrets()["SecretList"] == []


def test_a_webhook_may_name_its_own_tenants_tasks_but_not_another_tenants(world):
    mine = create_task(world)
    created = world.create_webhook("https://x.example.com", task_ids=[mine])
    assert created["task_ids"] == [mine]
    status, answer = world.api.call(
        "POST", "/v1/webhooks", body={"url": "https://x.example.com", "task_ids": [mine]}, tenant="tenant-b"
    )
    assert status == 400 and mine in answer["error"]["message"], answer


def test_a_patch_checks_only_the_tasks_it_adds(world):
    first, second = create_task(world), create_task(world)
    created = world.create_webhook("https://x.example.com", task_ids=[first])
    path = f"/v1/webhooks/{created['id']}"
    status, answer = world.api.call("PATCH", path, body={"task_ids": [first, UNKNOWN_TASK]})
    assert status == 400 and UNKNOWN_TASK in answer["error"]["message"], answer
    assert world.api.call("GET", path)[1]["webhook"]["task_ids"] == [first]  # unchanged
    assert world.api.call("DELETE", f"/v1/tasks/{first}")[0] == 200
    # The task it already names has gone since: other changes still go through.
    status, answer = world.api.call("PATCH", path, body={"task_ids": [first, second]})
    assert status == 200 and answer["webhook"]["task_ids"] == sorted([first, second]), answer
    status, answer = world.api.call("PATCH", path, body={"url": "https://y.example.com"})
    assert status == 200, answer
