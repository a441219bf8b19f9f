"""The one TLS context every outbound HTTPS client shares (model providers, web_fetch, webhooks):
built on first use (loading the CA bundle costs milliseconds), then reused by every connection."""

from __future__ import annotations

import ssl
from functools import cache


@cache
def default_context() -> ssl.SSLContext:
    return ssl.create_default_context()
