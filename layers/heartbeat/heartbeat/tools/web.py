"""web_fetch: GET, HEAD or POST a public URL for the agent (DESIGN.md section 8).

Through the outbound guard (`heartbeat.outbound`): no private address unless the deployment
allows them, every redirect re-checked, at most 5 redirects, 2 MB read, 10 s in all. A task's
`web_allow` patterns are checked at every hop too. The answer is JSON `{status, content_type,
text, truncated}` (and `title` for an HTML page): HTML is reduced to readable text by html2text
(docs/decisions/2026-12-01-web-fetch-html-to-text.md), and at most 20,000 characters of text are
kept. An HTTP error status is an answer (the agent may want to see a 503 page); a refused URL, a
timeout or a connection failure is a tool error.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from heartbeat.models.tools import host_allowed
from heartbeat.soul.types import Tool, ToolError
from heartbeat.tools.base import ModelTool, ToolArguments

if TYPE_CHECKING:
    from heartbeat.outbound.guard import Target

MAX_TEXT_CHARS = 20_000
MAX_READ_BYTES = 2 * 1024 * 1024
TIMEOUT_S = 10.0
MAX_REDIRECTS = 5
MAX_BODY_BYTES = 256 * 1024
_DROPPED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "te", "upgrade"})
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9._:-]+)", re.IGNORECASE)


class WebFetchArguments(ToolArguments):
    url: str = Field(min_length=1, max_length=4096, description="An http:// or https:// URL.")
    method: Literal["GET", "HEAD", "POST"] = Field(default="GET", description="GET (default), HEAD or POST.")
    headers: dict[str, str] | None = Field(default=None, description="Request headers, if any.")
    body: str | None = Field(default=None, description="The request body (POST only).")


@dataclass(frozen=True)
class WebSettings:
    allow_private: bool = False
    web_allow: tuple[str, ...] = ()
    resolver: Callable[..., object] | None = None
    """Tests name hosts that resolve to their loopback server; None is the system resolver."""


def html_to_text(markup: str) -> str:
    """Readable text of an HTML page: headings, paragraphs, lists and links, no markup or scripts."""
    import html2text

    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.unicode_snob = True
    converter.single_line_break = False
    text = converter.handle(markup)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def page_title(markup: str) -> str | None:
    match = _TITLE.search(markup)
    if match is None:
        return None
    title = " ".join(html.unescape(match.group(1)).split())
    return title or None


def _decode(body: bytes, content_type: str) -> str:
    match = _CHARSET.search(content_type)
    encoding = match.group(1) if match else "utf-8"
    try:
        return body.decode(encoding, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _is_text(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return (
        not kind
        or kind.startswith("text/")
        or kind in ("application/json", "application/xml", "application/javascript", "application/xhtml+xml")
        or kind.endswith("+json")
        or kind.endswith("+xml")
    )


def _is_html(content_type: str, body: bytes) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml"):
        return True
    return not kind and body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))


def web_fetch_tool(settings: WebSettings) -> Tool:
    def check_hop(target: Target) -> None:
        from heartbeat.outbound.guard import OutboundRefusedError

        if not host_allowed(target.host, settings.web_allow):
            raise OutboundRefusedError(
                f"{target.host} is not in this task's web_allow ({', '.join(settings.web_allow)})"
            )

    def run(arguments: WebFetchArguments) -> str:
        from heartbeat.outbound.guard import OutboundRefusedError
        from heartbeat.outbound.http import OutboundError, request

        if arguments.body is not None and arguments.method != "POST":
            raise ToolError("web_fetch: a body goes with method POST only")
        body = arguments.body.encode() if arguments.body is not None else None
        if body is not None and len(body) > MAX_BODY_BYTES:
            raise ToolError(f"web_fetch: the body is {len(body)} bytes; at most {MAX_BODY_BYTES}")
        headers = {k: v for k, v in (arguments.headers or {}).items() if k.lower() not in _DROPPED_HEADERS}
        if any("\r" in k + v or "\n" in k + v for k, v in headers.items()):
            raise ToolError("web_fetch: header names and values must be on one line")
        try:
            response = request(
                arguments.method,
                arguments.url,
                headers=headers,
                body=body,
                timeout_s=TIMEOUT_S,
                max_bytes=MAX_READ_BYTES,
                max_redirects=MAX_REDIRECTS,
                allow_private=settings.allow_private,
                resolver=settings.resolver,  # type: ignore[arg-type]
                check_hop=check_hop,
            )
        except OutboundRefusedError as exc:
            raise ToolError(
                f"web_fetch refused {arguments.url.split('?', 1)[0][:200]}: {exc.message}"
            ) from None
        except OutboundError as exc:
            raise ToolError(f"web_fetch failed: {exc.message}") from None
        answer: dict[str, object] = {"status": response.status, "content_type": response.content_type}
        truncated = response.truncated
        if not _is_text(response.content_type):
            text = f"({len(response.body)} bytes of {response.content_type or 'unknown type'}, not text: not shown)"
        else:
            decoded = _decode(response.body, response.content_type)
            if _is_html(response.content_type, response.body):
                title = page_title(decoded)
                if title is not None:
                    answer["title"] = title
                text = html_to_text(decoded)
            else:
                text = decoded
        if len(text) > MAX_TEXT_CHARS:
            text, truncated = text[:MAX_TEXT_CHARS], True
        answer["text"] = text
        answer["truncated"] = truncated
        return json.dumps(answer, ensure_ascii=False)

    return ModelTool.build(
        "web_fetch",
        f"Fetch a public web page or HTTP API (GET, HEAD or POST). Answers JSON with status, content_type, "
        f"text (HTML reduced to readable text, at most {MAX_TEXT_CHARS} characters) and truncated. "
        "Private and internal addresses are refused.",
        WebFetchArguments,
        run,
    )
