"""`heartbeat cron explain EXPR [--tz TZ] [--count N] [--after TIME] [--flexible-window MIN] [--json]`:
what a schedule will do before you create it: its EventBridge expression(s), its flexible time
window, and its next slots (with a window, each run starts at a random time up to MIN minutes after
its slot)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    cron = subparsers.add_parser("cron", help="check cron schedules", description="Check cron schedules.")
    commands = cron.add_subparsers(dest="cron_command", required=True, metavar="COMMAND")
    explain = commands.add_parser(
        "explain",
        help="show a cron expression's EventBridge schedules and next fire times",
        description="Show what a standard cron expression becomes on EventBridge Scheduler, and when it fires.",
    )
    explain.add_argument("expression", nargs="+", help="standard cron, e.g. '0 18 * * 1-5' (quote it)")
    explain.add_argument("--tz", default=None, help="IANA time zone (default: UTC)")
    explain.add_argument("--count", type=_count, default=5, help="how many fire times (default: 5)")
    explain.add_argument("--after", default=None, help="list fire times after this ISO time (default: now)")
    explain.add_argument(
        "--flexible-window",
        type=_window,
        default=0,
        metavar="MINUTES",
        help="the task's flexible_window_minutes, 0-60 (default: 0, off)",
    )
    explain.add_argument("--json", action="store_true", help="print JSON for scripts")
    explain.set_defaults(func=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    from heartbeat.dal.schedules import flexible_time_window
    from heartbeat.errors import InvalidRequestError
    from heartbeat.schedule import parse_schedule
    from heartbeat.timeutil import iso, parse_iso, utcnow

    try:
        after = utcnow() if args.after is None else parse_iso(args.after)
    except ValueError:
        print(f"heartbeat cron explain: --after '{args.after}' is not an ISO 8601 time", file=sys.stderr)
        return 2
    expression = " ".join(args.expression)
    try:
        schedule = parse_schedule(expression, args.tz, now=after)
    except InvalidRequestError as exc:
        print(f"heartbeat cron explain: {exc.message}", file=sys.stderr)
        return 2
    eventbridge = schedule.eventbridge()
    times = schedule.next_times(after, args.count)
    if args.json:
        answer: dict[str, Any] = {"eventbridge": [s.expression for s in eventbridge]}
        if args.flexible_window:  # DESIGN.md section 3's shape, plus the window when one is asked for
            answer["flexible_time_window"] = flexible_time_window(args.flexible_window)
        answer["next"] = [iso(t) for t in times]
        print(json.dumps(answer))
        return 0
    _print_table(
        expression, schedule.timezone, [s.expression for s in eventbridge], times, args.flexible_window
    )
    return 0


def _print_table(
    expression: str, timezone: str, eventbridge: list[str], times: list[Any], window: int = 0
) -> None:
    from heartbeat.schedule.zones import zone
    from heartbeat.timeutil import iso

    tz = zone(timezone)
    print(f"cron         {expression}")
    print(f"timezone     {timezone}")
    for index, text in enumerate(eventbridge):
        print(f"{'eventbridge' if index == 0 else '':<13}{text}")
    if len(eventbridge) > 1:
        print("             (either day field matches; a day matching both runs once)")
    if window:
        print(
            f"flexible     {window} min (each run starts at a random time up to {window} min after its slot)"
        )
    else:
        print("flexible     off (runs start at their slot)")
    print()
    print(f"{'next (UTC)':<26}{timezone}")
    for time in times:
        print(f"{iso(time):<26}{time.astimezone(tz).strftime('%a %Y-%m-%d %H:%M %Z')}")
    if not times:
        print("(never fires again)")


def _window(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 60:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a whole number of minutes from 0 to 60 (flexible_window_minutes)"
        )
    return int(text)


def _count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number from 1 to 1000")
    return int(text)
