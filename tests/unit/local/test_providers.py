"""The local stack's providers: Bedrock is known but not available (its AWS endpoint has none)
unless the user configures it."""

from __future__ import annotations

import json

from heartbeat_cli.local.stack import BEDROCK_UNAVAILABLE, local_providers


def test_bedrock_is_not_available_by_default_and_the_users_providers_are_kept() -> None:
    assert json.loads(local_providers("")) == {
        "bedrock": {"kind": "bedrock", "unavailable": BEDROCK_UNAVAILABLE}
    }
    ollama = {"ollama": {"kind": "openai", "base_url": "http://127.0.0.1:11434/v1"}}
    assert json.loads(local_providers(json.dumps(ollama))) == {
        "bedrock": {"kind": "bedrock", "unavailable": BEDROCK_UNAVAILABLE},
        **ollama,
    }


def test_a_user_who_configures_bedrock_gets_it() -> None:
    mine = {"bedrock": {"kind": "bedrock", "region": "eu-west-1"}}
    assert json.loads(local_providers(json.dumps(mine))) == mine


def test_invalid_json_is_passed_on_for_the_settings_to_report() -> None:
    assert local_providers("{not json") == "{not json"
