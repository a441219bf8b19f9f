"""Ids, times, schedule names and the error envelope."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from heartbeat import errors
from heartbeat.api import responses
from heartbeat.dal.schedules import schedule_names
from heartbeat.ids import new_id
from heartbeat.timeutil import iso, parse_iso


def test_ids_are_prefixed_unique_and_sort_by_time():
    a = new_id("cron", 1_700_000_000_000)
    b = new_id("cron", 1_700_000_000_001)
    assert re.fullmatch(r"cron_[0-9a-z]{26}", a)
    assert a < b
    assert len({new_id("cron", 1) for _ in range(1000)}) == 1000


def test_iso_has_milliseconds_and_z():
    dt = datetime(2026, 2, 25, 7, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5)))
    assert iso(dt) == "2026-02-25T12:00:00.123Z"
    assert parse_iso("2026-02-25T12:00:00.123Z") == datetime(2026, 2, 25, 12, 0, 0, 123000, tzinfo=UTC)
    assert parse_iso("2026-02-25T12:00:00") == datetime(2026, 2, 25, 12, tzinfo=UTC)
    with pytest.raises(ValueError):
        iso(datetime(2026, 1, 1))


def test_schedule_names_fit_eventbridge_and_differ_by_tenant():
    task_id = new_id("cron")
    for tenant in ("a", "x" * 64, "tenant.with-dots_and_underscores"):
        for name in schedule_names(tenant, task_id, 2):
            assert len(name) <= 64 and re.fullmatch(r"[0-9a-zA-Z\-_.]+", name)
    assert schedule_names("a", task_id, 1) != schedule_names("b", task_id, 1)
    assert schedule_names("a", task_id, 2)[0] == schedule_names("a", task_id, 1)[0]


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (errors.InvalidRequestError("bad", param="name"), 400, "invalid_request_error"),
        (errors.UnauthorizedError("who"), 401, "authentication_error"),
        (errors.ForbiddenError("no"), 403, "permission_error"),
        (errors.NotFoundError("none"), 404, "not_found_error"),
        (errors.ConflictError("again"), 409, "conflict_error"),
        (errors.QuotaExceededError("full"), 429, "quota_exceeded_error"),
        (errors.DependencyError("down"), 500, "api_error"),
    ],
)
def test_every_error_has_its_status_in_one_envelope(error, status, kind):
    response = responses.from_error(error)
    assert response.status_code == status
    assert json.loads(response.body) == {
        "error": {"type": kind, "message": error.message, "param": error.param}
    }
