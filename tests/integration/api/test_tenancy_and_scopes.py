"""Across every route: another tenant's task is 404 (never 403), and a key without the route's
scope is 403."""

from __future__ import annotations

import pytest

from support.api import ApiClient

SEED = {"name": "n", "prompt": "p", "schedule": "*/5 * * * *"}


@pytest.fixture
def api(aws):
    return ApiClient(aws)


def task_routes(task_id: str):
    return [
        ("GET", f"/v1/tasks/{task_id}", None, "config.read"),
        ("PATCH", f"/v1/tasks/{task_id}", {"name": "stolen"}, "config.write"),
        ("DELETE", f"/v1/tasks/{task_id}", None, "config.write"),
    ]


def test_another_tenants_task_is_404_on_every_route(api):
    task = api.call("POST", "/v1/tasks", body=SEED, tenant="tenant-a")[1]["task"]
    for method, path, body, _ in task_routes(task["id"]):
        status, answer = api.call(method, path, body=body, tenant="tenant-b")
        assert status == 404, (method, path)
        assert answer["error"]["type"] == "not_found_error"
    listing = api.call("GET", "/v1/tasks", tenant="tenant-b")[1]
    assert listing == {"tasks": [], "total": 0, "next_cursor": None}
    # and nothing changed for its owner
    assert api.call("GET", f"/v1/tasks/{task['id']}", tenant="tenant-a")[1]["task"] == task


def test_a_cursor_cannot_cross_tenants(api):
    for i in range(3):
        api.call("POST", "/v1/tasks", body={**SEED, "name": f"a{i}"}, tenant="tenant-a")
    cursor = api.call("GET", "/v1/tasks", query={"limit": "1"}, tenant="tenant-a")[1]["next_cursor"]
    page = api.call("GET", "/v1/tasks", query={"limit": "10", "cursor": cursor}, tenant="tenant-b")[1]
    assert page["tasks"] == []


@pytest.mark.parametrize(
    "scopes",
    [(), ("config.read",), ("config.write",), ("memory.read", "memory.write")],
)
def test_every_route_needs_its_scope(api, scopes):
    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    routes = [("POST", "/v1/tasks", SEED, "config.write"), ("GET", "/v1/tasks", None, "config.read")]
    routes += task_routes(task["id"])
    for method, path, body, needed in routes:
        status, answer = api.call(method, path, body=body, scopes=scopes)
        if needed in scopes:
            assert status in (200, 201), (method, path, answer)
        else:
            assert status == 403, (method, path, scopes)
            assert answer["error"]["type"] == "permission_error"
            assert needed in answer["error"]["message"]


def test_no_authorizer_context_is_401(api):
    status, answer = api.call("GET", "/v1/tasks", tenant=None)
    assert status == 401 and answer["error"]["type"] == "authentication_error"
