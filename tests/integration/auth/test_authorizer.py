"""The authorizer: a known key is allowed with its tenant and scopes; anything else is 401."""

from __future__ import annotations

import pytest

from heartbeat.dal.keys import KeysTable
from heartbeat.keys.handler import Authorizer, Unauthorized
from heartbeat.keys.service import KeyService
from heartbeat.models.key import hash_key
from support.api import LambdaContext, load_function


@pytest.fixture
def keys(aws):
    return KeyService(KeysTable(aws.dynamodb, aws.env["KEYS_TABLE"]))


def event(header: str | None) -> dict:
    headers = {"authorization": header} if header is not None else {}
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": "arn:x",
        "identitySource": [header],
        "routeKey": "GET /v1/tasks",
        "rawPath": "/v1/tasks",
        "headers": headers,
    }


def test_a_known_key_is_allowed_with_tenant_and_scopes(keys):
    secret, key = keys.create("acme", frozenset({"config.read", "memory.read"}), live=False)
    assert secret.startswith("hb_test_") and len(secret) > 40
    answer = Authorizer(lambda: keys)(event(f"Bearer {secret}"))
    assert answer == {
        "isAuthorized": True,
        "context": {"tenant_id": "acme", "scopes": "config.read memory.read", "key_id": key.key_id},
    }


def test_only_the_hash_is_stored(keys, aws):
    secret, _ = keys.create("acme", frozenset({"config.read"}), live=True)
    assert secret.startswith("hb_live_")
    items = aws.dynamodb.scan(TableName=aws.env["KEYS_TABLE"])["Items"]
    assert [i["pk"]["S"] for i in items] == [hash_key(secret)]
    assert secret not in str(items)


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer hb_test_unknown", "Basic abc", "hb_test_x", "Bearer sk-ant-123"],
)
def test_unknown_or_malformed_keys_are_unauthorized(keys, header):
    with pytest.raises(Unauthorized) as raised:
        Authorizer(lambda: keys)(event(header))
    assert str(raised.value) == "Unauthorized"  # the message API Gateway turns into 401


def test_a_revoked_key_is_unauthorized(keys):
    secret, key = keys.create("acme", frozenset({"config.read"}), live=False)
    keys.revoke(key.key_id)
    with pytest.raises(Unauthorized):
        Authorizer(lambda: keys)(event(f"Bearer {secret}"))
    assert [k.revoked_at is not None for k in keys.list("acme")] == [True]


def test_the_deployed_handler_reads_its_table_from_the_environment(keys, aws, monkeypatch):
    secret, _ = keys.create("acme", frozenset({"config.write"}), live=False)
    for name, value in aws.env.items():
        monkeypatch.setenv(name, value)
    module = load_function("authorizer")
    assert module.handler(event(f"Bearer {secret}"), LambdaContext())["context"]["tenant_id"] == "acme"


def test_bad_tenant_ids_and_scopes_are_refused(keys):
    from heartbeat.errors import InvalidRequestError
    from heartbeat.models.key import parse_scopes

    with pytest.raises(InvalidRequestError):
        keys.create("a b", frozenset({"config.read"}), live=False)
    with pytest.raises(ValueError, match="unknown scope"):
        parse_scopes("config.read,admin")
    assert parse_scopes("config.read, memory.write") == {"config.read", "memory.write"}
