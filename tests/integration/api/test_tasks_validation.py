"""Every bad input is a 400 in the contract's envelope, naming the field and the fix, and leaves
nothing behind."""

from __future__ import annotations

import pytest

from support.api import ApiClient

SEED = {"name": "daily-summary", "prompt": "Summarise the day.", "schedule": "0 18 * * *"}


@pytest.fixture
def api(aws):
    return ApiClient(aws)


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({k: v for k, v in SEED.items() if k != "name"}, "name", "required"),
        ({k: v for k, v in SEED.items() if k != "prompt"}, "prompt", "required"),
        ({k: v for k, v in SEED.items() if k != "schedule"}, "schedule", "required"),
        ({**SEED, "name": 5}, "name", "string"),
        ({**SEED, "enabled": "yes"}, "enabled", "true or false"),
        ({**SEED, "name": ""}, "name", "empty"),
        ({**SEED, "name": "n" * 201}, "name", "200"),
        ({**SEED, "prompt": "p" * (32 * 1024 + 1)}, "prompt", "32 KiB"),
        ({**SEED, "description": "d" * (2 * 1024 + 1)}, "description", "2 KiB"),
        ({**SEED, "model": "claude"}, "model", "provider/model"),
        ({**SEED, "schedule": "61 * * * *"}, "schedule", "minute 61 is out of range 0-59"),
        ({**SEED, "schedule": "* * *"}, "schedule", "field"),
        ({**SEED, "schedule": "30 0 18 * * *"}, "schedule", "seconds must be 0"),
        ({**SEED, "timezone": "Mars/Olympus"}, "timezone", "unknown timezone 'Mars/Olympus'"),
        ({**SEED, "colour": "red"}, "colour", "unknown field"),
        ({**SEED, "schedule": None}, "schedule", 'a cron string such as "0 9 * * *" or an object'),
        ({**SEED, "schedule": 5}, "schedule", 'a cron string such as "0 9 * * *" or an object'),
        ({**SEED, "schedule": ["0 9 * * *"]}, "schedule", "a cron string"),
    ],
)
def test_bad_create_is_400_naming_the_field(api, aws, body, param, words):
    status, answer = api.call("POST", "/v1/tasks", body=body)
    assert status == 400, answer
    error = answer["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert words in error["message"]
    assert api.call("GET", "/v1/tasks")[1]["total"] == 0
    assert aws.scheduler.list_schedules(GroupName=aws.names.schedule_group)["Schedules"] == []


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2]", '"text"'])
def test_malformed_body_is_400(api, raw):
    status, answer = api.call("POST", "/v1/tasks", raw_body=raw)
    assert status == 400
    assert answer["error"]["type"] == "invalid_request_error"
    assert "JSON" in answer["error"]["message"] or "required" in answer["error"]["message"]


def test_bad_patch_is_400_and_changes_nothing(api, aws):
    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    for body, param in (
        ({"schedule": "0 25 * * *"}, "schedule"),
        ({"timezone": "Nowhere/City"}, "timezone"),
        ({"name": None}, "name"),
        ({"enabled": None}, "enabled"),
        ({"model": "x"}, "model"),
        ({"prompt": "p" * 40000}, "prompt"),
    ):
        status, answer = api.call("PATCH", f"/v1/tasks/{task['id']}", body=body)
        assert status == 400, body
        assert answer["error"]["param"] == param
    assert api.call("GET", f"/v1/tasks/{task['id']}")[1]["task"] == task


def test_a_model_of_a_provider_this_deployment_does_not_know_is_400(aws):
    api = ApiClient(aws)  # the local environment: no provider keys, HEARTBEAT_PROVIDERS empty
    status, answer = api.call("POST", "/v1/tasks", body={**SEED, "model": "nope/x"})
    assert status == 400
    assert answer["error"]["param"] == "model" and "unknown provider 'nope'" in answer["error"]["message"]


def test_a_known_provider_without_its_key_is_201_with_a_warning_saying_what_to_configure(aws):
    api = ApiClient(aws)
    status, answer = api.call("POST", "/v1/tasks", body={**SEED, "model": "anthropic/claude-sonnet-4-5"})
    assert status == 201, answer
    [warning] = answer["warnings"]
    assert "no API key" in warning and "ANTHROPIC_API_KEY" in warning
    status, answer = api.call("POST", "/v1/tasks", body={**SEED, "model": "offline/heartbeat"})
    assert status == 201 and "warnings" not in answer
    status, patched = api.call("PATCH", f"/v1/tasks/{answer['task']['id']}", body={"model": "anthropic/x"})
    assert status == 200 and "no API key" in patched["warnings"][0]


def test_a_configured_provider_is_accepted(aws):
    providers = '{"anthropic": {"kind": "anthropic", "api_key_secret": "heartbeat/anthropic"}}'
    api = ApiClient(aws, HEARTBEAT_PROVIDERS=providers)
    status, answer = api.call("POST", "/v1/tasks", body={**SEED, "model": "anthropic/claude-sonnet-4-5"})
    assert status == 201, answer
