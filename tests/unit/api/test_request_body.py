"""Request-body parsing: hostile JSON fails as "not valid JSON" naming the problem; good JSON
parses exactly."""

from __future__ import annotations

import json
import re

import pytest

from heartbeat.api.body import parse_json_body, utf8_problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[" * 100_000 + "]" * 100_000, "nests deeper than 64 levels"),
        ('{"a": ' + "[" * 65 + "]" * 65 + "}", "nests deeper than 64 levels"),
        ('{"limit": 1' + "0" * 5000 + "}", "more than 4300 digits"),
        ('{"value": "x\\ud800y"}', "lone UTF-16 surrogate (\\ud800)"),
        ('{"x\\udfff": 1}', "lone UTF-16 surrogate (\\udfff)"),
    ],
)
def test_hostile_json_is_a_decode_error_that_names_the_problem(text: str, problem: str) -> None:
    with pytest.raises(json.JSONDecodeError, match=re.escape(problem)):
        parse_json_body(text)


def test_valid_json_with_a_surrogate_pair_and_unicode_is_kept_exactly() -> None:
    assert parse_json_body('{"v": "\\ud83d\\ude00 caf\u00e9", "n": [1, 2.5, null]}') == {
        "v": "\U0001f600 caf\u00e9",
        "n": [1, 2.5, None],
    }


def test_a_base64_body_that_is_not_utf8_is_named_by_its_byte() -> None:
    event = {"body": "eyJuYW1lIjogIv/+IGJhZCJ9", "isBase64Encoded": True, "headers": {}}
    assert utf8_problem(event) == (
        "the request body is not UTF-8 (byte 0xff at offset 10): send JSON encoded as UTF-8"
    )


def test_a_base64_body_that_is_utf8_becomes_text() -> None:
    event = {"body": "eyJhIjogMX0=", "isBase64Encoded": True, "headers": {"Content-Type": "application/json"}}
    assert utf8_problem(event) is None and event == {
        "body": '{"a": 1}',
        "isBase64Encoded": False,
        "headers": {"Content-Type": "application/json"},
    }
