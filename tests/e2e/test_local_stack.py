"""The local stack end to end: HTTP in, schedules firing the executor, state kept across restarts."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from heartbeat_cli.local.clock import ManualClock
from heartbeat_cli.local.resources import StackNames

from .conftest import RecordingExecutor, cli, create_key, http, next_minute

pytestmark = pytest.mark.e2e


def curl(*args: str) -> tuple[int, Any]:
    """Run curl as a user would; (status, JSON body)."""
    out = subprocess.run(
        ["curl", "-s", "-w", "\n%{http_code}", *args], capture_output=True, text=True, check=True
    )
    body, _, status = out.stdout.rpartition("\n")
    return int(status), json.loads(body) if body else None


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_readmes_curl_calls_work_against_the_local_stack(data_dir: Path, start_stack: Any) -> None:
    key = create_key(data_dir, scopes="config.read,config.write")
    url = start_stack(data_dir).api_url
    auth = f"Authorization: Bearer {key}"
    status, created = curl(
        "-X",
        "POST",
        f"{url}/v1/tasks",
        "-H",
        auth,
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"name": "daily-summary", "prompt": "Summarise the day", "schedule": "0 18 * * *", '
        '"timezone": "America/New_York"}',
    )
    assert status == 201, created
    task = created["task"]
    assert task["schedule"] == {"type": "cron", "expression": "0 18 * * *", "timezone": "America/New_York"}
    assert task["model"] == "offline/heartbeat"
    status, listed = curl(f"{url}/v1/tasks", "-H", auth)
    assert status == 200 and [t["id"] for t in listed["tasks"]] == [task["id"]] and listed["total"] == 1
    status, got = curl(f"{url}/v1/tasks/{task['id']}", "-H", auth)
    assert status == 200 and got["task"]["name"] == "daily-summary"
    status, patched = curl(
        "-X",
        "PATCH",
        f"{url}/v1/tasks/{task['id']}",
        "-H",
        auth,
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"enabled": false}',
    )
    assert status == 200 and patched["task"]["enabled"] is False
    status, deleted = curl("-X", "DELETE", f"{url}/v1/tasks/{task['id']}", "-H", auth)
    assert (status, deleted) == (200, {"ok": True, "id": task["id"]})
    status, gone = curl(f"{url}/v1/tasks/{task['id']}", "-H", auth)
    assert status == 404 and gone["error"]["type"] == "not_found_error"


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_readmes_memory_calls_work_against_the_local_stack(data_dir: Path, start_stack: Any) -> None:
    key = create_key(data_dir, scopes="memory.read,memory.write")
    url = start_stack(data_dir).api_url
    auth = ("-H", f"Authorization: Bearer {key}")
    json_body = ("-H", "Content-Type: application/json", "-d")
    status, put = curl(
        "-X",
        "PUT",
        f"{url}/v1/memory/core/persona",
        *auth,
        *json_body,
        '{"value": "You are the operations assistant of the platform team.", "limit": 2000}',
    )
    assert status == 200 and put["block"]["label"] == "persona" and put["block"]["limit"] == 2000, put
    status, blocks = curl(f"{url}/v1/memory/core", *auth)
    assert status == 200 and [b["label"] for b in blocks["blocks"]] == ["persona"]
    status, block = curl(f"{url}/v1/memory/core/persona", *auth)
    assert (
        status == 200 and block["block"]["value"] == "You are the operations assistant of the platform team."
    )
    status, stored = curl(
        "-X",
        "POST",
        f"{url}/v1/memory/archival",
        *auth,
        *json_body,
        '{"text": "The failover runbook is in the ops wiki under DB/Failover.", "tags": ["runbook"]}',
    )
    assert status == 201 and stored["passage"]["id"].startswith("mem_"), stored
    status, found = curl(f"{url}/v1/memory/archival?query=failover+runbook&limit=5", *auth)
    assert status == 200 and [p["id"] for p in found["passages"]] == [stored["passage"]["id"]]
    status, deleted = curl("-X", "DELETE", f"{url}/v1/memory/archival/{stored['passage']['id']}", *auth)
    assert (status, deleted) == (200, {"ok": True, "id": stored["passage"]["id"]})
    assert curl(f"{url}/v1/memory/archival?query=failover", *auth) == (
        200,
        {"passages": [], "next_cursor": None, "exhaustive": True},
    )
    status, deleted = curl("-X", "DELETE", f"{url}/v1/memory/core/persona", *auth)
    assert (status, deleted) == (200, {"ok": True, "label": "persona"})


def test_api_gateway_answers_for_keys_and_routes(data_dir: Path, start_stack: Any) -> None:
    key = create_key(data_dir, scopes="config.read")
    url = start_stack(data_dir).api_url
    assert http("GET", f"{url}/v1/tasks") == (401, {"message": "Unauthorized"})
    assert http("GET", f"{url}/v1/tasks", key="hb_test_not-a-key") == (401, {"message": "Unauthorized"})
    assert http("GET", f"{url}/v1/nothing-here", key=key) == (404, {"message": "Not Found"})
    status, body = http(
        "POST", f"{url}/v1/tasks", key=key, body={"name": "n", "prompt": "p", "schedule": "* * * * *"}
    )
    assert status == 403, body  # a known key without config.write
    status, spec = http("GET", f"{url}/v1/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    assert {"/v1/tasks", "/v1/tasks/{task_id}"} <= set(spec["paths"])


def test_swagger_ui_is_served_without_a_cdn(data_dir: Path, start_stack: Any) -> None:
    import urllib.request

    url = start_stack(data_dir).api_url
    with urllib.request.urlopen(f"{url}/docs") as page:  # the api function's route, without a key
        html = page.read().decode()
    assert "SwaggerUIBundle" in html and len(html) > 1_000_000  # Powertools' bundled assets, inlined
    assert "https://" not in html.split("<body>")[0]
    assert '"/v1/tasks/{task_id}"' in html


def test_an_every_minute_task_fires_by_itself_and_records_an_ok_run(data_dir: Path, start_stack: Any) -> None:
    key = create_key(data_dir)
    clock = ManualClock(datetime.now(UTC))
    stack = start_stack(data_dir, clock=clock)
    status, created = http(
        "POST",
        f"{stack.api_url}/v1/tasks",
        key=key,
        body={"name": "pulse", "prompt": "Say hello", "schedule": "* * * * *"},
    )
    assert status == 201, created
    task_id = created["task"]["id"]
    assert stack.scheduler.drain(10)
    clock.set(next_minute(clock.now()) + timedelta(seconds=1))
    assert stack.scheduler.drain(60)
    status, got = http("GET", f"{stack.api_url}/v1/tasks/{task_id}", key=key)
    state = got["task"]["state"]
    assert state["last_status"] == "ok", state
    status, runs = http("GET", f"{stack.api_url}/v1/tasks/{task_id}/runs", key=key)
    assert status == 200 and [r["status"] for r in runs["runs"]] == ["ok"]
    assert runs["runs"][0]["model"] == "offline/heartbeat" and runs["runs"][0]["output"]

    status, started = http("POST", f"{stack.api_url}/v1/tasks/{task_id}/run", key=key)
    assert status == 202, started
    assert stack.scheduler.drain(60)
    status, runs = http("GET", f"{stack.api_url}/v1/tasks/{task_id}/runs", key=key)
    assert [r["status"] for r in runs["runs"]] == ["ok", "ok"]


def test_a_flexible_window_runs_inside_it_and_records_the_slot(data_dir: Path, start_stack: Any) -> None:
    key = create_key(data_dir)
    clock = ManualClock(datetime.now(UTC))
    stack = start_stack(data_dir, clock=clock)
    body = {"name": "spread", "prompt": "Say hello", "schedule": "0 * * * *", "flexible_window_minutes": 5}
    status, created = http("POST", f"{stack.api_url}/v1/tasks", key=key, body=body)
    assert status == 201, created
    task = created["task"]
    assert task["flexible_window_minutes"] == 5
    slot = datetime.fromisoformat(task["state"]["next_run_at"].replace("Z", "+00:00"))
    assert slot.minute == 0 and slot.second == 0  # next_run_at is the slot, not a time in the window
    assert stack.scheduler.drain(10)
    clock.set(slot - timedelta(seconds=1))
    assert stack.scheduler.drain(10)
    status, runs = http("GET", f"{stack.api_url}/v1/tasks/{task['id']}/runs", key=key)
    assert runs["runs"] == []
    clock.set(slot + timedelta(minutes=5, seconds=1))  # past the whole window: it has fired
    assert stack.scheduler.drain(60)
    status, runs = http("GET", f"{stack.api_url}/v1/tasks/{task['id']}/runs", key=key)
    assert [r["status"] for r in runs["runs"]] == ["ok"], runs
    run = runs["runs"][0]
    assert run["scheduled_at"] == task["state"]["next_run_at"]  # the slot, whenever it started
    status, got = http("GET", f"{stack.api_url}/v1/tasks/{task['id']}", key=key)
    assert got["task"]["state"]["next_run_at"].endswith(":00:00.000Z")  # still a slot, never a windowed time


def test_a_restart_loses_nothing(data_dir: Path, start_stack: Any) -> None:
    names = StackNames()
    key = create_key(data_dir)  # before the first start: written to the (stopped) stack's data
    clock = ManualClock(datetime.now(UTC))
    stack = start_stack(data_dir, clock=clock)
    status, created = http(
        "POST",
        f"{stack.api_url}/v1/tasks",
        key=key,
        body={"name": "pulse", "prompt": "Say hello", "schedule": "*/5 * * * *"},
    )
    assert status == 201, created
    task_id = created["task"]["id"]
    stack.clients["dynamodb"].put_item(
        TableName=names.table("MemoryTable"),
        Item={"pk": {"S": "acme"}, "sk": {"S": "core#persona"}, "value": {"S": "kind"}},
    )
    stack.clients["s3"].put_object(Bucket=names.bucket, Key="transcripts/acme/c1.json", Body=b"[]")
    status, _ = http("POST", f"{stack.api_url}/v1/tasks/{task_id}/run", key=key)
    assert status == 202 and stack.scheduler.drain(60)
    planned_before = stack.scheduler.planned()
    stack.stop()

    later = create_key(data_dir, tenant="globex")  # while stopped, too
    stack = start_stack(data_dir, clock=ManualClock(clock.now()))
    assert stack.scheduler.drain(10)
    status, got = http("GET", f"{stack.api_url}/v1/tasks/{task_id}", key=key)
    assert status == 200 and got["task"]["name"] == "pulse" and got["task"]["state"]["last_status"] == "ok"
    status, runs = http("GET", f"{stack.api_url}/v1/tasks/{task_id}/runs", key=key)
    assert [r["status"] for r in runs["runs"]] == ["ok"]
    assert stack.scheduler.planned() == planned_before  # the schedule is back, firing at the same times
    assert http("GET", f"{stack.api_url}/v1/tasks", key=later)[1]["total"] == 0
    memory = stack.clients["dynamodb"].get_item(
        TableName=names.table("MemoryTable"), Key={"pk": {"S": "acme"}, "sk": {"S": "core#persona"}}
    )
    assert memory["Item"]["value"] == {"S": "kind"}
    assert (
        stack.clients["s3"].get_object(Bucket=names.bucket, Key="transcripts/acme/c1.json")["Body"].read()
        == b"[]"
    )


def test_time_zones_and_dst_decide_when_tasks_fire(data_dir: Path, start_stack: Any) -> None:
    key = create_key(data_dir)
    clock, executor = ManualClock(datetime(2027, 3, 13, 0, 0, tzinfo=UTC)), RecordingExecutor()
    stack = start_stack(data_dir, clock=clock, executor=executor)

    def create(name: str, schedule: str, tz: str) -> str:
        status, body = http(
            "POST",
            f"{stack.api_url}/v1/tasks",
            key=key,
            body={"name": name, "prompt": "p", "schedule": schedule, "timezone": tz},
        )
        assert status == 201, body
        return str(body["task"]["id"])

    new_york = create("ny-0230", "30 2 * * *", "America/New_York")
    tokyo = create("tokyo-0900", "0 9 * * *", "Asia/Tokyo")
    assert stack.scheduler.drain(10)
    for _ in range(24 * 3):
        clock.advance(timedelta(hours=1))
        assert stack.scheduler.drain(10)
    # 02:30 does not exist in New York on 2027-03-14 (spring forward): that day is skipped.
    assert executor.times(new_york) == ["2027-03-13T07:30:00Z", "2027-03-15T06:30:00Z"]
    assert executor.times(tokyo) == ["2027-03-14T00:00:00Z", "2027-03-15T00:00:00Z", "2027-03-16T00:00:00Z"]
    event = next(e for e in executor.events if e["task_id"] == new_york)
    assert event == {"tenant_id": "acme", "task_id": new_york, "scheduled_time": "2027-03-13T07:30:00Z"}


def test_fall_back_runs_a_repeated_local_time_once(data_dir: Path, start_stack: Any) -> None:
    key = create_key(data_dir)
    clock, executor = ManualClock(datetime(2027, 11, 6, 12, 0, tzinfo=UTC)), RecordingExecutor()
    stack = start_stack(data_dir, clock=clock, executor=executor)
    status, body = http(
        "POST",
        f"{stack.api_url}/v1/tasks",
        key=key,
        body={"name": "ny-0130", "prompt": "p", "schedule": "30 1 * * *", "timezone": "America/New_York"},
    )
    assert status == 201, body
    for _ in range(24 * 2):
        clock.advance(timedelta(hours=1))
        assert stack.scheduler.drain(10)
    times = executor.times(body["task"]["id"])
    assert len([t for t in times if t.startswith("2027-11-07")]) == 1
    assert times[-1] == "2027-11-08T06:30:00Z"


def test_the_tasks_cli_drives_the_api(data_dir: Path, start_stack: Any) -> None:
    key = create_key(data_dir)
    stack = start_stack(data_dir)
    base = ("tasks", "--url", stack.api_url, "--key", key)
    code, out = cli(
        *base,
        "--json",
        "create",
        "--name",
        "nightly",
        "--prompt",
        "p",
        "--schedule",
        "0 2 * * *",
        "--timezone",
        "Europe/Paris",
    )
    assert code == 0, out
    task_id = json.loads(out)["task"]["id"]
    code, out = cli(*base, "list")
    assert code == 0 and "nightly" in out and "0 2 * * * (Europe/Paris)" in out and "1 task(s)" in out
    code, out = cli(*base, "--json", "update", task_id, "--disable", "--prompt", "q")
    assert (
        code == 0 and json.loads(out)["task"]["enabled"] is False and json.loads(out)["task"]["prompt"] == "q"
    )
    code, out = cli(*base, "get", task_id)
    assert code == 0 and "enabled: False" in out
    code, out = cli(*base, "--json", "runs", task_id)
    assert code == 0 and json.loads(out)["runs"] == []
    # the common options work after the action as well
    code, out = cli("tasks", "list", "--json", "--url", stack.api_url, "--key", key)
    assert code == 0 and json.loads(out)["tasks"][0]["id"] == task_id
    code, out = cli(*base, "delete", task_id)
    assert code == 0 and f"Deleted {task_id}." in out
    assert cli(*base, "get", task_id)[0] == 1
    assert cli("tasks", "--url", stack.api_url, "--key", "hb_test_wrong", "list")[0] == 1


def test_invoke_runs_a_handler_against_the_running_stack(
    data_dir: Path, tmp_path: Path, start_stack: Any
) -> None:
    key = create_key(data_dir)
    start_stack(data_dir)
    event = json.loads((Path(__file__).parents[2] / "events" / "authorizer.json").read_text())
    event["headers"] = {**event.get("headers", {}), "authorization": f"Bearer {key}"}
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    code, out = cli("invoke", "authorizer", str(path), "--data-dir", str(data_dir))
    assert code == 0, out
    assert json.loads(out)["isAuthorized"] is True and json.loads(out)["context"]["tenant_id"] == "acme"
    event["headers"]["authorization"] = "Bearer hb_test_unknown"
    path.write_text(json.dumps(event))
    code, out = cli("invoke", "authorizer", str(path), "--data-dir", str(data_dir))
    assert code == 1 and json.loads(out)["errorMessage"] == "Unauthorized"


def test_a_port_in_use_is_named_with_the_option_that_moves_it(data_dir: Path, start_stack: Any) -> None:
    import socket

    from heartbeat_cli.local.stack import LocalStack, StackOptions

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        for options, option in (
            (StackOptions(port=port, aws_port=0, data_dir=data_dir), "--port"),
            (StackOptions(port=0, aws_port=port, data_dir=data_dir), "--aws-port"),
        ):
            with pytest.raises(OSError, match=f"port {port} .* is in use: .* {option}"), LocalStack(options):
                pass


def test_concurrent_requests_of_two_tenants_each_get_their_own_answer(
    data_dir: Path, start_stack: Any
) -> None:
    """A browser fetches in parallel; each request must still see its own key's tenant."""
    from concurrent.futures import ThreadPoolExecutor

    keys = {tenant: create_key(data_dir, tenant=tenant) for tenant in ("acme", "globex")}
    url = start_stack(data_dir).api_url
    names = {}
    for tenant, key in keys.items():
        status, created = http(
            "POST", f"{url}/v1/tasks", key, {"name": f"{tenant}-task", "prompt": "p", "schedule": "0 9 * * *"}
        )
        assert status == 201, created
        names[tenant] = created["task"]["name"]

    def listing(tenant: str) -> tuple[str, int, Any]:
        status, body = http("GET", f"{url}/v1/tasks", keys[tenant])
        return tenant, status, body

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(listing, ["acme", "globex"] * 40))
    for tenant, status, body in answers:
        assert status == 200, body
        assert [t["name"] for t in body["tasks"]] == [names[tenant]]
