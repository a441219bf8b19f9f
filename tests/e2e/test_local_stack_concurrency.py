"""Many callers at once: the local stack's simulated api containers answer each request from its
own resolver, so concurrent requests of two tenants never fail and never see each other's data."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from .conftest import create_key, http

pytestmark = pytest.mark.e2e

THREADS = 10
ROUNDS = 6


def test_concurrent_requests_of_two_tenants_get_their_own_answers_and_no_5xx(
    data_dir: Path, start_stack: Any
) -> None:
    keys = {tenant: create_key(data_dir, tenant=tenant) for tenant in ("acme", "globex")}
    url = start_stack(data_dir).api_url
    own: dict[str, str] = {}
    for tenant, key in keys.items():
        status, created = http(
            "POST",
            f"{url}/v1/tasks",
            key,
            {"name": f"{tenant}-task", "prompt": "Summarise.", "schedule": "0 18 * * *"},
        )
        assert status == 201, created
        own[tenant] = created["task"]["id"]
    start = threading.Barrier(THREADS)
    problems: list[str] = []

    def caller(n: int) -> None:
        tenant = ("acme", "globex")[n % 2]
        other = ("globex", "acme")[n % 2]
        key = keys[tenant]
        start.wait()
        for _ in range(ROUNDS):
            status, listed = http("GET", f"{url}/v1/tasks", key)
            if status != 200 or [t["id"] for t in listed["tasks"]] != [own[tenant]]:
                problems.append(f"{tenant} listed {status} {listed}")
            status, got = http("GET", f"{url}/v1/tasks/{own[other]}", key)
            if status != 404:
                problems.append(f"{tenant} read {other}'s task: {status} {got}")
            label = f"note-{n}"
            status, put = http("PUT", f"{url}/v1/memory/core/{label}", key, {"value": tenant})
            if status != 200:
                problems.append(f"{tenant} put a block: {status} {put}")
            status, blocks = http("GET", f"{url}/v1/memory/core", key)
            values = {b["value"] for b in blocks["blocks"]} if status == 200 else {status}
            if values != {tenant}:
                problems.append(f"{tenant} read blocks {values}")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(caller, range(THREADS)))
    assert problems == []
