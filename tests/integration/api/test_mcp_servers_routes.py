"""/v1/mcp-servers: tenants' MCP servers, whose header values are stored encrypted and never
answered; and the tasks that name them."""

from __future__ import annotations

import json
import logging

import boto3
import pytest

from support.api import ApiClient

TOKEN = "Bearer sk-live-very-secret-value-789"


@pytest.fixture
def api(aws) -> ApiClient:
    return ApiClient(aws)


def add(api: ApiClient, name: str = "deploys", tenant: str = "tenant-a", **fields):
    body = {"name": name, "url": "https://mcp.example.com/mcp", "headers": {"Authorization": TOKEN}, **fields}
    return api.call("POST", "/v1/mcp-servers", body=body, tenant=tenant)


def test_a_server_is_created_and_answered_with_header_names_only(api, caplog):
    caplog.set_level(logging.INFO)
    status, answer = add(api, headers={"Authorization": TOKEN, "X-Team": "ops"})

    assert status == 201
    server = answer["mcp_server"]
    assert server["name"] == "deploys"
    assert server["url"] == "https://mcp.example.com/mcp"
    assert server["header_names"] == ["Authorization", "X-Team"]
    assert server["created_at"] == server["updated_at"]
    assert set(server) == {"name", "url", "header_names", "created_at", "updated_at"}
    for path in ("/v1/mcp-servers", "/v1/mcp-servers/deploys"):
        status, listed = api.call("GET", path)
        assert status == 200
        assert TOKEN not in json.dumps(listed)
    assert TOKEN not in json.dumps(answer)
    assert TOKEN not in caplog.text


def test_header_values_are_kept_in_secrets_manager_not_in_the_table(api, aws):
    add(api)

    items = aws.dynamodb.scan(TableName=aws.env["TASKS_TABLE"])["Items"]
    assert TOKEN not in json.dumps(items)
    secret = boto3.client("secretsmanager").get_secret_value(SecretId="heartbeat-local-mcp/tenant-a/deploys")
    assert json.loads(secret["SecretString"]) == {"Authorization": TOKEN}


def test_posting_an_existing_name_replaces_its_url_and_headers(api):
    add(api)
    status, answer = add(api, url="https://mcp2.example.com/mcp", headers={"Authorization": "Bearer new"})

    assert status == 200
    assert answer["mcp_server"]["url"] == "https://mcp2.example.com/mcp"
    secret = boto3.client("secretsmanager").get_secret_value(SecretId="heartbeat-local-mcp/tenant-a/deploys")
    assert json.loads(secret["SecretString"]) == {"Authorization": "Bearer new"}
    status, listed = api.call("GET", "/v1/mcp-servers")
    assert [s["name"] for s in listed["mcp_servers"]] == ["deploys"]


def test_a_server_without_headers_has_no_secret(api):
    status, answer = add(api, name="public", headers={})
    assert status == 201
    assert answer["mcp_server"]["header_names"] == []
    names = [s["Name"] for s in boto3.client("secretsmanager").list_secrets()["SecretList"]]
    assert "heartbeat-local-mcp/tenant-a/public" not in names


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"name": "Bad Name", "url": "https://x.example.com"}, "name", "pattern"),
        ({"name": "a" * 33, "url": "https://x.example.com"}, "name", ""),
        ({"name": "ok", "url": "ftp://x.example.com"}, "url", "http"),
        ({"name": "ok", "url": "https://user:pw@x.example.com/mcp"}, "url", "credentials"),
        (
            {"name": "ok", "url": "https://x.example.com", "headers": {"Bad Header": "v"}},
            "headers",
            "valid HTTP",
        ),
        ({"name": "ok", "url": "https://x.example.com", "headers": {"Host": "v"}}, "headers", "transport"),
        ({"name": "ok", "url": "https://x.example.com", "headers": {"X-A": "a\r\nb"}}, "headers", "one line"),
        ({"name": "ok", "url": "https://x.example.com", "extra": 1}, "extra", "unknown"),
    ],
)
def test_a_bad_server_is_a_400_naming_the_field(api, body, param, words):
    status, answer = api.call("POST", "/v1/mcp-servers", body=body)

    assert status == 400, answer
    assert answer["error"]["param"] == param
    assert words.lower() in answer["error"]["message"].lower()


def test_a_header_value_is_never_echoed_in_a_400(api):
    secret = "sk-echo-me-not\r\nX"
    status, answer = api.call(
        "POST",
        "/v1/mcp-servers",
        body={"name": "ok", "url": "https://x.example.com", "headers": {"X-A": secret}},
    )
    assert status == 400
    assert "sk-echo-me-not" not in json.dumps(answer)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/mcp", "http://169.254.169.254/latest", "http://[::1]/mcp", "http://10.1.2.3/mcp"],
)
def test_a_private_url_is_a_400_where_the_deployment_refuses_private_targets(aws, url):
    api = ApiClient(aws, ALLOW_PRIVATE_NETWORK_TARGETS="false")

    status, answer = api.call("POST", "/v1/mcp-servers", body={"name": "internal", "url": url})

    assert status == 400
    assert answer["error"]["param"] == "url"
    assert "AllowPrivateNetworkTargets" in answer["error"]["message"]


def test_another_tenants_server_is_not_found_and_cannot_be_named_in_a_task(api):
    add(api, tenant="tenant-a")

    for method, path in (
        ("GET", "/v1/mcp-servers/deploys"),
        ("DELETE", "/v1/mcp-servers/deploys"),
        ("GET", "/v1/mcp-servers/deploys/tools"),
    ):
        status, answer = api.call(method, path, tenant="tenant-b")
        assert status == 404, (method, path, answer)
    status, listed = api.call("GET", "/v1/mcp-servers", tenant="tenant-b")
    assert listed == {"mcp_servers": []}
    status, answer = api.call(
        "POST",
        "/v1/tasks",
        body={"name": "t", "prompt": "p", "schedule": "0 9 * * *", "tools": ["mcp:deploys"]},
        tenant="tenant-b",
    )
    assert status == 400
    assert answer["error"]["param"] == "tools"
    assert "'deploys'" in answer["error"]["message"]


def test_deleting_a_server_that_tasks_name_is_a_409_listing_them(api):
    add(api)
    status, created = api.call(
        "POST",
        "/v1/tasks",
        body={
            "name": "watch deploys",
            "prompt": "p",
            "schedule": "0 9 * * *",
            "tools": ["mcp:deploys/status"],
        },
    )
    assert status == 201, created
    task_id = created["task"]["id"]

    status, answer = api.call("DELETE", "/v1/mcp-servers/deploys")
    assert status == 409
    assert task_id in answer["error"]["message"] and "watch deploys" in answer["error"]["message"]

    api.call("PATCH", f"/v1/tasks/{task_id}", body={"tools": ["memory"]})
    status, answer = api.call("DELETE", "/v1/mcp-servers/deploys")
    assert status == 200
    assert api.call("GET", "/v1/mcp-servers/deploys")[0] == 404
    names = [s["Name"] for s in boto3.client("secretsmanager").list_secrets()["SecretList"]]
    assert "heartbeat-local-mcp/tenant-a/deploys" not in names


def test_the_routes_need_their_scopes(api):
    status, _ = api.call(
        "POST", "/v1/mcp-servers", body={"name": "x", "url": "https://x.example.com"}, scopes=("config.read",)
    )
    assert status == 403
    status, _ = api.call("GET", "/v1/mcp-servers", scopes=("memory.read",))
    assert status == 403


# -- tasks' tools and web_allow ---------------------------------------------------------------


def test_a_task_gets_the_default_tools_and_keeps_the_ones_it_names(api):
    add(api)
    status, answer = api.call("POST", "/v1/tasks", body={"name": "t", "prompt": "p", "schedule": "0 9 * * *"})
    assert status == 201
    assert answer["task"]["tools"] == ["memory", "notify"]
    assert answer["task"]["web_allow"] == []

    status, answer = api.call(
        "PATCH",
        f"/v1/tasks/{answer['task']['id']}",
        body={"tools": ["web", "mcp:deploys", "web"], "web_allow": ["Status.Example.com", "*.example.org"]},
    )
    assert status == 200, answer
    assert answer["task"]["tools"] == ["web", "mcp:deploys"]
    assert answer["task"]["web_allow"] == ["status.example.com", "*.example.org"]
    status, read = api.call("GET", f"/v1/tasks/{answer['task']['id']}")
    assert read["task"]["tools"] == ["web", "mcp:deploys"]


@pytest.mark.parametrize(
    ("fields", "param", "words"),
    [
        ({"tools": ["browser"]}, "tools", "unknown tool 'browser'"),
        ({"tools": ["mcp:Bad"]}, "tools", "unknown tool 'mcp:Bad'"),
        ({"tools": ["mcp:deploys/"]}, "tools", "unknown tool"),
        ({"tools": ["report_failure"]}, "tools", "always available"),
        ({"tools": "web"}, "tools", "list"),
        ({"tools": ["mcp:nope"]}, "tools", "'nope'"),
        ({"web_allow": ["https://status.example.com"]}, "web_allow", "malformed"),
        ({"web_allow": ["*.com"]}, "web_allow", "malformed"),
        ({"web_allow": ["status.*.com"]}, "web_allow", "malformed"),
        ({"web_allow": ["status.example.com:443"]}, "web_allow", "malformed"),
        ({"web_allow": "example.com"}, "web_allow", "list"),
    ],
)
def test_bad_tools_and_web_allow_are_400s_naming_the_field(api, fields, param, words):
    body = {"name": "t", "prompt": "p", "schedule": "0 9 * * *", **fields}

    status, answer = api.call("POST", "/v1/tasks", body=body)

    assert status == 400, answer
    assert answer["error"]["param"] == param
    assert words.lower() in answer["error"]["message"].lower()


def test_tools_cannot_be_patched_to_null(api):
    status, answer = api.call("POST", "/v1/tasks", body={"name": "t", "prompt": "p", "schedule": "0 9 * * *"})
    status, answer = api.call("PATCH", f"/v1/tasks/{answer['task']['id']}", body={"tools": None})
    assert status == 400
    assert answer["error"]["param"] == "tools"
