"""The local stack: all of Heartbeat on one machine, no Docker (`heartbeat local`).

Import-light: the stack's modules (moto, the handlers) load only when the command runs."""

from __future__ import annotations

import argparse
from typing import Any

from heartbeat_cli.local.runtime import add_data_dir_option


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "local",
        help="run Heartbeat on this machine (AWS endpoint, API, scheduler, executor)",
        description="Run the whole of Heartbeat on this machine: a moto AWS endpoint, the API behind "
        "its authorizer, the EventBridge schedules firing the executor. State is kept in the data dir.",
    )
    parser.add_argument("--port", type=int, default=3000, help="the API's port (default 3000)")
    parser.add_argument("--aws-port", type=int, default=5000, help="the AWS endpoint's port (default 5000)")
    add_data_dir_option(parser)
    parser.add_argument("--workers", type=int, default=8, help="runs at once (default 8)")
    parser.add_argument(
        "--no-private-targets",
        dest="private_targets",
        action="store_false",
        help="refuse web_fetch and MCP targets on loopback and private addresses, as a deployment does "
        "by default (the local stack allows them unless told)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="log every request and fire")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from heartbeat_cli.local.command import run

    return run(args)
