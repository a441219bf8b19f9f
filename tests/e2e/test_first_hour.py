"""A newcomer's first hour, end to end over HTTP against the local stack: the seed's request as
the README shows it, one data dir per stack (the CLI finds a stack on any ports from --data-dir
alone), `invoke` piping to a JSON parser, runs and conversations read whole, memory paged."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from heartbeat_cli.local.clock import ManualClock

from .conftest import RecordingExecutor, cli, create_key, http

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
LOCAL_URL = "http://127.0.0.1:3000"


def readme_block(heading: str, language: str) -> str:
    """The first ```language block after `heading` in the README."""
    section = README[README.index(heading) :]
    match = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert match, f"no {language} block after {heading!r}"
    return match.group(1)


@pytest.fixture
def no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "HEARTBEAT_PROVIDERS", "HEARTBEAT_URL"):
        monkeypatch.delenv(name, raising=False)


def run_now_and_wait(stack: Any, key: str, task_id: str) -> dict[str, Any]:
    status, started = http("POST", f"{stack.api_url}/v1/tasks/{task_id}/run", key=key)
    assert status == 202, started
    assert stack.scheduler.drain(60)
    status, answer = http("GET", f"{stack.api_url}/v1/tasks/{task_id}/runs/{started['run']['id']}", key=key)
    assert status == 200, answer
    return answer["run"]


def test_the_seeds_curl_request_is_201_with_a_warning_and_its_run_says_what_to_configure(
    data_dir: Path, start_stack: Any, no_provider_keys: None
) -> None:
    key = create_key(data_dir)
    stack = start_stack(data_dir)
    command = readme_block("### The seed's example", "sh").replace(LOCAL_URL, stack.api_url)
    assert "anthropic/claude-sonnet-4-5" in command
    out = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        check=True,
        env={"HEARTBEAT_API_KEY": key, "PATH": "/usr/bin:/bin"},
    )
    created = json.loads(out.stdout)
    task = created["task"]
    assert task["model"] == "anthropic/claude-sonnet-4-5"
    [warning] = created["warnings"]
    assert "ANTHROPIC_API_KEY" in warning

    run = run_now_and_wait(stack, key, task["id"])
    assert run["status"] == "error" and "ANTHROPIC_API_KEY" in run["error"]
    state = http("GET", f"{stack.api_url}/v1/tasks/{task['id']}", key=key)[1]["task"]["state"]
    assert state["last_status"] == "error" and "ANTHROPIC_API_KEY" in state["last_error"]


def test_the_seeds_python_example_creates_its_task(
    data_dir: Path, start_stack: Any, no_provider_keys: None
) -> None:
    key = create_key(data_dir)
    stack = start_stack(data_dir)
    code = readme_block("### The seed's example", "python").replace(LOCAL_URL, stack.api_url)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"HEARTBEAT_API_KEY": key},
        check=True,
    )
    status, body = out.stdout.split(" ", 1)
    assert status == "201" and json.loads(body)["task"]["model"] == "anthropic/claude-sonnet-4-5"


def test_an_unknown_provider_is_400_and_bedrock_here_is_known_but_not_available(
    data_dir: Path, start_stack: Any, no_provider_keys: None
) -> None:
    key = create_key(data_dir)
    stack = start_stack(data_dir)
    body = {"name": "n", "prompt": "p", "schedule": "0 9 * * *"}
    status, answer = http("POST", f"{stack.api_url}/v1/tasks", key=key, body={**body, "model": "gemini/pro"})
    assert status == 400 and answer["error"]["param"] == "model"
    assert "unknown provider 'gemini'" in answer["error"]["message"]

    model = "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    status, created = http("POST", f"{stack.api_url}/v1/tasks", key=key, body={**body, "model": model})
    assert status == 201, created
    assert "not available in the local stack" in created["warnings"][0]
    run = run_now_and_wait(stack, key, created["task"]["id"])
    assert run["status"] == "error" and "not available in the local stack" in run["error"]


def test_the_cli_finds_a_stack_on_other_ports_from_its_data_dir_alone(
    data_dir: Path,
    start_stack: Any,
    no_provider_keys: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = start_stack(data_dir)  # on free ports, not 3000/5000
    endpoint = json.loads((data_dir / "endpoint.json").read_text())
    assert endpoint["api_url"] == stack.api_url and endpoint["aws_url"] == stack.aws_url and endpoint["pid"]

    key = create_key(data_dir)  # through the running stack: works at once
    base = ("tasks", "--data-dir", str(data_dir), "--key", key)
    code, out = cli(
        *base, "--json", "create", "--name", "hello", "--prompt", "Say hello", "--schedule", "0 9 * * *"
    )
    assert code == 0, out
    task_id = json.loads(out)["task"]["id"]
    monkeypatch.setenv("HEARTBEAT_URL", "http://127.0.0.1:9")  # a given --data-dir still wins
    code, out = cli(*base, "get", task_id)
    assert code == 0 and "state.next_run_at: " in out and "conversation_id: " in out and "created_at: " in out
    code, _ = cli(*base, "run", task_id)
    assert code == 0 and stack.scheduler.drain(60)
    code, out = cli(*base, "runs", task_id)
    assert code == 0 and "status: ok" in out and "output:" in out and 'Task: "Say hello"' in out
    run_id = re.search(r"^id: (run_\w+)$", out, re.M).group(1)  # type: ignore[union-attr]
    code, out = cli(*base, "runs", task_id, run_id)
    assert code == 0 and f"id: {run_id}" in out and "Answer: Say hello" in out

    stack.stop()
    assert not (data_dir / "endpoint.json").exists()
    capsys.readouterr()
    code, _ = cli(*base, "list")
    err = capsys.readouterr().err
    assert code == 1 and f"no local stack is running on the data dir {data_dir}" in err and "make run" in err


def test_a_stale_endpoint_file_means_no_stack_and_invoke_writes_nothing(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir.mkdir(parents=True)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = {"pid": int(dead.stdout), "api_url": "http://127.0.0.1:3999", "aws_url": "http://127.0.0.1:5999"}
    (data_dir / "endpoint.json").write_text(json.dumps(stale))
    code, out = cli(
        "invoke", "api", str(ROOT / "events" / "api-create-task.json"), "--data-dir", str(data_dir)
    )
    err = capsys.readouterr().err
    assert code == 2 and out == "" and "no local stack is running" in err
    assert {p.name for p in data_dir.iterdir()} == {"endpoint.json"}


def test_a_key_created_while_no_stack_runs_works_when_it_starts(
    data_dir: Path, start_stack: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    key = create_key(data_dir)
    assert "no local stack is running on" in capsys.readouterr().err
    stack = start_stack(data_dir)
    assert http("GET", f"{stack.api_url}/v1/tasks", key=key)[0] == 200


def test_invoke_prints_only_the_result_on_stdout_so_it_pipes_to_a_json_parser(
    data_dir: Path, start_stack: Any
) -> None:
    stack = start_stack(data_dir)
    invoke = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "heartbeat_cli.main",
            "invoke",
            "api",
            "events/api-create-task.json",
            "--data-dir",
            str(data_dir),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    parse = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys; r = json.load(sys.stdin); print(r['statusCode'], json.loads(r['body'])['task']['id'])",
        ],
        stdin=invoke.stdout,
        capture_output=True,
        text=True,
    )
    assert invoke.stdout is not None
    invoke.stdout.close()
    invoke.wait(timeout=60)
    assert invoke.returncode == 0 and parse.returncode == 0, parse.stderr
    status, task_id = parse.stdout.split()
    assert status == "201"
    # The task reached the running stack, not a copy of its files.
    listed = stack.clients["dynamodb"].get_item(
        TableName=stack.environment["TASKS_TABLE"], Key={"pk": {"S": "demo"}, "sk": {"S": task_id}}
    )
    assert "Item" in listed


def test_a_pinned_conversation_is_shown_page_by_page_and_forgotten(data_dir: Path, start_stack: Any) -> None:
    key = create_key(data_dir)
    stack = start_stack(data_dir)
    body = {
        "name": "standup",
        "prompt": "Summarise the standup.",
        "schedule": "0 9 * * *",
        "conversation_id": "standup",
    }
    task_id = http("POST", f"{stack.api_url}/v1/tasks", key=key, body=body)[1]["task"]["id"]
    assert run_now_and_wait(stack, key, task_id)["status"] == "ok"
    second = run_now_and_wait(stack, key, task_id)
    assert "Conversation: 2 earlier messages" in second["output"]

    messages, cursor = [], None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        status, page = http("GET", f"{stack.api_url}/v1/conversations/standup?limit=1{suffix}", key=key)
        assert status == 200, page
        messages += page["messages"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert http("DELETE", f"{stack.api_url}/v1/conversations/standup", key=key) == (
        200,
        {"ok": True, "id": "standup"},
    )
    assert http("GET", f"{stack.api_url}/v1/conversations/standup", key=key)[0] == 404
    assert "Conversation:" not in run_now_and_wait(stack, key, task_id)["output"]


def test_120_passages_are_listed_page_by_page_each_once(data_dir: Path, start_stack: Any) -> None:
    from heartbeat.memory.store import MemoryStore

    key = create_key(data_dir)
    stack = start_stack(data_dir)
    ids = MemoryStore(stack.clients["dynamodb"], stack.environment["MEMORY_TABLE"], "acme").import_passages(
        (f"passage number {n}", ["bulk"]) for n in range(120)
    )
    seen: list[str] = []
    cursor = None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        status, page = http("GET", f"{stack.api_url}/v1/memory/archival?limit=50{suffix}", key=key)
        assert status == 200, page
        seen += [p["id"] for p in page["passages"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 120 and sorted(seen) == sorted(ids) and seen == sorted(seen, reverse=True)


def test_a_task_remembering_the_same_thing_every_run_keeps_one_passage(
    data_dir: Path, start_stack: Any
) -> None:
    key = create_key(data_dir)
    stack = start_stack(data_dir)
    body = {"name": "facts", "prompt": "Remember that deploys freeze on Fridays.", "schedule": "0 9 * * *"}
    task_id = http("POST", f"{stack.api_url}/v1/tasks", key=key, body=body)[1]["task"]["id"]
    assert (
        'Stored in archival memory: "deploys freeze on Fridays"'
        in run_now_and_wait(stack, key, task_id)["output"]
    )
    assert "Already stored" in run_now_and_wait(stack, key, task_id)["output"]
    passages = http("GET", f"{stack.api_url}/v1/memory/archival", key=key)[1]["passages"]
    assert [p["text"] for p in passages] == ["deploys freeze on Fridays"]

    assert (
        http("PUT", f"{stack.api_url}/v1/memory/core/persona", key=key, body={"value": "Be brief."})[0] == 200
    )
    assert http("DELETE", f"{stack.api_url}/v1/memory/core/persona", key=key) == (
        200,
        {"ok": True, "label": "persona"},
    )
    assert http("GET", f"{stack.api_url}/v1/memory/core/persona", key=key)[0] == 404


def test_next_run_at_is_true_after_the_stack_was_stopped(data_dir: Path, start_stack: Any) -> None:
    key = create_key(data_dir)
    start = datetime(2027, 1, 4, 8, 30, tzinfo=UTC)
    stack = start_stack(data_dir, clock=ManualClock(start), executor=RecordingExecutor())
    body = {"name": "hourly", "prompt": "p", "schedule": "0 * * * *"}
    task_id = http("POST", f"{stack.api_url}/v1/tasks", key=key, body=body)[1]["task"]["id"]
    stack.stop()

    stack = start_stack(
        data_dir, clock=ManualClock(start + timedelta(hours=5, minutes=10)), executor=RecordingExecutor()
    )
    state = http("GET", f"{stack.api_url}/v1/tasks/{task_id}", key=key)[1]["task"]["state"]
    assert state["next_run_at"] == "2027-01-04T14:00:00.000Z"


def test_the_executor_gets_the_memory_size_of_the_template(data_dir: Path, start_stack: Any) -> None:
    sizes: list[int] = []

    def executor(event: dict[str, Any], context: Any) -> dict[str, Any]:
        sizes.append(context.memory_limit_in_mb)
        return {"status": "ok"}

    key = create_key(data_dir)
    stack = start_stack(data_dir, executor=executor)
    body = {"name": "n", "prompt": "p", "schedule": "0 9 * * *"}
    task_id = http("POST", f"{stack.api_url}/v1/tasks", key=key, body=body)[1]["task"]["id"]
    assert http("POST", f"{stack.api_url}/v1/tasks/{task_id}/run", key=key)[0] == 202
    assert stack.scheduler.drain(30)
    assert sizes == [1024]


def readme_commands(heading: str) -> list[str]:
    """The commands of the README's first sh block after `heading`, continuation lines joined."""
    text = readme_block(heading, "sh").replace("\\\n", " ")
    return [
        line.split("  # ")[0].strip()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    ]


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_readmes_curl_block_works_pasted_in_order(data_dir: Path, start_stack: Any) -> None:
    key = create_key(data_dir, scopes="config.read,config.write")
    stack = start_stack(data_dir)
    ids: dict[str, str] = {}
    statuses = []
    for command in readme_commands("## Calling the API"):
        for placeholder, real in ids.items():
            command = command.replace(placeholder, real)
        command = command.replace(LOCAL_URL, stack.api_url).replace(
            "curl -s", "curl -s -w '\\n%{http_code}'", 1
        )
        out = subprocess.run(
            ["bash", "-c", command],
            capture_output=True,
            text=True,
            check=True,
            env={"HEARTBEAT_API_KEY": key, "PATH": "/usr/bin:/bin"},
        )
        body, _, status = out.stdout.rpartition("\n")
        statuses.append(int(status))
        answer = json.loads(body)
        if "task" in answer and "cron_01jd..." not in ids:
            ids["cron_01jd..."] = answer["task"]["id"]
        if "run" in answer and "run_01jd..." not in ids:
            ids["run_01jd..."] = answer["run"]["id"]
            assert stack.scheduler.drain(60)
    assert statuses == [201, 200, 200, 200, 202, 200, 200, 200]
    assert http("GET", f"{stack.api_url}/v1/tasks", key=key)[1]["total"] == 0


def test_every_list_limit_is_worded_the_same_in_the_readme_and_the_openapi_document(
    data_dir: Path, start_stack: Any
) -> None:
    stack = start_stack(data_dir)
    status, document = http("GET", f"{stack.api_url}/v1/openapi.json")
    assert status == 200
    limits = {
        path: parameter["description"]
        for path, item in document["paths"].items()
        for operation in item.values()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "limit"
    }
    assert set(limits) == {
        "/v1/tasks",
        "/v1/tasks/{task_id}/runs",
        "/v1/memory/archival",
        "/v1/conversations/{conversation_id}",
        "/v1/webhooks/{webhook_id}/deliveries",
    }
    for path, wording in limits.items():
        assert f"({wording}" in README, f"{path}: the README does not say '{wording}'"
