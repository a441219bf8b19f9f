"""`provider/model` names, the Soul's configuration, and resolving a name to a `Model`.

A model name is `<provider>/<model>`, split at the first `/` (so Bedrock ARNs keep theirs):
`anthropic/claude-sonnet-4-5`, `openai/gpt-4.1-mini`, `bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0`,
`ollama/llama3.2`, `offline/heartbeat`. The provider names a configured provider; four are built in:

| provider | kind | key |
| --- | --- | --- |
| `anthropic` | Messages API at https://api.anthropic.com | `ANTHROPIC_API_KEY` unless `api_key_secret` is set |
| `openai` | Chat Completions at https://api.openai.com/v1 | `OPENAI_API_KEY` unless `api_key_secret` is set |
| `bedrock` | Converse API, IAM auth (the executor's role) | none |
| `offline` | the deterministic offline model (`offline/heartbeat`) | none |

`HEARTBEAT_PROVIDERS` (JSON) adds providers or overrides these, e.g. an OpenAI-compatible server:
`{"ollama": {"kind": "openai", "base_url": "http://127.0.0.1:11434/v1"}}`, or a deployed key:
`{"anthropic": {"kind": "anthropic", "api_key_secret": "heartbeat/anthropic"}}`. See
docs/decisions/2026-11-22-soul-provider-config.md.

Provider modules are imported only when a model of theirs is resolved (cold start).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from heartbeat.config import FunctionConfig
from heartbeat.soul.agent import AgentLimits
from heartbeat.soul.credentials import EnvSecretSource, ParametersSecretSource, SecretSource
from heartbeat.soul.retry import RetryPolicy
from heartbeat.soul.types import Model, ModelError

OFFLINE_MODEL = "offline/heartbeat"
"""The canonical offline model: the local stack's default. Any `offline/<name>` works the same."""

ProviderKind = Literal["anthropic", "openai", "bedrock", "offline"]

_PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_OFFICIAL_OPENAI = "https://api.openai.com/v1"
_OFFICIAL_ANTHROPIC = "https://api.anthropic.com"


class ProviderConfig(BaseModel):
    """One provider in `HEARTBEAT_PROVIDERS`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ProviderKind
    base_url: str | None = None
    """anthropic/openai: the API root (`.../v1` for OpenAI-compatible servers). Default: the vendor's."""
    api_key_secret: str | None = None
    """Deployed: a Secrets Manager secret name or ARN, or `ssm:/parameter/name` (SecureString)."""
    api_key_env: str | None = None
    """Local: the environment variable holding the key (used when `api_key_secret` is not set)."""
    region: str | None = None
    """bedrock: the region (default: the executor's)."""
    timeout_s: float | None = Field(default=None, gt=0)
    """Per-call timeout (default: `HEARTBEAT_MODEL_TIMEOUT_S`)."""
    prompt_caching: bool | None = None
    """anthropic: cache_control on (default on). bedrock: cache points (default: on for Claude and
    Nova model ids, which support them, off for others)."""
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] | None = None
    """openai: the output limit's field (default `max_completion_tokens` for api.openai.com, which
    newer models require, and `max_tokens` for compatible servers)."""
    enabled: bool = True

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("base_url must be an http(s) URL, e.g. http://127.0.0.1:11434/v1")
        return value.rstrip("/")

    def needs_key(self) -> bool:
        """Whether a model call needs an API key: Anthropic and OpenAI itself do; a compatible
        server does only when a key source is configured for it; Bedrock and offline never."""
        if self.kind == "anthropic":
            return True
        if self.kind == "openai":
            return self.api_key_secret is not None or self.api_key_env is not None or self.base_url is None
        return False


BUILTIN_PROVIDERS: dict[str, ProviderConfig] = {
    "anthropic": ProviderConfig(kind="anthropic", api_key_env="ANTHROPIC_API_KEY"),
    "openai": ProviderConfig(kind="openai", api_key_env="OPENAI_API_KEY"),
    "bedrock": ProviderConfig(kind="bedrock"),
    "offline": ProviderConfig(kind="offline"),
}


class SoulSettings(FunctionConfig):
    """The Soul's configuration, read by the executor from its environment."""

    providers: dict[str, ProviderConfig] = Field(default_factory=dict, alias="HEARTBEAT_PROVIDERS")
    model_timeout_s: float = Field(default=120.0, gt=0, alias="HEARTBEAT_MODEL_TIMEOUT_S")
    model_max_attempts: int = Field(default=4, ge=1, le=10, alias="HEARTBEAT_MODEL_MAX_ATTEMPTS")
    secrets_max_age_s: int = Field(default=300, ge=0, alias="HEARTBEAT_SECRETS_MAX_AGE_S")
    max_steps: int = Field(default=8, ge=1, le=100, alias="HEARTBEAT_AGENT_MAX_STEPS")
    max_tokens_per_run: int = Field(default=200_000, ge=1, alias="HEARTBEAT_AGENT_MAX_TOKENS_PER_RUN")
    max_output_tokens: int = Field(default=4096, ge=1, alias="HEARTBEAT_AGENT_MAX_OUTPUT_TOKENS")
    safety_margin_ms: int = Field(default=10_000, ge=0, alias="HEARTBEAT_AGENT_SAFETY_MARGIN_MS")

    @field_validator("providers", mode="before")
    @classmethod
    def _parse_providers(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return {}
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ValueError(f"HEARTBEAT_PROVIDERS is not valid JSON: {exc}") from None
        if not isinstance(value, Mapping):
            raise ValueError('HEARTBEAT_PROVIDERS must be a JSON object: {"name": {"kind": ...}, ...}')
        for name in value:
            if not isinstance(name, str) or not _PROVIDER_NAME.match(name):
                raise ValueError(
                    f"provider name {name!r} in HEARTBEAT_PROVIDERS must be lower-case letters, digits, '-' or '_'"
                )
        return value

    def all_providers(self) -> dict[str, ProviderConfig]:
        """The built-in providers, overridden and extended by `HEARTBEAT_PROVIDERS`."""
        return {**BUILTIN_PROVIDERS, **self.providers}

    def agent_limits(self) -> AgentLimits:
        return AgentLimits(
            max_steps=self.max_steps,
            max_tokens_per_run=self.max_tokens_per_run,
            max_output_tokens=self.max_output_tokens,
            safety_margin_ms=self.safety_margin_ms,
        )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.model_max_attempts)


@dataclass(frozen=True)
class ProviderClients:
    """AWS clients the providers use, passed in (tests pass Stubber- or moto-backed ones)."""

    bedrock_runtime: Any = None


def parse_model_name(name: str) -> tuple[str, str]:
    """`provider/model` -> (provider, model); ValueError with a message a user can act on."""
    if not isinstance(name, str) or "/" not in name:
        raise ValueError(
            f"model {name!r} must look like 'provider/model', e.g. 'anthropic/claude-sonnet-4-5' or '{OFFLINE_MODEL}'"
        )
    provider, model = name.split("/", 1)
    if not provider or not model or name != name.strip() or any(c.isspace() for c in name):
        raise ValueError(
            f"model {name!r} must look like 'provider/model' with no spaces, e.g. 'anthropic/claude-sonnet-4-5'"
        )
    if not _PROVIDER_NAME.match(provider):
        raise ValueError(
            f"model {name!r}: the provider {provider!r} must be lower-case letters, digits, '-' or '_'"
        )
    return provider, model


def validate_model_name(name: str, settings: SoulSettings, *, env: Mapping[str, str] | None = None) -> None:
    """Reject, at POST/PATCH time, a model this deployment cannot run: malformed, an unknown or
    disabled provider, or one with no key configured. Raises ValueError with the user's message."""
    provider, _ = parse_model_name(name)
    config = _provider_config(name, provider, settings, error=ValueError)
    if config.needs_key() and config.api_key_secret is None:
        environ = os.environ if env is None else env
        if config.api_key_env is None or not environ.get(config.api_key_env):
            raise ValueError(
                f"model {name!r}: the provider {provider!r} has no API key configured in this deployment; "
                f"set its api_key_secret in HEARTBEAT_PROVIDERS"
                + (f" (or {config.api_key_env} for the local stack)" if config.api_key_env else "")
                + f", or use another model such as '{OFFLINE_MODEL}'"
            )


def resolve_model(
    name: str,
    settings: SoulSettings,
    *,
    secrets: SecretSource | None = None,
    clients: ProviderClients | None = None,
    env: Mapping[str, str] | None = None,
) -> Model:
    """The `Model` for `provider/model`. Raises a terminal `ModelError` for a malformed name, an
    unknown or disabled provider, or a missing key (naming where the key should be, never a value).
    `secrets` reads `api_key_secret`s (default: one process-wide `ParametersSecretSource`, so its
    cache outlives the invocation); `env` is where `api_key_env`s are read (default: os.environ)."""
    try:
        provider, model_id = parse_model_name(name)
    except ValueError as exc:
        raise ModelError(str(exc), transient=False) from None
    config = _provider_config(name, provider, settings, error=_terminal)
    timeout_s = config.timeout_s or settings.model_timeout_s

    if config.kind == "offline":
        from heartbeat.soul.providers.offline import OfflineModel

        return OfflineModel(name)

    if config.kind == "bedrock":
        from heartbeat.soul.providers.bedrock import BedrockModel

        client = (clients.bedrock_runtime if clients else None) or _bedrock_client(config, timeout_s)
        return BedrockModel(name, model_id, client=client, prompt_caching=config.prompt_caching)

    api_key, key_source = _api_key(provider, config, settings, secrets, env)
    if config.kind == "anthropic":
        from heartbeat.soul.providers.anthropic import AnthropicModel

        return AnthropicModel(
            name,
            model_id,
            api_key=api_key,
            key_source=key_source,
            base_url=config.base_url or _OFFICIAL_ANTHROPIC,
            timeout_s=timeout_s,
            prompt_caching=config.prompt_caching is not False,
        )

    from heartbeat.soul.providers.openai import OpenAIModel

    base_url = config.base_url or _OFFICIAL_OPENAI
    max_tokens_param = config.max_tokens_param or (
        "max_completion_tokens" if base_url == _OFFICIAL_OPENAI else "max_tokens"
    )
    return OpenAIModel(
        name,
        model_id,
        api_key=api_key,
        key_source=key_source,
        base_url=base_url,
        timeout_s=timeout_s,
        max_tokens_param=max_tokens_param,
    )


def _terminal(message: str) -> ModelError:
    return ModelError(message, transient=False)


def _provider_config(name: str, provider: str, settings: SoulSettings, *, error: Any) -> ProviderConfig:
    providers = settings.all_providers()
    config = providers.get(provider)
    if config is None:
        known = ", ".join(sorted(p for p, c in providers.items() if c.enabled))
        raise error(
            f"model {name!r}: unknown provider {provider!r}; the providers configured here are {known} "
            "(add others to HEARTBEAT_PROVIDERS)"
        )
    if not config.enabled:
        known = ", ".join(sorted(p for p, c in providers.items() if c.enabled))
        raise error(
            f"model {name!r}: the provider {provider!r} is disabled in this deployment; use one of {known}"
        )
    return config


def _api_key(
    provider: str,
    config: ProviderConfig,
    settings: SoulSettings,
    secrets: SecretSource | None,
    env: Mapping[str, str] | None,
) -> tuple[str | None, str]:
    if config.api_key_secret is not None:
        source: SecretSource = secrets or _default_parameters_source(settings.secrets_max_age_s)
        return source.get(config.api_key_secret), source.describe(config.api_key_secret)
    if not config.needs_key():
        return None, "no key"
    if config.api_key_env is not None:
        env_source = EnvSecretSource(env)
        try:
            return env_source.get(config.api_key_env), env_source.describe(config.api_key_env)
        except ModelError:
            pass
        raise ModelError(
            f"the provider {provider!r} has no API key: set its api_key_secret in HEARTBEAT_PROVIDERS "
            f"(deployed) or the environment variable {config.api_key_env} (local stack)",
            transient=False,
        )
    raise ModelError(
        f"the provider {provider!r} has no API key: set api_key_secret or api_key_env for it in HEARTBEAT_PROVIDERS",
        transient=False,
    )


_default_source: ParametersSecretSource | None = None
_default_source_lock = threading.Lock()


def _default_parameters_source(max_age_s: int) -> ParametersSecretSource:
    global _default_source
    with _default_source_lock:
        if _default_source is None:
            _default_source = ParametersSecretSource(max_age_s=max_age_s)
        return _default_source


def _bedrock_client(config: ProviderConfig, timeout_s: float) -> Any:
    import boto3
    from botocore.config import Config

    # The agent loop retries with its own backoff and time budget: botocore must not retry too.
    boto_config = Config(
        read_timeout=timeout_s,
        connect_timeout=10,
        retries={"total_max_attempts": 1, "mode": "standard"},
    )
    return boto3.client("bedrock-runtime", region_name=config.region, config=boto_config)
