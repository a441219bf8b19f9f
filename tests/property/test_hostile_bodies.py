"""No byte sequence earns a 5xx: hostile bodies (deep nesting, bytes that are not UTF-8, lone
surrogates, numbers past Python's digit limit, random JSON, wrong content types) sent to every
route are answered 2xx or 4xx, errors in the envelope."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.api import ApiClient, HandOver, LambdaContext, http_event

ROUTES = [
    ("POST", "/v1/tasks"),
    ("GET", "/v1/tasks"),
    ("GET", "/v1/tasks/{task}"),
    ("PATCH", "/v1/tasks/{task}"),
    ("DELETE", "/v1/tasks/{task}"),
    ("POST", "/v1/tasks/{task}/run"),
    ("GET", "/v1/tasks/{task}/runs"),
    ("GET", "/v1/memory/core"),
    ("GET", "/v1/memory/core/persona"),
    ("PUT", "/v1/memory/core/persona"),
    ("DELETE", "/v1/memory/core/persona"),
    ("POST", "/v1/memory/archival"),
    ("GET", "/v1/memory/archival"),
    ("DELETE", "/v1/memory/archival/psg_x"),
]
FIELDS = [
    "name",
    "prompt",
    "schedule",
    "description",
    "timezone",
    "value",
    "limit",
    "text",
    "tags",
    "enabled",
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "",
]


def nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def hostile_text(draw: Any) -> str:
    """A JSON-ish body as text: an object of known fields holding something hostile."""
    field = draw(st.sampled_from(FIELDS))
    value = draw(
        st.one_of(
            st.integers(min_value=1, max_value=200_000).map(lambda d: nested(d)),
            st.integers(min_value=4000, max_value=6000).map(lambda n: "1" + "0" * n),
            st.sampled_from(['"x\\ud800y"', '"\\udc00"', '"a\\ud83d"', '"\\u0000"']),
            json_values.map(json.dumps),
        )
    )
    shape = draw(st.sampled_from(["object", "bare", "truncated"]))
    if shape == "bare":
        return value
    body = f'{{"{field}": {value}}}'
    return body[: len(body) // 2] if shape == "truncated" else body


bodies = st.one_of(
    hostile_text().map(lambda t: ("text", t)),
    st.binary(max_size=64).map(lambda b: ("bytes", b)),
    st.sampled_from(
        [("bytes", b'{"name": "\xff\xfe bad"}'), ("bytes", '{"value": "caf\xe9"}'.encode("latin-1"))]
    ),
)


@pytest.fixture
def api(aws) -> tuple[ApiClient, str]:
    client = ApiClient(aws, invoker=HandOver())
    status, body = client.call(
        "POST", "/v1/tasks", body={"name": "n", "prompt": "p", "schedule": "0 9 * * *"}
    )
    assert status == 201
    return client, body["task"]["id"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), body=bodies, content_type=st.sampled_from(CONTENT_TYPES))
def test_no_body_earns_a_server_error(api, route, body, content_type) -> None:
    client, task_id = api
    method, path = route
    path = path.format(task=task_id)
    kind, payload = body
    if kind == "text":
        event = http_event(method, path, raw_body=payload)
    else:
        event = http_event(method, path, raw_body="x")
        event["body"], event["isBase64Encoded"] = base64.b64encode(payload).decode(), True
    event["headers"]["content-type"] = content_type
    response = client.handler(event, LambdaContext())
    status = response["statusCode"]
    assert status < 500, (method, path, content_type, payload, response.get("body"))
    if status >= 400:
        error = json.loads(response["body"])["error"]
        assert error["type"] and error["message"]
