"""`heartbeat webhooks ...`: webhook endpoints through the HTTP API (the local stack by default):
create (prints the signing secret, the only time it is shown), list, test, deliveries, delete."""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote

from heartbeat_cli.local.runtime import add_data_dir_option
from heartbeat_cli.tasks import ApiClient, run_command


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("webhooks", help="manage webhook endpoints through the HTTP API")
    parser.add_argument(
        "--url",
        dest="api_url",
        help="the API's URL (HEARTBEAT_URL; default: the local stack running on --data-dir)",
    )
    add_data_dir_option(parser, default=None)
    parser.add_argument("--key", help="an API key (HEARTBEAT_API_KEY)")
    parser.add_argument("--json", action="store_true", help="print the API's JSON")
    actions = parser.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")

    create = actions.add_parser("create", help="add an endpoint; prints its signing secret once")
    create.add_argument("endpoint", help="the receiver's URL")
    create.add_argument("--events", default="*", help="comma-separated event types, or * (default)")
    create.add_argument(
        "--task", dest="task_ids", action="append", help="only this task's events (repeatable)"
    )
    create.add_argument("--format", choices=("standard", "slack"), default="standard")
    create.set_defaults(handler=_create)

    actions.add_parser("list", help="list endpoints").set_defaults(handler=_list)

    test = actions.add_parser("test", help="send a webhook.test event now")
    test.add_argument("webhook_id")
    test.set_defaults(handler=_test)

    deliveries = actions.add_parser("deliveries", help="an endpoint's deliveries, newest first")
    deliveries.add_argument("webhook_id")
    deliveries.add_argument("--limit", type=int)
    deliveries.add_argument("--cursor")
    deliveries.set_defaults(handler=_deliveries)

    delete = actions.add_parser("delete", help="delete an endpoint and its secret")
    delete.add_argument("webhook_id")
    delete.set_defaults(handler=_delete)

    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    return run_command(
        "webhooks", args.api_url, args, lambda result: _print_human(args.webhooks_command, result)
    )


def _path(webhook_id: str, suffix: str = "") -> str:
    return f"/v1/webhooks/{quote(webhook_id, safe='')}{suffix}"


def _create(api: ApiClient, args: argparse.Namespace) -> Any:
    body: dict[str, Any] = {
        "url": args.endpoint,
        "events": [e.strip() for e in args.events.split(",") if e.strip()],
        "format": args.format,
    }
    if args.task_ids:
        body["task_ids"] = args.task_ids
    return api.request("POST", "/v1/webhooks", body)


def _list(api: ApiClient, args: argparse.Namespace) -> Any:
    return api.request("GET", "/v1/webhooks")


def _test(api: ApiClient, args: argparse.Namespace) -> Any:
    return api.request("POST", _path(args.webhook_id, "/test"))


def _deliveries(api: ApiClient, args: argparse.Namespace) -> Any:
    return api.request(
        "GET", _path(args.webhook_id, "/deliveries"), query={"limit": args.limit, "cursor": args.cursor}
    )


def _delete(api: ApiClient, args: argparse.Namespace) -> Any:
    return api.request("DELETE", _path(args.webhook_id))


def _table(headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    cells = [tuple("" if c is None else str(c) for c in row) for row in rows]
    widths = [max(len(c) for c in column) for column in zip(headers, *cells, strict=False)]
    for row in (headers, *cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _print_human(command: str, result: Any) -> None:
    if command == "create":
        hook = result["webhook"]
        print(f"Created {hook['id']} -> {hook['url']} ({', '.join(hook['events'])}, {hook['format']}).")
        print("Signing secret (shown this once; verify deliveries with it):")
        print(hook["secret"])
    elif command == "list":
        _table(
            ("ID", "URL", "EVENTS", "FORMAT", "ENABLED", "DISABLED REASON"),
            [
                (
                    w["id"],
                    w["url"],
                    ",".join(w["events"]),
                    w["format"],
                    "yes" if w["enabled"] else "no",
                    (w.get("disabled_reason") or "")[:60],
                )
                for w in result.get("webhooks", [])
            ],
        )
    elif command == "test":
        print(f"Queued webhook.test event {result.get('event_id')}.")
    elif command == "deliveries":
        _table(
            ("EVENT", "TYPE", "STATUS", "ATTEMPTS", "HTTP", "NEXT ATTEMPT", "ERROR"),
            [
                (
                    d["event_id"],
                    d["type"],
                    d["status"],
                    d["attempts"],
                    d.get("status_code"),
                    d.get("next_attempt_at"),
                    (d.get("error") or "")[:60],
                )
                for d in result.get("deliveries", [])
            ],
        )
        if result.get("next_cursor"):
            print(f"more with --cursor {result['next_cursor']}")
    elif command == "delete":
        print(f"Deleted {result.get('id')}.")
