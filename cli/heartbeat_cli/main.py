"""`heartbeat` entry point. Each command group lives in its own module with a
`register(subparsers)` function that adds its parser and sets `func` (args -> exit code)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

# Command modules, each keeping its heavy imports inside `func`. Imported by name: one that fails
# to import is an error at start, not a command that silently vanishes.
from heartbeat_cli import cron, invoke, keys, local, memory, tasks, tenants, webhooks

COMMAND_MODULES = (cron, keys, local, invoke, memory, tasks, tenants, webhooks)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="heartbeat", description="Cron-scheduled agent tasks.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
