"""GET /v1/openapi.json, /docs and /console from the api handler: a document a client can be
generated from, that says what each route needs and answers, and a console page locked down."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from support.api import ROOT, ApiClient, LambdaContext, http_event

DOCUMENT_ONLY = {"/v1/openapi.json", "/docs", "/console", "/console/{asset}"}


@pytest.fixture
def api(aws):
    return ApiClient(aws)


def raw(api: ApiClient, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    return api.handler(http_event(method, path, tenant=None, **kwargs), LambdaContext())


def template_routes() -> set[tuple[str, str, bool]]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)
    events = template["Resources"]["ApiFunction"]["Properties"]["Events"]
    return {
        (e["Properties"]["Method"].lower(), e["Properties"]["Path"], "Auth" not in e["Properties"])
        for e in events.values()
    }


def test_the_document_is_openapi_3_1_with_every_keyed_route_of_the_template(api):
    status, doc = api.call("GET", "/v1/openapi.json", tenant=None)
    assert status == 200
    assert doc["openapi"].startswith("3.1")
    documented = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    keyed = {(m, p) for m, p, authorized in template_routes() if authorized}
    assert documented == keyed
    # the pages themselves are served without the authorizer and stay out of the document
    assert {p for _, p, authorized in template_routes() if not authorized} == DOCUMENT_ONLY


def test_every_operation_names_its_scope_its_answer_and_the_error_envelope(api):
    doc = api.call("GET", "/v1/openapi.json", tenant=None)[1]
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "hb_live_... or hb_test_...",
        "description": "A Heartbeat API key; its scopes are listed on each operation.",
    }
    text = json.dumps(doc)
    assert "422" not in re.findall(r'"(\d{3})"', text) and "HTTPValidationError" not in text
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            [requirement] = op["security"]
            [scope] = requirement["bearer"]
            assert f"`{scope}` scope" in op["description"], (method, path)
            successes = [code for code in op["responses"] if code.startswith("2")]
            assert successes, (method, path)
            # one answer model, whichever success it is (a stored-already passage is a 200, not a 201)
            models = {op["responses"][c]["content"]["application/json"]["schema"]["$ref"] for c in successes}
            assert len(models) == 1, (method, path)
            for code, answer in op["responses"].items():
                if code.startswith(("4", "5")):
                    schema = json.dumps(answer["content"]["application/json"]["schema"])
                    expected = "GatewayMessage" if code == "401" else "ErrorEnvelope"
                    assert expected in schema, (method, path, code)
            assert {"401", "403", "500"} <= set(op["responses"]), (method, path)
    envelope = doc["components"]["schemas"]["ErrorDetail"]
    assert set(envelope["required"]) == {"type", "message", "param"}


def test_each_documented_scope_is_the_scope_the_route_enforces(api):
    """A key with every scope but the documented one is refused (403); with only it, it is not."""
    doc = api.call("GET", "/v1/openapi.json", tenant=None)[1]
    all_scopes = {"config.read", "config.write", "memory.read", "memory.write"}
    bodies = {
        ("post", "/v1/tasks"): {"name": "n", "prompt": "p", "schedule": "0 9 * * *"},
        ("patch", "/v1/tasks/{task_id}"): {"name": "m"},
        ("put", "/v1/memory/core/{label}"): {"value": "v"},
        ("post", "/v1/memory/archival"): {"text": "t"},
        ("post", "/v1/webhooks"): {"url": "https://hooks.example.com/in", "events": ["*"]},
        ("patch", "/v1/webhooks/{webhook_id}"): {"enabled": False},
        ("post", "/v1/mcp-servers"): {"name": "docs", "url": "https://mcp.example.com/mcp"},
    }
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            [scope] = op["security"][0]["bearer"]
            concrete = re.sub(r"\{[^}]+\}", "missing", path)
            body = bodies.get((method, path))
            others = tuple(sorted(all_scopes - {scope}))
            status, answer = api.call(method.upper(), concrete, body=body, scopes=others)
            assert status == 403 and scope in answer["error"]["message"], (method, path, answer)
            status, answer = api.call(method.upper(), concrete, body=body, scopes=(scope,))
            assert status != 403, (method, path, answer)


def test_a_validation_failure_is_a_400_in_the_envelope_as_documented(api):
    status, answer = api.call("GET", "/v1/tasks", query={"limit": "0"})
    assert status == 400
    assert answer["error"]["type"] == "invalid_request_error" and answer["error"]["param"] == "limit"


def test_swagger_ui_carries_the_document_and_its_own_assets_with_nothing_from_a_cdn(api):
    response = raw(api, "GET", "/docs")
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/html")
    html = response["body"]
    assert "SwaggerUIBundle" in html and len(html) > 1_000_000  # the bundle is in the page
    assert not re.search(r"<(script|link)[^>]+(src|href)=['\"]?https?:", html)
    assert '"/v1/tasks/{task_id}/runs"' in html  # the same document as /v1/openapi.json
    assert json.loads(raw(api, "GET", "/docs", query={"format": "json"})["body"])["openapi"].startswith("3.1")


def test_the_console_page_allows_only_its_own_script_and_style(api):
    response = raw(api, "GET", "/console")
    assert response["statusCode"] == 200
    csp = response["headers"]["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    html = response["body"]
    assert re.findall(r"<script[^>]*>", html) == ['<script src="console/console.js" defer>']
    assert "<style" not in html and " style=" not in html and "http" not in html.replace("http-equiv", "")
    script = raw(api, "GET", "/console/console.js")
    assert script["statusCode"] == 200 and script["headers"]["Content-Type"].startswith("text/javascript")
    assert "innerHTML" not in script["body"] and "sessionStorage" in script["body"]
    assert "localStorage" not in script["body"]
    missing = raw(api, "GET", "/console/secrets.txt")
    assert missing["statusCode"] == 404
    assert json.loads(missing["body"])["error"]["type"] == "not_found_error"


def test_a_tasks_schedule_answers_in_words_with_its_next_fire_times(api):
    task = api.call(
        "POST",
        "/v1/tasks",
        body={"name": "n", "prompt": "p", "schedule": "30 8 * * 1-5", "timezone": "Europe/Paris"},
    )[1]["task"]
    status, answer = api.call("GET", f"/v1/tasks/{task['id']}/schedule", query={"count": "3"})
    assert status == 200, answer
    assert answer["description"] == "at 08:30, on Monday to Friday (Europe/Paris)"
    assert answer["eventbridge"] == ["cron(30 8 ? * MON-FRI *)"]
    assert len(answer["next"]) == 3 and answer["next"][0] == task["state"]["next_run_at"]
    assert answer["next"] == sorted(answer["next"])
    api.call("PATCH", f"/v1/tasks/{task['id']}", body={"enabled": False})
    assert api.call("GET", f"/v1/tasks/{task['id']}/schedule")[1]["next"] == []
    status, answer = api.call("GET", f"/v1/tasks/{task['id']}/schedule", query={"count": "21"})
    assert status == 400 and answer["error"]["param"] == "count"
    assert api.call("GET", "/v1/tasks/cron_nope/schedule")[0] == 404


def test_a_body_that_is_not_utf8_is_a_400_not_a_server_error(api):
    """Found by the fuzz test: Powertools failed to decode it and the route answered 500."""
    import base64

    for method, path in (
        ("POST", "/v1/tasks"),
        ("PATCH", "/v1/tasks/cron_x"),
        ("POST", "/v1/memory/archival"),
    ):
        event = http_event(method, path, raw_body=base64.b64encode(b"\xff\xfe").decode())
        event["isBase64Encoded"] = True
        response = api.handler(event, LambdaContext())
        assert response["statusCode"] == 400, (method, path)
        error = json.loads(response["body"])["error"]
        assert error["type"] == "invalid_request_error" and "UTF-8" in error["message"]
