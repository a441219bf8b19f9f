"""`provider/model` names, the Soul's settings, resolving a name to a provider, validating it at
POST time, and where API keys come from (environment locally, Secrets Manager or SSM deployed)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError

from heartbeat.soul.credentials import CredentialError, EnvSecretSource, ParametersSecretSource
from heartbeat.soul.resolve import (
    OFFLINE_MODEL,
    ProviderClients,
    SoulSettings,
    parse_model_name,
    resolve_model,
    validate_model_name,
)
from heartbeat.soul.types import ModelError

KEY = "sk-ant-api03-THIS-IS-THE-SECRET-KEY-VALUE-0123456789"


def settings(providers: dict | None = None, **env: str) -> SoulSettings:
    values = dict(env)
    if providers is not None:
        values["HEARTBEAT_PROVIDERS"] = json.dumps(providers)
    return SoulSettings.from_env(values)


# -- settings ---------------------------------------------------------------------------------------


def test_defaults_offer_the_four_built_in_providers():
    s = SoulSettings.from_env({"HEARTBEAT_PROVIDERS": ""})
    assert OFFLINE_MODEL == "offline/heartbeat"
    assert set(s.all_providers()) == {"anthropic", "openai", "bedrock", "offline"}
    limits = s.agent_limits()
    assert (limits.max_steps, limits.max_output_tokens, limits.safety_margin_ms) == (8, 4096, 10_000)
    assert s.retry_policy().max_attempts == 4


def test_the_environment_configures_providers_and_limits():
    s = SoulSettings.from_env(
        {
            "HEARTBEAT_PROVIDERS": json.dumps(
                {
                    "ollama": {"kind": "openai", "base_url": "http://127.0.0.1:11434/v1/"},
                    "anthropic": {"kind": "anthropic", "api_key_secret": "heartbeat/anthropic"},
                }
            ),
            "HEARTBEAT_AGENT_MAX_STEPS": "12",
            "HEARTBEAT_AGENT_SAFETY_MARGIN_MS": "15000",
            "HEARTBEAT_MODEL_MAX_ATTEMPTS": "2",
        }
    )
    providers = s.all_providers()
    assert providers["ollama"].base_url == "http://127.0.0.1:11434/v1"
    assert providers["anthropic"].api_key_secret == "heartbeat/anthropic"
    assert "openai" in providers and "bedrock" in providers
    assert s.agent_limits().max_steps == 12 and s.agent_limits().safety_margin_ms == 15_000
    assert s.retry_policy().max_attempts == 2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "HEARTBEAT_PROVIDERS is not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"Bad Name": {"kind": "openai"}}', "must be lower-case"),
        ('{"x": {"kind": "gemini"}}', "kind"),
        ('{"x": {"kind": "openai", "api_key_secrets": "typo"}}', "api_key_secrets"),
        ('{"x": {"kind": "openai", "base_url": "localhost:11434"}}', "base_url must be an http(s) URL"),
    ],
)
def test_a_bad_provider_configuration_fails_with_a_message_that_says_what_is_wrong(raw, message):
    with pytest.raises(ValidationError) as caught:
        SoulSettings.from_env({"HEARTBEAT_PROVIDERS": raw})
    assert message in str(caught.value)


# -- names ------------------------------------------------------------------------------------------


def test_names_split_at_the_first_slash_so_bedrock_arns_survive():
    assert parse_model_name("anthropic/claude-sonnet-4-5") == ("anthropic", "claude-sonnet-4-5")
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert parse_model_name(f"bedrock/{arn}") == ("bedrock", arn)


@pytest.mark.parametrize(
    "name", ["", "anthropic", "/claude", "anthropic/", "Anthropic/claude", "anthropic/ claude", " offline/x"]
)
def test_a_malformed_name_is_a_terminal_error_saying_the_expected_form(name):
    with pytest.raises(ModelError) as caught:
        resolve_model(name, SoulSettings.from_env({}))
    assert not caught.value.transient
    assert "provider" in str(caught.value)
    with pytest.raises(ValueError):
        validate_model_name(name, SoulSettings.from_env({}))


def test_an_unknown_provider_is_a_terminal_error_listing_the_configured_ones():
    with pytest.raises(ModelError) as caught:
        resolve_model("mistral/large", SoulSettings.from_env({}))
    assert not caught.value.transient
    assert "unknown provider 'mistral'" in str(caught.value)
    assert "anthropic, bedrock, offline, openai" in str(caught.value)
    assert "HEARTBEAT_PROVIDERS" in str(caught.value)


def test_a_disabled_provider_is_refused():
    s = settings({"bedrock": {"kind": "bedrock", "enabled": False}})
    with pytest.raises(ModelError, match="disabled"):
        resolve_model("bedrock/amazon.nova-pro-v1:0", s)
    with pytest.raises(ValueError, match="disabled"):
        validate_model_name("bedrock/amazon.nova-pro-v1:0", s)


# -- resolving --------------------------------------------------------------------------------------


def test_anthropic_takes_its_key_from_the_environment_locally():
    model = resolve_model(
        "anthropic/claude-sonnet-4-5", SoulSettings.from_env({}), env={"ANTHROPIC_API_KEY": KEY}
    )
    assert type(model).__name__ == "AnthropicModel"
    assert model.name == "anthropic/claude-sonnet-4-5"
    assert KEY not in repr(model) and KEY not in str(vars(model))


def test_a_missing_key_is_a_terminal_error_naming_where_to_put_it():
    with pytest.raises(ModelError) as caught:
        resolve_model("anthropic/claude-sonnet-4-5", SoulSettings.from_env({}), env={})
    assert not caught.value.transient
    assert "api_key_secret" in str(caught.value) and "ANTHROPIC_API_KEY" in str(caught.value)


def test_an_openai_compatible_server_needs_no_key_and_gets_max_tokens():
    s = settings({"ollama": {"kind": "openai", "base_url": "http://127.0.0.1:11434/v1"}})
    model = resolve_model("ollama/llama3.2", s, env={})
    assert type(model).__name__ == "OpenAIModel"
    body = model.build_body(_request())  # type: ignore[attr-defined]
    assert body["max_tokens"] == 64 and "max_completion_tokens" not in body

    official = resolve_model("openai/gpt-4.1-mini", SoulSettings.from_env({}), env={"OPENAI_API_KEY": "sk-x"})
    assert official.build_body(_request())["max_completion_tokens"] == 64  # type: ignore[attr-defined]


def test_bedrock_uses_the_client_passed_in_or_builds_one_that_does_not_retry_by_itself():
    client = boto3.client("bedrock-runtime", region_name="eu-west-1")
    model = resolve_model(
        "bedrock/amazon.nova-pro-v1:0", SoulSettings.from_env({}), clients=ProviderClients(client)
    )
    assert model._client is client  # type: ignore[attr-defined]

    built = resolve_model(
        "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
        settings({"bedrock": {"kind": "bedrock", "region": "us-west-2", "timeout_s": 30}}),
    )
    config = built._client.meta.config  # type: ignore[attr-defined]
    assert built._client.meta.region_name == "us-west-2"  # type: ignore[attr-defined]
    assert config.retries["total_max_attempts"] == 1
    assert config.read_timeout == 30


def test_provider_modules_are_imported_only_when_resolved():
    code = (
        "import sys, heartbeat.soul.resolve as m, heartbeat.soul.agent;"
        "m.resolve_model('offline/heartbeat', m.SoulSettings.from_env({}));"
        "print(sorted(k for k in sys.modules if k.startswith('heartbeat.soul.providers.')));"
        "print('boto3' in sys.modules, 'botocore' in sys.modules, 'http.client' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["['heartbeat.soul.providers.offline']", "False False False"]


# -- validating at POST time ------------------------------------------------------------------------


def test_validation_accepts_what_the_deployment_can_run():
    s = settings(
        {
            "ollama": {"kind": "openai", "base_url": "http://127.0.0.1:11434/v1"},
            "anthropic": {"kind": "anthropic", "api_key_secret": "heartbeat/anthropic"},
        }
    )
    for name in (
        "offline/heartbeat",
        "bedrock/amazon.nova-pro-v1:0",
        "ollama/llama3.2",
        "anthropic/claude-sonnet-4-5",
    ):
        validate_model_name(name, s, env={})
    validate_model_name("openai/gpt-4.1", SoulSettings.from_env({}), env={"OPENAI_API_KEY": "sk-local"})


def test_validation_rejects_a_provider_without_a_key_with_a_message_a_user_can_act_on():
    with pytest.raises(ValueError) as caught:
        validate_model_name("anthropic/claude-sonnet-4-5", SoulSettings.from_env({}), env={})
    message = str(caught.value)
    assert "no API key configured" in message
    assert "api_key_secret" in message and "ANTHROPIC_API_KEY" in message and OFFLINE_MODEL in message
    with pytest.raises(ValueError, match="unknown provider 'gemini'"):
        validate_model_name("gemini/pro", SoulSettings.from_env({}), env={})


# -- credentials ------------------------------------------------------------------------------------


def test_environment_keys_are_read_and_a_missing_one_says_which_variable():
    assert EnvSecretSource({"K": f"  {KEY}\n"}).get("K") == KEY
    with pytest.raises(CredentialError, match="ANTHROPIC_API_KEY is not set"):
        EnvSecretSource({}).get("ANTHROPIC_API_KEY")


@pytest.fixture
def aws() -> Iterator[tuple[object, object]]:
    with mock_aws():
        yield (
            boto3.client("secretsmanager", region_name="us-east-1"),
            boto3.client("ssm", region_name="us-east-1"),
        )


def count_calls(client: object) -> list[str]:
    calls: list[str] = []
    client.meta.events.register("before-call.*.*", lambda model, **kw: calls.append(model.name))  # type: ignore[attr-defined]
    return calls


def test_keys_come_from_secrets_manager_or_ssm_and_are_cached(aws):
    secretsmanager, ssm = aws
    secretsmanager.create_secret(Name="heartbeat/anthropic", SecretString=KEY)
    secretsmanager.create_secret(
        Name="heartbeat/openai", SecretString=json.dumps({"api_key": "sk-openai-json"})
    )
    ssm.put_parameter(Name="/heartbeat/vllm", Value="vllm-key", Type="SecureString")
    source = ParametersSecretSource(secretsmanager_client=secretsmanager, ssm_client=ssm, max_age_s=300)
    calls = count_calls(secretsmanager)

    assert source.get("heartbeat/anthropic") == KEY
    assert source.get("heartbeat/anthropic") == KEY
    assert calls == ["GetSecretValue"]  # the second read came from the cache
    assert source.get("heartbeat/openai") == "sk-openai-json"
    assert source.get("ssm:/heartbeat/vllm") == "vllm-key"
    assert source.describe("ssm:/heartbeat/vllm") == "SSM parameter '/heartbeat/vllm'"
    assert KEY not in repr(source)


def test_a_missing_secret_is_a_terminal_error_that_says_how_to_fix_it(aws):
    secretsmanager, ssm = aws
    source = ParametersSecretSource(secretsmanager_client=secretsmanager, ssm_client=ssm)
    with pytest.raises(CredentialError) as caught:
        source.get("heartbeat/nope")
    assert not caught.value.transient
    assert "Secrets Manager secret 'heartbeat/nope'" in str(caught.value)
    assert "ResourceNotFoundException" in str(caught.value) and "create it" in str(caught.value)
    with pytest.raises(CredentialError, match="ParameterNotFound"):
        source.get("ssm:/heartbeat/nope")


def test_resolve_reads_a_deployed_key_through_the_secret_source(aws):
    secretsmanager, ssm = aws
    secretsmanager.create_secret(Name="heartbeat/anthropic", SecretString=KEY)
    source = ParametersSecretSource(secretsmanager_client=secretsmanager, ssm_client=ssm)
    s = settings({"anthropic": {"kind": "anthropic", "api_key_secret": "heartbeat/anthropic"}})
    model = resolve_model("anthropic/claude-sonnet-4-5", s, secrets=source, env={})
    assert model._api_key.get_secret_value() == KEY  # type: ignore[attr-defined]
    assert model._key_source == "Secrets Manager secret 'heartbeat/anthropic'"  # type: ignore[attr-defined]


def _request():
    from heartbeat.soul.types import Message, ModelRequest

    return ModelRequest(system="s", messages=(Message(role="user", content="hi"),), max_tokens=64)
