"""Hostile requests against the local stack over HTTP: API Gateway's answers, never a 5xx."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from e2e.conftest import create_key

pytestmark = pytest.mark.e2e


def send(
    url: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    parsed = urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        connection.close()


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND"])
def test_a_method_the_api_lacks_is_api_gateways_404(data_dir: Path, start_stack: Any, method: str) -> None:
    url = start_stack(data_dir).api_url
    assert send(url, method, "/v1/tasks") == (404, {"message": "Not Found"})


def test_bodies_that_are_not_utf8_json_are_400_and_415_in_the_envelope(
    data_dir: Path, start_stack: Any
) -> None:
    key = create_key(data_dir)
    url = start_stack(data_dir).api_url
    auth = {"authorization": f"Bearer {key}"}
    status, body = send(
        url, "POST", "/v1/tasks", b'{"name": "\xff\xfe bad"}', {**auth, "content-type": "application/json"}
    )
    assert status == 400 and "not UTF-8 (byte 0xff" in body["error"]["message"]
    status, body = send(
        url,
        "PUT",
        "/v1/memory/core/persona",
        '{"value": "caf\xe9"}'.encode("latin-1"),
        {**auth, "content-type": "application/json"},
    )
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    seed = json.dumps({"name": "n", "prompt": "p", "schedule": "0 9 * * *"}).encode()
    status, body = send(url, "POST", "/v1/tasks", seed, {**auth, "content-type": "text/plain"})
    assert status == 415 and "application/json" in body["error"]["message"]
    status, body = send(
        url,
        "POST",
        "/v1/tasks",
        b'{"description": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        {**auth, "content-type": "application/json"},
    )
    assert status == 400 and "nests deeper" in body["error"]["message"]
