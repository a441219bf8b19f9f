"""A tenant's monitoring task end to end: the real API and executor over moto, the offline model,
a real status page and a real MCP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support.servers import McpTestServer, mcp_server, status_page
from support.tools_stack import Stack, make_stack


@pytest.fixture
def stack(aws: Any) -> Stack:
    return make_stack(aws)


@pytest.fixture
def page() -> Iterator[str]:
    with status_page() as url:
        yield url


@pytest.fixture(scope="module")
def mcp() -> Iterator[McpTestServer]:
    with mcp_server() as server:
        yield server
