"""The local API Gateway: routes from template.yaml, the payload 2.0 event, the authorizer's
semantics and cache, and the function's answer mapped to HTTP."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from heartbeat_cli.local.clock import ManualClock
from heartbeat_cli.local.gateway import (
    AuthorizerSettings,
    Gateway,
    HttpRequest,
    Route,
    authorizer_from_template,
    integration_response,
    routes_from_template,
)
from heartbeat_cli.local.resources import load_template

ALLOW = {"isAuthorized": True, "context": {"tenant_id": "acme", "scopes": "config.read", "key_id": "key_1"}}


class Recorder:
    """A function that remembers its events and answers what it is told to."""

    def __init__(self, answer: Any = None, error: Exception | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.answer = answer
        self.error = error

    def __call__(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        if self.error is not None:
            raise self.error
        return self.answer


class Unauthorized(Exception):  # noqa: N818 - the name API Gateway reacts to is the message
    def __init__(self) -> None:
        super().__init__("Unauthorized")


def make_gateway(authorizer: Recorder, api: Recorder, clock: ManualClock | None = None) -> Gateway:
    template = load_template()
    return Gateway(
        routes_from_template(template),
        authorizer,
        api,
        clock or ManualClock(datetime(2026, 11, 22, 12, tzinfo=UTC)),
        authorizer_from_template(template),
    )


def request(
    method: str, target: str, key: str | None = "hb_test_k", body: bytes = b"", **headers: str
) -> HttpRequest:
    pairs = [(k.replace("_", "-"), v) for k, v in headers.items()]
    if key is not None:
        pairs.append(("Authorization", f"Bearer {key}"))
    return HttpRequest(method, target, pairs, body)


def test_an_authorizer_api_gateway_may_not_invoke_is_refused_as_aws_would() -> None:
    import copy

    template = copy.deepcopy(load_template())
    (api,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::HttpApi"]
    del api["Properties"]["Auth"]["Authorizers"]["KeyAuthorizer"]["EnableFunctionDefaultPermissions"]
    with pytest.raises(ValueError, match="may not invoke its authorizer KeyAuthorizer"):
        authorizer_from_template(template)


def test_routes_are_the_templates_http_api_events() -> None:
    keys = {r.key for r in routes_from_template(load_template())}
    assert {"POST /v1/tasks", "GET /v1/tasks/{task_id}", "POST /v1/tasks/{task_id}/run"} <= keys
    assert authorizer_from_template(load_template()) == AuthorizerSettings(
        ("authorization",), timedelta(seconds=300), True
    )


def test_literal_segments_win_over_parameters() -> None:
    gateway = Gateway(
        [Route("GET", "/v1/items/{id}"), Route("GET", "/v1/items/special")],
        Recorder(ALLOW),
        api := Recorder({"statusCode": 200, "body": "ok"}),
        ManualClock(datetime.now(UTC)),
    )
    gateway.handle(request("GET", "/v1/items/special"))
    gateway.handle(request("GET", "/v1/items/abc%20d"))
    assert [e["routeKey"] for e in api.events] == ["GET /v1/items/special", "GET /v1/items/{id}"]
    assert api.events[1]["pathParameters"] == {"id": "abc d"}


def test_the_api_gets_a_payload_2_event_with_the_authorizers_context() -> None:
    api = Recorder(
        {"statusCode": 201, "headers": {"Content-Type": "application/json"}, "body": '{"ok": true}'}
    )
    gateway = make_gateway(Recorder(ALLOW), api)
    response = gateway.handle(
        request(
            "PATCH",
            "/v1/tasks/cron_1?a=1&a=2&b=",
            body=b'{"name": "x"}',
            Content_Type="application/json",
            Cookie="c1=v1; c2=v2",
            X_Thing="one",
        )
    )
    assert response.status == 201 and json.loads(response.body) == {"ok": True}
    event = api.events[0]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "PATCH /v1/tasks/{task_id}"
    assert event["rawPath"] == "/v1/tasks/cron_1"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["pathParameters"] == {"task_id": "cron_1"}
    assert event["headers"]["x-thing"] == "one" and "cookie" not in event["headers"]
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["requestContext"]["http"]["method"] == "PATCH"
    assert event["requestContext"]["authorizer"] == {"lambda": ALLOW["context"]}
    assert event["body"] == '{"name": "x"}' and event["isBase64Encoded"] is False


def test_a_binary_body_arrives_base64_encoded() -> None:
    api = Recorder({"statusCode": 200})
    make_gateway(Recorder(ALLOW), api).handle(
        request("POST", "/v1/tasks", body=b"\xff\x00", Content_Type="application/octet-stream")
    )
    assert api.events[0]["isBase64Encoded"] is True
    assert base64.b64decode(api.events[0]["body"]) == b"\xff\x00"


def test_a_missing_authorization_header_is_401_without_calling_the_authorizer() -> None:
    authorizer, api = Recorder(ALLOW), Recorder({"statusCode": 200})
    response = make_gateway(authorizer, api).handle(request("GET", "/v1/tasks", key=None))
    assert (response.status, json.loads(response.body)) == (401, {"message": "Unauthorized"})
    assert authorizer.events == [] and api.events == []


def test_unauthorized_from_the_authorizer_is_401_and_other_errors_500() -> None:
    api = Recorder({"statusCode": 200})
    response = make_gateway(Recorder(error=Unauthorized()), api).handle(request("GET", "/v1/tasks"))
    assert (response.status, json.loads(response.body)) == (401, {"message": "Unauthorized"})
    response = make_gateway(Recorder(error=RuntimeError("table gone")), api).handle(
        request("GET", "/v1/tasks")
    )
    assert (response.status, json.loads(response.body)) == (500, {"message": "Internal Server Error"})
    response = make_gateway(Recorder({"isAuthorized": False}), api).handle(request("GET", "/v1/tasks"))
    assert (response.status, json.loads(response.body)) == (403, {"message": "Forbidden"})
    assert api.events == []


def test_the_authorizer_answer_is_cached_per_header_for_reauthorize_every() -> None:
    clock = ManualClock(datetime(2026, 11, 22, 12, tzinfo=UTC))
    authorizer = Recorder(ALLOW)
    gateway = make_gateway(authorizer, Recorder({"statusCode": 200}), clock)
    gateway.handle(request("GET", "/v1/tasks"))
    gateway.handle(request("GET", "/v1/tasks/cron_1"))
    assert len(authorizer.events) == 1
    assert authorizer.events[0]["type"] == "REQUEST"
    assert authorizer.events[0]["identitySource"] == ["Bearer hb_test_k"]
    gateway.handle(request("GET", "/v1/tasks", key="hb_test_other"))
    assert len(authorizer.events) == 2
    clock.advance(timedelta(seconds=301))
    gateway.handle(request("GET", "/v1/tasks"))
    assert len(authorizer.events) == 3


def test_an_unknown_route_or_method_is_api_gateways_404() -> None:
    authorizer = Recorder(ALLOW)
    gateway = make_gateway(authorizer, Recorder({"statusCode": 200}))
    for method, path in (("GET", "/v2/nothing"), ("PUT", "/v1/tasks"), ("GET", "/v1/tasks/")):
        response = gateway.handle(request(method, path))
        assert (response.status, json.loads(response.body)) == (404, {"message": "Not Found"})
    assert authorizer.events == []


def test_a_failing_api_function_is_500() -> None:
    response = make_gateway(Recorder(ALLOW), Recorder(error=KeyError("bug"))).handle(
        request("GET", "/v1/tasks")
    )
    assert (response.status, json.loads(response.body)) == (500, {"message": "Internal Server Error"})


@pytest.mark.parametrize(
    ("result", "status", "body", "content_type"),
    [
        ({"statusCode": 204}, 204, b"", "application/json"),
        (
            {
                "statusCode": 200,
                "body": base64.b64encode(b"\x01").decode(),
                "isBase64Encoded": True,
                "headers": {"Content-Type": "application/octet-stream"},
            },
            200,
            b"\x01",
            "application/octet-stream",
        ),
        ({"hello": "world"}, 200, b'{"hello": "world"}', "application/json"),
    ],
)
def test_function_answers_map_to_http(result: Any, status: int, body: bytes, content_type: str) -> None:
    response = integration_response(result)
    assert (response.status, response.body) == (status, body)
    assert dict(response.headers)["content-type"] == content_type


def test_cookies_in_the_answer_become_set_cookie_headers() -> None:
    response = integration_response({"statusCode": 200, "cookies": ["a=1", "b=2"]})
    assert [v for k, v in response.headers if k == "set-cookie"] == ["a=1", "b=2"]
