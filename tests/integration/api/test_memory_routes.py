"""/v1/memory through the api handler against moto: the answers a client sees."""

from __future__ import annotations

from typing import Any

import pytest

from support.api import ApiClient


@pytest.fixture
def api(aws: Any) -> ApiClient:
    return ApiClient(aws)


def test_core_blocks_round_trip(api: ApiClient) -> None:
    status, body = api.call("PUT", "/v1/memory/core/human", body={"value": "Ada", "limit": 100})
    assert status == 200
    assert body["block"]["label"] == "human" and body["block"]["limit"] == 100
    status, body = api.call("GET", "/v1/memory/core/human")
    assert (status, body["block"]["value"]) == (200, "Ada")
    status, body = api.call("GET", "/v1/memory/core")
    assert status == 200 and [b["label"] for b in body["blocks"]] == ["human"]
    status, body = api.call("GET", "/v1/memory/core/persona")
    assert status == 404 and body["error"]["type"] == "not_found_error"


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/memory/core/human", {"value": "x" * 11, "limit": 10}, "value"),
        ("/v1/memory/core/human", {"value": "x", "limit": 50000}, "limit"),
        ("/v1/memory/core/Bad%20Label", {"value": "x"}, "label"),
        ("/v1/memory/core/human", {}, "value"),
        ("/v1/memory/core/human", {"value": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_core_writes_are_400_naming_the_field(api: ApiClient, path: str, body: Any, param: str) -> None:
    status, answer = api.call("PUT", path, body=body)
    assert status == 400
    assert answer["error"]["type"] == "invalid_request_error"
    assert answer["error"]["param"] == param


def test_archival_insert_search_delete(api: ApiClient) -> None:
    status, body = api.call(
        "POST", "/v1/memory/archival", body={"text": "Deploys happen on Tuesdays", "tags": ["ops"]}
    )
    assert status == 201
    passage = body["passage"]
    assert passage["id"].startswith("mem_") and passage["run_id"] is None and passage["tags"] == ["ops"]
    api.call("POST", "/v1/memory/archival", body={"text": "Lunch is at noon"})

    status, body = api.call("GET", "/v1/memory/archival", query={"query": "when do deploys happen"})
    assert status == 200
    assert [p["id"] for p in body["passages"]] == [passage["id"]]
    assert body["passages"][0]["score"] > 0
    status, body = api.call("GET", "/v1/memory/archival", query={"limit": "5"})
    assert [p["text"] for p in body["passages"]] == ["Lunch is at noon", "Deploys happen on Tuesdays"]
    status, body = api.call("GET", "/v1/memory/archival", query={"tag": "ops"})
    assert [p["id"] for p in body["passages"]] == [passage["id"]]

    status, body = api.call("DELETE", f"/v1/memory/archival/{passage['id']}")
    assert (status, body) == (200, {"ok": True, "id": passage["id"]})
    status, body = api.call("GET", "/v1/memory/archival", query={"query": "deploys"})
    assert body["passages"] == []
    status, _ = api.call("DELETE", f"/v1/memory/archival/{passage['id']}")
    assert status == 404


@pytest.mark.parametrize(
    ("method", "kwargs", "param"),
    [
        ("POST", {"body": {"text": "x" * (16 * 1024 + 1)}}, "text"),
        ("POST", {"body": {"text": "ok", "tags": [f"t{i}" for i in range(11)]}}, "tags"),
        ("POST", {"body": {}}, "text"),
        ("GET", {"query": {"query": "w" * 1025}}, "query"),
        ("GET", {"query": {"query": "x", "limit": "51"}}, "limit"),
    ],
)
def test_archival_limits_are_400_naming_the_field(
    api: ApiClient, method: str, kwargs: Any, param: str
) -> None:
    status, body = api.call(method, "/v1/memory/archival", **kwargs)
    assert status == 400
    assert body["error"]["param"] == param


def test_scopes(api: ApiClient) -> None:
    read_only = ("memory.read",)
    status, _ = api.call("PUT", "/v1/memory/core/human", body={"value": "x"}, scopes=read_only)
    assert status == 403
    status, _ = api.call(
        "POST", "/v1/memory/archival", body={"text": "x"}, scopes=("config.read", "config.write")
    )
    assert status == 403
    status, _ = api.call("GET", "/v1/memory/core", scopes=("memory.write",))
    assert status == 403
    status, _ = api.call("GET", "/v1/memory/archival", scopes=read_only)
    assert status == 200


def test_another_tenant_sees_nothing(api: ApiClient) -> None:
    api.call("PUT", "/v1/memory/core/secret", body={"value": "A's"})
    _, body = api.call("POST", "/v1/memory/archival", body={"text": "bluebird launch code"})
    pid = body["passage"]["id"]
    b = {"tenant": "tenant-b"}
    assert api.call("GET", "/v1/memory/core", **b)[1] == {"blocks": []}
    assert api.call("GET", "/v1/memory/core/secret", **b)[0] == 404
    assert api.call("GET", "/v1/memory/archival", query={"query": "bluebird"}, **b)[1] == {
        "passages": [],
        "next_cursor": None,
        "exhaustive": True,
    }
    assert api.call("GET", "/v1/memory/archival", **b)[1] == {
        "passages": [],
        "next_cursor": None,
        "exhaustive": True,
    }
    assert api.call("DELETE", f"/v1/memory/archival/{pid}", **b)[0] == 404
    assert api.call("PUT", "/v1/memory/core/secret", body={"value": "B's"}, **b)[0] == 200
    assert api.call("GET", "/v1/memory/core/secret")[1]["block"]["value"] == "A's"
    assert len(api.call("GET", "/v1/memory/archival", query={"query": "bluebird"})[1]["passages"]) == 1
