"""Standard Webhooks signatures (https://www.standardwebhooks.com), made with the reference
`standardwebhooks` library, so every receiver that verifies with it (or any port of it) accepts
them: `webhook-id`, `webhook-timestamp` (unix seconds of this attempt) and `webhook-signature`
(`v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with the secret's decoded bytes)."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(secret: str, event_id: str, body: str, at: datetime) -> dict[str, str]:
    from standardwebhooks import Webhook

    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body),
    }
