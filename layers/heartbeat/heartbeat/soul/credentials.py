"""Where provider API keys come from, and how they stay out of logs.

- Deployed: `ParametersSecretSource` reads a Secrets Manager secret (name or ARN) or an SSM
  SecureString parameter (`ssm:/path/to/param`, or an SSM parameter ARN) through Powertools
  Parameters, with its cache (`max_age_s`), so a warm executor reads each key once per max age.
  A secret may hold the key itself or a JSON object with an `api_key` field.
- Local: `EnvSecretSource` reads an environment variable (`ANTHROPIC_API_KEY`, ...).

A key never appears in a log line, an exception message or a repr: providers keep it in a pydantic
`SecretStr`, error messages name where the key lives but never its value, and while a secret is
being read botocore's DEBUG logger (which would print the whole GetSecretValue response) is muted
for that read.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from heartbeat.soul.types import ModelError


class SecretSource(Protocol):
    def get(self, name: str) -> str:
        """The secret's value; raises `CredentialError` when it cannot be read."""
        ...

    def describe(self, name: str) -> str:
        """Where the secret lives, for messages (never its value)."""
        ...


class CredentialError(ModelError):
    """An API key could not be read. Terminal unless the store itself was briefly unavailable."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message, transient=transient)


class EnvSecretSource:
    """Keys from environment variables: the local stack's source."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = env

    def get(self, name: str) -> str:
        env = os.environ if self._env is None else self._env
        value = (env.get(name) or "").strip()
        if not value:
            raise CredentialError(f"the environment variable {name} is not set: export it with the API key")
        return value

    def describe(self, name: str) -> str:
        return f"environment variable {name}"

    def __repr__(self) -> str:
        return "EnvSecretSource()"


_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "InternalServiceError",
        "InternalServerError",
        "InternalServerErrorException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)
_NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "ParameterNotFound", "ParameterVersionNotFound"})


class ParametersSecretSource:
    """Keys from Secrets Manager or SSM Parameter Store, cached by Powertools Parameters. Pass the
    boto3 clients (the local stack passes clients for its moto endpoint); build one instance per
    process and keep it, since the cache lives in the instance."""

    def __init__(
        self,
        *,
        secretsmanager_client: Any = None,
        ssm_client: Any = None,
        max_age_s: int = 300,
    ) -> None:
        self._secretsmanager_client = secretsmanager_client
        self._ssm_client = ssm_client
        self._max_age_s = max_age_s
        self._secrets: Any = None
        self._ssm: Any = None
        self._lock = threading.Lock()

    def describe(self, name: str) -> str:
        if _is_ssm(name):
            return f"SSM parameter '{_ssm_name(name)}'"
        return f"Secrets Manager secret '{name}'"

    def get(self, name: str) -> str:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
        from botocore.exceptions import BotoCoreError, ClientError

        _install_log_guard()
        try:
            with _secret_read():
                if _is_ssm(name):
                    raw = self._ssm_provider().get(_ssm_name(name), max_age=self._max_age_s, decrypt=True)
                else:
                    raw = self._secrets_provider().get(name, max_age=self._max_age_s)
        except (GetParameterError, BotoCoreError, ClientError) as exc:
            raise self._error(name, exc) from None
        value = _key_from_value(raw)
        if not value:
            raise CredentialError(f"the {self.describe(name)} is empty: store the API key in it")
        return value

    def _secrets_provider(self) -> Any:
        with self._lock:
            if self._secrets is None:
                from aws_lambda_powertools.utilities.parameters import SecretsProvider

                self._secrets = SecretsProvider(boto3_client=self._secretsmanager_client)
            return self._secrets

    def _ssm_provider(self) -> Any:
        with self._lock:
            if self._ssm is None:
                from aws_lambda_powertools.utilities.parameters import SSMProvider

                self._ssm = SSMProvider(boto3_client=self._ssm_client)
            return self._ssm

    def _error(self, name: str, exc: Exception) -> CredentialError:
        where = self.describe(name)
        cause = exc.__cause__ or exc.__context__ or exc
        code = _error_code(cause) or _error_code(exc) or type(cause).__name__
        if code in _TRANSIENT_CODES or type(cause).__name__ in {
            "EndpointConnectionError",
            "ConnectTimeoutError",
            "ReadTimeoutError",
            "ConnectionClosedError",
        }:
            return CredentialError(
                f"could not read the API key from the {where} ({code}): try again", transient=True
            )
        if code in _NOT_FOUND_CODES:
            hint = "create it, or fix api_key_secret in HEARTBEAT_PROVIDERS"
        elif code in {"AccessDeniedException", "AccessDenied", "UnrecognizedClientException"}:
            hint = "give the executor's role secretsmanager:GetSecretValue (or ssm:GetParameter and kms:Decrypt) on it"
        elif code in {"DecryptionFailure", "KMSAccessDeniedException"}:
            hint = "the executor's role cannot decrypt it with its KMS key"
        elif code == "NoCredentialsError":
            hint = "the executor has no AWS credentials"
        else:
            hint = "check that it exists and the executor may read it"
        return CredentialError(f"could not read the API key from the {where} ({code}): {hint}")

    def __repr__(self) -> str:
        return f"ParametersSecretSource(max_age_s={self._max_age_s})"


def _is_ssm(name: str) -> bool:
    return name.startswith("ssm:") or name.startswith("arn:aws:ssm:")


def _ssm_name(name: str) -> str:
    return name[4:] if name.startswith("ssm:") else name


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    match = re.search(r"An error occurred \((\w+)\)", str(exc))
    return match.group(1) if match else None


def _key_from_value(raw: object) -> str:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not isinstance(raw, str):
        return ""
    text = raw.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return text
        if isinstance(data, dict):
            key = data.get("api_key")
            return key.strip() if isinstance(key, str) else ""
    return text


# While a secret is read, botocore's DEBUG lines (one of which is the whole response body) are
# dropped, in this thread or task only.
_reading_secret: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "heartbeat_reading_secret", default=False
)
_GUARDED_LOGGERS = ("botocore.parsers", "botocore.endpoint", "botocore.hooks", "botocore.retryhandler")
_guard_installed = False
_guard_lock = threading.Lock()


class _HideWhileReadingSecret(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _reading_secret.get()


def _install_log_guard() -> None:
    global _guard_installed
    if _guard_installed:
        return
    with _guard_lock:
        if not _guard_installed:
            guard = _HideWhileReadingSecret()
            for name in _GUARDED_LOGGERS:
                logging.getLogger(name).addFilter(guard)
            _guard_installed = True


@contextmanager
def _secret_read() -> Iterator[None]:
    token = _reading_secret.set(True)
    try:
        yield
    finally:
        _reading_secret.reset(token)
