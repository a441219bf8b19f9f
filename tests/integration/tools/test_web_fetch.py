"""web_fetch against a real HTTP server on loopback: readable text, bounds, web_allow, refusals."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from heartbeat.soul.types import ToolError
from heartbeat.tools.web import MAX_TEXT_CHARS, WebSettings, web_fetch_tool


def fetch(url: str, settings: WebSettings | None = None, **arguments: Any) -> dict[str, Any]:
    tool = web_fetch_tool(settings or WebSettings(allow_private=True))
    return json.loads(tool({"url": url, **arguments}))


def test_an_html_page_comes_back_as_its_title_and_readable_text(page):
    answer = fetch(f"{page}/status")

    assert answer["status"] == 200
    assert answer["content_type"] == "text/html; charset=utf-8"
    assert answer["title"] == "Example Status"
    assert answer["text"].startswith("# API: degraded performance")
    assert "Elevated error rates on [the API](/api) since 21:40 UTC." in answer["text"]
    assert "* Web: operational" in answer["text"]
    assert (
        "<" not in answer["text"] and "not text" not in answer["text"] and "color:red" not in answer["text"]
    )
    assert answer["truncated"] is False


def test_text_is_cut_at_twenty_thousand_characters_and_says_so(page):
    answer = fetch(f"{page}/big")

    assert len(answer["text"]) == MAX_TEXT_CHARS
    assert answer["truncated"] is True


def test_json_and_error_statuses_are_answers_not_failures(page):
    assert fetch(f"{page}/json")["text"] == '{"ok": true}'
    missing = fetch(f"{page}/nowhere")
    assert (missing["status"], missing["text"]) == (404, "not found")


def test_head_reads_no_body(page):
    answer = fetch(f"{page}/status", method="HEAD")
    assert (answer["status"], answer["text"]) == (200, "")


def test_bad_arguments_are_a_tool_error_the_model_can_fix(page):
    tool = web_fetch_tool(WebSettings(allow_private=True))
    with pytest.raises(ToolError, match="method"):
        tool({"url": f"{page}/status", "method": "DELETE"})
    with pytest.raises(ToolError, match="POST only"):
        tool({"url": f"{page}/status", "body": "x"})
    with pytest.raises(ToolError, match="url"):
        tool({})


def resolving(mapping: dict[str, str]) -> Any:
    def lookup(host: str, port: int, *args: Any) -> list[tuple[Any, ...]]:
        if host not in mapping:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (mapping[host], port))]

    return lookup


def test_web_allow_admits_its_hosts_and_is_checked_again_at_every_redirect(page):
    port = page.rsplit(":", 1)[1]
    settings = WebSettings(
        allow_private=True,
        web_allow=("status.example.test",),
        resolver=resolving({"status.example.test": "127.0.0.1", "elsewhere.test": "127.0.0.1"}),
    )

    assert fetch(f"http://status.example.test:{port}/status", settings)["title"] == "Example Status"
    with pytest.raises(ToolError, match="elsewhere.test is not in this task's web_allow"):
        fetch(f"http://status.example.test:{port}/redirect-away", settings)
    with pytest.raises(ToolError, match="127.0.0.1 is not in this task's web_allow"):
        fetch(f"{page}/status", WebSettings(allow_private=True, web_allow=("status.example.test",)))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/status",
        "http://localhost:{port}/status",
        "http://2130706433:{port}/status",
        "http://0177.0.0.1:{port}/status",
        "http://0x7f.1:{port}/status",
        "http://[::1]:{port}/status",
        "http://[::ffff:127.0.0.1]:{port}/status",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.64.0.1/",
        "http://10.0.0.1/",
        "http://192.168.0.1/",
        "http://0.0.0.0:{port}/status",
        "http://224.0.0.1/",
    ],
)
def test_every_private_address_form_is_refused_before_any_connection(page, url):
    port = page.rsplit(":", 1)[1]
    with pytest.raises(ToolError, match="web_fetch refused .*AllowPrivateNetworkTargets"):
        fetch(url.format(port=port), WebSettings(allow_private=False))


def test_a_public_name_that_resolves_to_a_private_address_is_refused(page):
    settings = WebSettings(allow_private=False, resolver=resolving({"status.example.com": "10.0.0.7"}))
    with pytest.raises(ToolError, match="resolves to 10.0.0.7, a private address"):
        fetch("https://status.example.com/", settings)
