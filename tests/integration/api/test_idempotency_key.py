"""The Idempotency-Key header on POST /v1/tasks and POST /v1/tasks/{id}/run: a retry with the same
key answers the first answer and does no new work."""

from __future__ import annotations

import json
from typing import Any

import pytest

from support.api import ApiClient, HandOver, LambdaContext, http_event

SEED = {"name": "daily", "prompt": "Summarise the day.", "schedule": "0 18 * * *"}


class Client(ApiClient):
    def send(self, method: str, path: str, key: str | None, *, tenant: str = "tenant-a", **kw: Any):
        event = http_event(method, path, tenant=tenant, **kw)
        if key is not None:
            event["headers"]["idempotency-key"] = key
        response = self.handler(event, LambdaContext())
        return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def api(aws) -> Client:
    return Client(aws, invoker=HandOver())


def total(api: Client, tenant: str = "tenant-a") -> int:
    return int(api.send("GET", "/v1/tasks", None, tenant=tenant)[1]["total"])


def test_a_create_sent_twice_with_one_key_creates_one_task_and_answers_the_first_answer(api) -> None:
    first = api.send("POST", "/v1/tasks", "key-1", body=SEED)
    again = api.send("POST", "/v1/tasks", "key-1", body=SEED)
    assert first[0] == 201 and again == first
    assert total(api) == 1


def test_the_same_key_with_another_body_is_a_422_that_says_so(api) -> None:
    api.send("POST", "/v1/tasks", "key-1", body=SEED)
    status, body = api.send("POST", "/v1/tasks", "key-1", body={**SEED, "name": "other"})
    assert status == 422 and body["error"]["type"] == "idempotency_error"
    assert body["error"]["param"] == "Idempotency-Key" and "different request" in body["error"]["message"]
    assert total(api) == 1


def test_keys_are_scoped_per_tenant(api) -> None:
    a = api.send("POST", "/v1/tasks", "shared", body=SEED, tenant="tenant-a")
    b = api.send("POST", "/v1/tasks", "shared", body=SEED, tenant="tenant-b")
    assert a[0] == b[0] == 201 and a[1]["task"]["id"] != b[1]["task"]["id"]
    assert total(api, "tenant-a") == total(api, "tenant-b") == 1


def test_without_a_key_each_create_is_new(api) -> None:
    api.send("POST", "/v1/tasks", None, body=SEED)
    api.send("POST", "/v1/tasks", None, body=SEED)
    assert total(api) == 2


def test_a_failed_request_is_not_remembered(api) -> None:
    status, _ = api.send("POST", "/v1/tasks", "key-1", body={**SEED, "schedule": "not cron"})
    assert status == 400
    assert api.send("POST", "/v1/tasks", "key-1", body=SEED)[0] == 201


def test_run_now_sent_twice_with_one_key_starts_one_run(api) -> None:
    task = api.send("POST", "/v1/tasks", None, body=SEED)[1]["task"]
    first = api.send("POST", f"/v1/tasks/{task['id']}/run", "run-1")
    again = api.send("POST", f"/v1/tasks/{task['id']}/run", "run-1")
    assert first[0] == 202 and again == first
    runs = api.send("GET", f"/v1/tasks/{task['id']}/runs", None)[1]["runs"]
    assert [r["id"] for r in runs] == [first[1]["run"]["id"]]
    assert [e["run_id"] for e in api.invoker.events] == [first[1]["run"]["id"]]


def test_a_run_key_reused_for_another_task_is_a_422(api) -> None:
    one = api.send("POST", "/v1/tasks", None, body=SEED)[1]["task"]
    two = api.send("POST", "/v1/tasks", None, body=SEED)[1]["task"]
    api.send("POST", f"/v1/tasks/{one['id']}/run", "run-1")
    assert api.send("POST", f"/v1/tasks/{two['id']}/run", "run-1")[0] == 422


def test_a_key_that_is_not_printable_ascii_is_a_400(api) -> None:
    status, body = api.send("POST", "/v1/tasks", "has space", body=SEED)
    assert status == 400 and body["error"]["param"] == "Idempotency-Key"
    assert total(api) == 0
