"""A tenant's remote MCP server (DESIGN.md section 8), as stored and as answered.

Header values are secrets: they live in Secrets Manager (docs/decisions/2026-12-01-mcp-server-secrets.md)
and never in this record, an answer or a log line; the record and the answers carry header names only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints

from heartbeat.models.tools import SERVER_NAME

MCP_SK_PREFIX = "mcp#"
MAX_HEADERS = 20
MAX_HEADER_VALUE = 8192
MAX_URL = 2048
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
# Headers the MCP transport sets itself; a tenant's value would break or spoof the protocol.
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "accept",
        "connection",
        "transfer-encoding",
        "mcp-session-id",
        "mcp-protocol-version",
        "last-event-id",
    }
)


def _check_headers(value: Any) -> Any:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(
            'headers must be an object of header names to values, e.g. {"Authorization": "Bearer ..."}'
        )
    if len(value) > MAX_HEADERS:
        raise ValueError(f"headers has {len(value)} entries; at most {MAX_HEADERS}")
    seen: set[str] = set()
    for name, header_value in value.items():
        if not _TOKEN.match(name):
            raise ValueError(f"header name {name!r} is not a valid HTTP header name")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by the MCP transport itself: leave it out")
        if name.lower() in seen:
            raise ValueError(f"header {name!r} is given twice")
        seen.add(name.lower())
        # The value is never echoed: it may be a secret.
        if not isinstance(header_value, str) or not header_value:
            raise ValueError(f"the value of header {name!r} must be a non-empty string")
        if len(header_value) > MAX_HEADER_VALUE or any(ch in header_value for ch in "\r\n\x00"):
            raise ValueError(
                f"the value of header {name!r} must be at most {MAX_HEADER_VALUE} characters, on one line"
            )
    return value


ServerName = Annotated[str, StringConstraints(pattern=rf"^{SERVER_NAME}$")]
HeadersInput = Annotated[dict[str, str], BeforeValidator(_check_headers)]


class McpServerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: ServerName
    url: Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL)]
    headers: HeadersInput = {}


@dataclass(frozen=True)
class McpServer:
    tenant_id: str
    name: str
    url: str
    header_names: tuple[str, ...]
    created_at: str
    updated_at: str
    secret_id: str | None = None
    """The Secrets Manager secret holding the header values (None when there are none)."""


def mcp_server_to_api(server: McpServer) -> dict[str, Any]:
    return {
        "name": server.name,
        "url": server.url,
        "header_names": list(server.header_names),
        "created_at": server.created_at,
        "updated_at": server.updated_at,
    }


def mcp_server_to_item(server: McpServer) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": server.tenant_id,
        "sk": MCP_SK_PREFIX + server.name,
        "name": server.name,
        "url": server.url,
        "header_names": list(server.header_names),
        "created_at": server.created_at,
        "updated_at": server.updated_at,
    }
    if server.secret_id is not None:
        item["secret_id"] = server.secret_id
    return item


def mcp_server_from_item(item: dict[str, Any]) -> McpServer:
    return McpServer(
        tenant_id=item["pk"],
        name=item["name"],
        url=item["url"],
        header_names=tuple(item.get("header_names") or ()),
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        secret_id=item.get("secret_id"),
    )
