"""What a task's `tools` and `web_allow` may hold (DESIGN.md section 8), checked as a whole so a
bad entry is one 400 naming the field and the entry.

- `tools`: `memory`, `notify`, `web`, `mcp:<server>` (all of a server's tools) or
  `mcp:<server>/<tool>` (one of them). `report_failure` is always given and is not listed.
- `web_allow`: host patterns, `status.example.com` (that host) or `*.example.org` (its
  subdomains, not the bare domain). Empty: any public host.

Whether a named server exists is the task logic's check (it needs the tenant's servers).
"""

from __future__ import annotations

import re
from typing import Any

DEFAULT_TOOLS: tuple[str, ...] = ("memory", "notify")
BUILTIN_TOOLS: tuple[str, ...] = ("memory", "notify", "web")
MAX_TOOLS = 32
MAX_WEB_ALLOW = 50

SERVER_NAME = r"[a-z0-9][a-z0-9_-]{0,31}"
SERVER_NAME_PATTERN = re.compile(rf"^{SERVER_NAME}$")
MCP_TOOL_NAME = r"[A-Za-z0-9_.-]{1,128}"
_MCP_ENTRY = re.compile(rf"^mcp:(?P<server>{SERVER_NAME})(?:/(?P<tool>{MCP_TOOL_NAME}))?$")
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST_PATTERN = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")


def mcp_entry(entry: str) -> tuple[str, str | None] | None:
    """(server, tool or None) for an `mcp:` entry, None for any other."""
    match = _MCP_ENTRY.match(entry)
    return None if match is None else (match["server"], match["tool"])


def mcp_servers_named(tools: tuple[str, ...] | list[str]) -> list[str]:
    """The MCP servers a toolset names, in order, once each."""
    out: list[str] = []
    for entry in tools:
        parsed = mcp_entry(entry)
        if parsed is not None and parsed[0] not in out:
            out.append(parsed[0])
    return out


def check_tools(value: Any) -> Any:
    """The `tools` list, de-duplicated in order; a ValueError names the bad entry."""
    if value is None:
        return value
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError('tools must be a list of names such as ["memory", "notify", "web", "mcp:<server>"]')
    if len(value) > MAX_TOOLS:
        raise ValueError(f"tools has {len(value)} entries; at most {MAX_TOOLS}")
    out: list[str] = []
    for entry in value:
        if entry == "report_failure":
            raise ValueError("report_failure is always available: leave it out of tools")
        if entry not in BUILTIN_TOOLS and mcp_entry(entry) is None:
            hint = (
                " (an MCP server is named as mcp:<server> or mcp:<server>/<tool>; server names match "
                f"^{SERVER_NAME}$)"
                if entry.startswith("mcp")
                else ""
            )
            raise ValueError(
                f"unknown tool {entry!r} in tools: use memory, notify, web, mcp:<server> or "
                f"mcp:<server>/<tool>{hint}"
            )
        if entry not in out:
            out.append(entry)
    return out


def check_web_allow(value: Any) -> Any:
    """The `web_allow` list, lower-cased; a ValueError names the malformed pattern."""
    if value is None:
        return value
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(
            'web_allow must be a list of host patterns such as ["status.example.com", "*.example.org"]'
        )
    if len(value) > MAX_WEB_ALLOW:
        raise ValueError(f"web_allow has {len(value)} patterns; at most {MAX_WEB_ALLOW}")
    out: list[str] = []
    for pattern in value:
        normal = pattern.strip().lower().rstrip(".")
        if (
            len(normal) > 253
            or not _HOST_PATTERN.match(normal)
            or normal.startswith("*.")
            and "." not in normal[2:]
        ):
            raise ValueError(
                f"web_allow pattern {pattern!r} is malformed: use a host name (status.example.com) or "
                "*. and a domain with at least two labels (*.example.org); no schemes, ports, paths or other wildcards"
            )
        if normal not in out:
            out.append(normal)
    return out


def host_allowed(host: str, patterns: tuple[str, ...] | list[str]) -> bool:
    """Whether `host` matches one of `web_allow`'s patterns (no patterns: every host)."""
    if not patterns:
        return True
    host = host.rstrip(".").lower()
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and host != pattern[2:]:
                return True
        elif host == pattern:
            return True
    return False
