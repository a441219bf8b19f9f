"""The API answers as its document says: schemathesis generates requests from GET /v1/openapi.json
(valid and invalid ones, a bounded number per operation) against the local stack, and every answer
must be documented (status, content type, body schema) and none may be a server error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import create_key, http

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 20


@pytest.fixture
def target(data_dir: Path, start_stack: Any) -> dict[str, str]:
    key = create_key(data_dir)
    url = start_stack(data_dir).api_url
    # A task, a run, a block and a passage, so listings answer with real items to check.
    status, created = http(
        "POST", f"{url}/v1/tasks", key, {"name": "fuzz", "prompt": "p", "schedule": "0 9 * * 1-5"}
    )
    assert status == 201, created
    assert http("POST", f"{url}/v1/tasks/{created['task']['id']}/run", key)[0] == 202
    assert http("PUT", f"{url}/v1/memory/core/persona", key, {"value": "a helpful agent"})[0] == 200
    assert http("POST", f"{url}/v1/memory/archival", key, {"text": "a passage", "tags": ["t"]})[0] == 201
    return {"url": url, "key": key}


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_every_answer_is_one_the_document_describes(target: dict[str, str], mode: str) -> None:
    # Hypothesis drives each operation's strategy directly (schemathesis' pytest plugin does not
    # load under this pytest): a fixed number of examples per operation, the same ones every run.
    schema = schemathesis.openapi.from_url(f"{target['url']}/v1/openapi.json")
    auth = {"Authorization": f"Bearer {target['key']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        strategy = operation.as_strategy(generation_mode=GenerationMode(mode))

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def answers_as_documented(case: Any) -> None:
            case.call_and_validate(base_url=target["url"], headers=auth, checks=CHECKS, timeout=30)

        try:
            answers_as_documented()
        except Exception as exc:
            raise AssertionError(f"{operation.label} ({mode}): {exc}") from exc
