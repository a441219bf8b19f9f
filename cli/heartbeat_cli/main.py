"""`heartbeat` entry point. Each command group lives in its own module with a
`register(subparsers)` function that adds its parser and sets `func` (args -> exit code)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Command modules, imported when the parser is built; each keeps its heavy imports inside `func`.
COMMAND_MODULES = (
    "heartbeat_cli.cron",
    "heartbeat_cli.keys",
    "heartbeat_cli.local",
    "heartbeat_cli.invoke",
    "heartbeat_cli.tasks",
    "heartbeat_cli.tenants",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="heartbeat", description="Cron-scheduled agent tasks.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a real missing dependency, not a command not built yet
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
