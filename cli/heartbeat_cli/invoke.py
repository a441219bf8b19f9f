"""`heartbeat invoke FUNCTION EVENT.json`: run one Lambda handler in this process against the
running local stack's AWS endpoint (found from `--data-dir`) and print its response: the stand-in
for `sam local invoke`, which needs Docker. The response is the only thing on stdout (it pipes to
`jq`); the function's logs go to stderr, as `sam local invoke` does. With no stack running on the
data dir it says so and how to start one, and changes nothing."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from heartbeat_cli.local.runtime import add_data_dir_option, data_dir_from

FUNCTION_NAMES = ("api", "authorizer", "executor")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("invoke", help="run one function's handler locally with an event")
    parser.add_argument("function", choices=FUNCTION_NAMES)
    parser.add_argument(
        "event", help="the event's JSON file (e.g. events/api-create-task.json), or - for stdin"
    )
    add_data_dir_option(parser)
    parser.set_defaults(func=_run)


def read_event(source: str) -> Any:
    text = sys.stdin.read() if source == "-" else Path(source).read_text()
    return json.loads(text)


def invoke(function: str, event: Any, data_dir: Path) -> Any:
    """The handler's response against the stack running on `data_dir` (NoStackRunning if none);
    whatever the handler raises propagates (as a function error would). Anything the function
    writes to stdout (its Powertools logs) goes to stderr."""
    from heartbeat_cli.local.aws_endpoint import function_environment
    from heartbeat_cli.local.functions import LambdaContext, environment, function_settings, load_handler
    from heartbeat_cli.local.resources import StackNames, load_template
    from heartbeat_cli.local.runtime import require_stack
    from heartbeat_cli.local.stack import default_model, local_providers

    info = require_stack(data_dir)
    names = StackNames()
    timeout, memory = function_settings(load_template(), function)
    env = {
        **names.environment(
            DEFAULT_MODEL=default_model(),
            HEARTBEAT_PROVIDERS=local_providers(os.environ.get("HEARTBEAT_PROVIDERS", "")),
        ),
        **function_environment(info.aws_url),
    }
    with contextlib.redirect_stdout(sys.stderr), environment(env):
        handler = load_handler(function)
        context = LambdaContext(f"{names.prefix}-{function}", names.function_arn(function), timeout, memory)
        return handler(event, context)


def _run(args: argparse.Namespace) -> int:
    try:
        event = read_event(args.event)
    except (OSError, json.JSONDecodeError) as exc:
        print(f"heartbeat invoke: cannot read the event: {exc}", file=sys.stderr)
        return 2
    from heartbeat_cli.local.runtime import NoStackRunning

    try:
        response = invoke(args.function, event, data_dir_from(args.data_dir))
    except NoStackRunning as exc:
        print(f"heartbeat invoke: {exc}", file=sys.stderr)
        return 2
    # Like `sam local invoke`: a function error is reported as the function's error, not a crash.
    except Exception as exc:  # noqa: BLE001
        print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}, indent=2))
        return 1
    print(json.dumps(response, indent=2, default=str))
    return 0
