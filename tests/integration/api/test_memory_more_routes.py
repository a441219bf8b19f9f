"""Deleting a core block, listing every archival passage page by page, and the same text stored
again answering the passage that holds it."""

from __future__ import annotations

from heartbeat.memory.store import MemoryStore
from support.api import ApiClient


def test_a_core_block_is_deleted_once_then_404(aws):
    api = ApiClient(aws)
    assert api.call("PUT", "/v1/memory/core/persona", body={"value": "Be brief."})[0] == 200
    assert api.call("DELETE", "/v1/memory/core/persona", tenant="tenant-b")[0] == 404
    assert api.call("DELETE", "/v1/memory/core/persona") == (200, {"ok": True, "label": "persona"})
    assert api.call("GET", "/v1/memory/core/persona")[0] == 404
    assert api.call("DELETE", "/v1/memory/core/persona")[0] == 404
    assert api.call("DELETE", "/v1/memory/core/persona", scopes=("memory.read",))[0] == 403


def test_the_listing_reaches_every_passage_once_newest_first(aws):
    api = ApiClient(aws)
    ids = MemoryStore(aws.dynamodb, aws.env["MEMORY_TABLE"], "tenant-a").import_passages(
        (f"note number {n}", None) for n in range(23)
    )
    pages, cursor = [], None
    while True:
        query = {"limit": "10", **({"cursor": cursor} if cursor else {})}
        status, page = api.call("GET", "/v1/memory/archival", query=query)
        assert status == 200, page
        pages.append([p["id"] for p in page["passages"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [10, 10, 3]
    listed = [i for p in pages for i in p]
    assert listed == sorted(ids, reverse=True)


def test_a_cursor_that_was_not_given_or_beside_a_query_is_400(aws):
    api = ApiClient(aws)
    status, answer = api.call("GET", "/v1/memory/archival", query={"cursor": "nope"})
    assert status == 400 and answer["error"]["param"] == "cursor"
    status, answer = api.call("GET", "/v1/memory/archival", query={"query": "x", "cursor": "mem_x"})
    assert status == 400 and answer["error"]["param"] == "cursor"


def test_the_same_text_again_answers_the_passage_that_holds_it(aws):
    api = ApiClient(aws)
    body = {"text": "The failover runbook is in the ops wiki."}
    status, first = api.call("POST", "/v1/memory/archival", body=body)
    assert status == 201
    status, again = api.call("POST", "/v1/memory/archival", body=body)
    assert status == 200 and again["existing"] is True
    assert again["passage"]["id"] == first["passage"]["id"]
    assert len(api.call("GET", "/v1/memory/archival")[1]["passages"]) == 1

    # Another tenant, or the text once deleted, stores a passage of its own.
    assert api.call("POST", "/v1/memory/archival", body=body, tenant="tenant-b")[0] == 201
    assert api.call("DELETE", f"/v1/memory/archival/{first['passage']['id']}")[0] == 200
    status, fresh = api.call("POST", "/v1/memory/archival", body=body)
    assert status == 201 and fresh["passage"]["id"] != first["passage"]["id"]


def test_a_task_storing_the_same_text_on_every_run_keeps_one_passage(aws):
    store = MemoryStore(aws.dynamodb, aws.env["MEMORY_TABLE"], "tenant-a")
    first = store.insert_passage("deploys freeze on Fridays", task_id="cron_a", run_id="run_1")
    again = store.insert_passage("deploys freeze on Fridays", task_id="cron_a", run_id="run_2")
    other = store.insert_passage("deploys freeze on Fridays", task_id="cron_b", run_id="run_3")
    assert again.existing and again.id == first.id and again.run_id == "run_1"
    assert not other.existing and other.id != first.id
    assert len(store.list_passages(50)[0]) == 2
