"""`heartbeat tasks ...`: a client of the Heartbeat HTTP API.

Which API: `--url` for a deployed stack; else the local stack running on `--data-dir` when it is
given; else HEARTBEAT_URL; else the local stack running on HEARTBEAT_DATA_DIR or `.heartbeat/`,
found from its `endpoint.json`, on whatever ports it runs. Every field for people (a run's whole output included), `--json` for
scripts; an API error prints its message and exits non-zero."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from heartbeat_cli.local.runtime import add_data_dir_option


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ApiClient:
    def __init__(self, url: str, key: str | None, timeout: float = 60.0) -> None:
        self._url = url.rstrip("/")
        self._key = key
        self._timeout = timeout

    def request(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        query = {k: v for k, v in (query or {}).items() if v is not None}
        url = self._url + path + (f"?{urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"accept": "application/json"}
        if data is not None:
            headers["content-type"] = "application/json"
        if self._key:
            headers["authorization"] = f"Bearer {self._key}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 - the user's URL
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, error_message(exc.read())) from exc
        except urllib.error.URLError as exc:
            raise ApiError(0, f"cannot reach {self._url}: {exc.reason}") from exc


def error_message(raw: bytes) -> str:
    """The message of the API's envelope (or API Gateway's `{"message": ...}`)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")[:500] or "no answer"
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        error = data["error"]
        param = f" ({error['param']})" if error.get("param") else ""
        return f"{error.get('message', 'error')}{param}"
    if isinstance(data, dict) and "message" in data:
        return str(data["message"])
    return json.dumps(data)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("tasks", help="manage tasks through the HTTP API")
    _common_options(parser, defaults=True)
    # The same options after the action too (`tasks list --json`); there they default to nothing,
    # so they never undo one given before it.
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, defaults=False)
    actions = parser.add_subparsers(dest="tasks_command", required=True, metavar="ACTION")

    def action(name: str, help: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, help=help, parents=[common])

    create = action("create", "create a task")
    create.add_argument("--name", required=True)
    create.add_argument("--prompt", required=True)
    create.add_argument("--schedule", required=True, help="a cron string, e.g. '0 18 * * *'")
    _task_fields(create)
    create.set_defaults(handler=_create)

    listing = action("list", "list tasks")
    listing.add_argument("--limit", type=int)
    listing.add_argument("--cursor")
    listing.set_defaults(handler=_list)

    get = action("get", "show a task")
    get.add_argument("task_id")
    get.set_defaults(handler=_get)

    update = action("update", "change a task")
    update.add_argument("task_id")
    update.add_argument("--name")
    update.add_argument("--prompt")
    update.add_argument("--schedule")
    update.add_argument("--enable", dest="enabled", action="store_const", const=True)
    update.add_argument("--disable", dest="enabled", action="store_const", const=False)
    _task_fields(update)
    update.set_defaults(handler=_update)

    delete = action("delete", "delete a task and its schedule")
    delete.add_argument("task_id")
    delete.set_defaults(handler=_delete)

    run = action("run", "run a task now, outside its schedule")
    run.add_argument("task_id")
    run.set_defaults(handler=_run_now)

    runs = action("runs", "a task's runs, newest first, with their outputs (or one run, with RUN_ID)")
    runs.add_argument("task_id")
    runs.add_argument("run_id", nargs="?", help="one run: its whole output and tool calls")
    runs.add_argument("--limit", type=int)
    runs.add_argument("--cursor")
    runs.set_defaults(handler=_runs)

    parser.set_defaults(func=_main)


def _common_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--url",
        default=default(None),
        help="the API's URL (HEARTBEAT_URL; default: the local stack running on --data-dir)",
    )
    add_data_dir_option(parser, default=default(None))
    parser.add_argument("--key", default=default(None), help="an API key (HEARTBEAT_API_KEY)")
    parser.add_argument("--json", action="store_true", default=default(False), help="print the API's JSON")


def _task_fields(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timezone", help="an IANA time zone (default UTC)")
    parser.add_argument("--model", help="provider/model (default: the deployment's)")
    parser.add_argument("--description")
    parser.add_argument("--conversation-id", dest="conversation_id")


def api_url(url: str | None, data_dir: Path | None) -> str:
    """The API to talk to: `--url`; else a given `--data-dir`'s running stack (even when
    HEARTBEAT_URL is set); else HEARTBEAT_URL; else the default data dir's stack. Raises
    `NoStackRunning` (saying how to start one) when that stack is not running."""
    from heartbeat_cli.local.runtime import data_dir_from, require_stack

    chosen = url or (None if data_dir is not None else os.environ.get("HEARTBEAT_URL"))
    return chosen or require_stack(data_dir_from(data_dir)).api_url


def run_command(name: str, url: str | None, args: argparse.Namespace, printer: Callable[[Any], None]) -> int:
    """One CLI action against the API: find it (`api_url`), call `args.handler`, print the answer
    (`--json`: as the API gave it), or the API's error on stderr with exit code 1."""
    from heartbeat_cli.local.runtime import NoStackRunning

    key = args.key or os.environ.get("HEARTBEAT_API_KEY")
    try:
        base = api_url(url, args.data_dir)
    except NoStackRunning as exc:
        print(f"heartbeat {name}: {exc}", file=sys.stderr)
        return 1
    try:
        result = args.handler(ApiClient(base, key), args)
    except ApiError as exc:
        status = f" ({exc.status})" if exc.status else ""
        print(f"heartbeat {name}: {exc.message}{status}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        printer(result)
    return 0


def _main(args: argparse.Namespace) -> int:
    return run_command("tasks", args.url, args, lambda result: print_human(args.tasks_command, result))


def _fields(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


_FIELDS = ("name", "prompt", "schedule", "timezone", "model", "description", "conversation_id", "enabled")


def _create(api: ApiClient, args: argparse.Namespace) -> Any:
    return api.request("POST", "/v1/tasks", _fields(args, _FIELDS))


def _list(api: ApiClient, args: argparse.Namespace) -> Any:
    return api.request("GET", "/v1/tasks", query={"limit": args.limit, "cursor": args.cursor})


def _get(api: ApiClient, args: argparse.Namespace) -> Any:
    return api.request("GET", f"/v1/tasks/{quote(args.task_id, safe='')}")


def _update(api: ApiClient, args: argparse.Namespace) -> Any:
    body = _fields(args, _FIELDS)
    if not body:
        raise ApiError(0, "nothing to change: pass at least one of --name, --prompt, --schedule, ...")
    return api.request("PATCH", f"/v1/tasks/{quote(args.task_id, safe='')}", body)


def _delete(api: ApiClient, args: argparse.Namespace) -> Any:
    return api.request("DELETE", f"/v1/tasks/{quote(args.task_id, safe='')}")


def _run_now(api: ApiClient, args: argparse.Namespace) -> Any:
    return api.request("POST", f"/v1/tasks/{quote(args.task_id, safe='')}/run")


def _runs(api: ApiClient, args: argparse.Namespace) -> Any:
    if args.run_id:
        return api.request(
            "GET", f"/v1/tasks/{quote(args.task_id, safe='')}/runs/{quote(args.run_id, safe='')}"
        )
    return api.request(
        "GET",
        f"/v1/tasks/{quote(args.task_id, safe='')}/runs",
        query={"limit": args.limit, "cursor": args.cursor},
    )


def _schedule_text(task: dict[str, Any]) -> str:
    schedule = task.get("schedule") or {}
    text = schedule.get("expression") or json.dumps({k: v for k, v in schedule.items() if k != "timezone"})
    return f"{text} ({schedule.get('timezone', 'UTC')})"


def _table(headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    cells = [tuple("" if c is None else str(c) for c in row) for row in rows]
    widths = [max(len(c) for c in column) for column in zip(headers, *cells, strict=False)]
    for row in (headers, *cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _task_rows(tasks: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            t["id"],
            t["name"],
            "yes" if t.get("enabled") else "no",
            _schedule_text(t),
            (t.get("state") or {}).get("next_run_at"),
            (t.get("state") or {}).get("last_status"),
        )
        for t in tasks
    ]


_TASK_HEADERS = ("ID", "NAME", "ENABLED", "SCHEDULE", "NEXT RUN", "LAST STATUS")


def _print_fields(record: dict[str, Any], prefix: str = "", skip: tuple[str, ...] = ()) -> None:
    """Every field, one a line (`state.next_run_at: ...`); multi-line text indented beneath its name."""
    for name, value in record.items():
        if name in skip:
            continue
        label = f"{prefix}{name}"
        if isinstance(value, dict) and value:
            _print_fields(value, prefix=f"{label}.")
        elif isinstance(value, str) and "\n" in value:
            print(f"{label}:")
            for line in value.splitlines():
                print(f"    {line}")
        elif isinstance(value, dict | list):
            print(f"{label}: {json.dumps(value)}")
        else:
            print(f"{label}: {'' if value is None else value}")


def _print_run(run: dict[str, Any]) -> None:
    _print_fields(run, skip=("tool_calls",))
    calls = run.get("tool_calls")
    if calls is not None:
        print(f"tool_calls: {len(calls)}")
        for call in calls:
            outcome = "ok" if call.get("ok") else f"error: {call.get('error')}"
            print(f"    {call.get('name')} ({outcome})")


def print_human(command: str, result: Any) -> None:
    if command == "list":
        _table(_TASK_HEADERS, _task_rows(result.get("tasks", [])))
        more = f", more with --cursor {result['next_cursor']}" if result.get("next_cursor") else ""
        print(f"{result.get('total', len(result.get('tasks', [])))} task(s){more}")
    elif command in ("create", "get", "update"):
        task = dict(result["task"])
        task["schedule"] = _schedule_text(task)
        _print_fields(task)
        for warning in result.get("warnings", ()):
            print(f"warning: {warning}")
    elif command == "delete":
        print(f"Deleted {result.get('id')}.")
    elif command == "run":
        run = result.get("run") or {}
        print(f"Started run {run.get('id', '?')} ({run.get('status', 'queued')}).")
    elif command == "runs" and "run" in result:
        _print_run(result["run"])
    elif command == "runs":
        runs = result.get("runs", [])
        for index, run in enumerate(runs):
            if index:
                print()
            _print_run(run)
        if not runs:
            print("(no runs yet)")
        if result.get("next_cursor"):
            print(f"\nmore with --cursor {result['next_cursor']}")
    else:
        print(json.dumps(result, indent=2))
