"""JSON over HTTP(S) on the standard library, for the Anthropic and OpenAI providers.

The official SDKs cost 0.7 s (openai) and 1.6 s (anthropic) of import time on a cold start, against
about 30 ms for `http.client` (docs/decisions/2026-11-22-soul-http-clients.md), and these two
endpoints need one POST each. Every call has a timeout; failures become `ModelError`s: timeouts
and connection failures transient, HTTP statuses classified by `http_error`.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from heartbeat.soul.types import ModelError
from heartbeat.tls import default_context

USER_AGENT = "heartbeat-soul/0.1"
_MAX_PROVIDER_MESSAGE = 300


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    """Header names in lower case."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def post_json(
    url: str, payload: Mapping[str, Any], *, headers: Mapping[str, str], timeout_s: float, provider: str
) -> HttpResponse:
    """POST `payload` as JSON. Any status comes back as a response; only transport failures raise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ModelError(f"{provider}: base_url {url!r} is not an http(s) URL", transient=False)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout_s, context=default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout_s)
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    all_headers = {
        "content-type": "application/json",
        "accept": "application/json",
        "user-agent": USER_AGENT,
        **headers,
    }
    started = time.monotonic()
    try:
        connection.request("POST", path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        return HttpResponse(
            status=response.status,
            headers={name.lower(): value for name, value in response.getheaders()},
            body=data,
        )
    except TimeoutError:
        raise ModelError(
            f"{provider}: no answer from {parts.hostname} within {time.monotonic() - started:.1f} s (timeout)",
            transient=True,
        ) from None
    except ssl.SSLCertVerificationError:
        raise ModelError(
            f"{provider}: the TLS certificate of {parts.hostname} could not be verified: check base_url",
            transient=False,
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise ModelError(
            f"{provider}: could not reach {parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)} "
            f"({type(exc).__name__})",
            transient=True,
        ) from None
    finally:
        connection.close()


def obj(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one: provider bodies are parsed defensively."""
    return value if isinstance(value, dict) else {}


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `retry-after` (seconds or an HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def clean(message: object, secret: str | None) -> str:
    """A provider's own error message, shortened, with the key (should it echo it) removed."""
    text = " ".join(str(message or "").split())
    if secret:
        text = text.replace(secret, "[redacted]")
    if len(text) > _MAX_PROVIDER_MESSAGE:
        text = text[: _MAX_PROVIDER_MESSAGE - 3] + "..."
    return text


def http_error(
    *,
    provider: str,
    model_id: str,
    status: int,
    error_type: str | None,
    message: str,
    key_source: str,
    retry_after_s: float | None,
    out_of_credit: bool = False,
) -> ModelError:
    """Classify an HTTP error status. `message` must already be `clean`ed."""
    kind = f"HTTP {status}" + (f" {error_type}" if error_type else "")
    detail = f": {message}" if message else ""
    if status == 401:
        return ModelError(
            f"{provider} rejected the API key ({kind}): check the key in the {key_source}",
            transient=False,
            status=status,
        )
    if status == 403:
        return ModelError(
            f"{provider} refused the request ({kind}): the key in the {key_source} may not use model "
            f"{model_id!r}{detail}",
            transient=False,
            status=status,
        )
    if status == 404:
        return ModelError(
            f"{provider} does not know model {model_id!r} ({kind}): check the task's model name{detail}",
            transient=False,
            status=status,
        )
    if status == 429 and out_of_credit:
        return ModelError(
            f"{provider} account is out of credit or over its spend limit ({kind}){detail}",
            transient=False,
            status=status,
        )
    if status in (408, 409, 425, 429) or status >= 500:
        what = "rate limit" if status == 429 else "overloaded" if status == 529 else "temporarily failed"
        return ModelError(
            f"{provider} {what} ({kind}){detail}",
            transient=True,
            status=status,
            retry_after=retry_after_s,
        )
    if status == 413:
        return ModelError(
            f"{provider} says the request is too large ({kind}): shorten the prompt, history or core memory{detail}",
            transient=False,
            status=status,
        )
    return ModelError(
        f"{provider} rejected the request as invalid ({kind}){detail}",
        transient=False,
        status=status,
    )
