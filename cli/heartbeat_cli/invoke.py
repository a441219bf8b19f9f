"""`heartbeat invoke FUNCTION EVENT.json`: run one Lambda handler in this process against the local
stack's AWS state (the running stack's endpoint, or its saved data) and print its response: the
stand-in for `sam local invoke`, which needs Docker."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

FUNCTION_NAMES = ("api", "authorizer", "executor")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("invoke", help="run one function's handler locally with an event")
    parser.add_argument("function", choices=FUNCTION_NAMES)
    parser.add_argument(
        "event", help="the event's JSON file (e.g. events/api-create-task.json), or - for stdin"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path(".heartbeat"), help="the local stack's data dir"
    )
    parser.set_defaults(func=_run)


def read_event(source: str) -> Any:
    text = sys.stdin.read() if source == "-" else Path(source).read_text()
    return json.loads(text)


def invoke(function: str, event: Any, data_dir: Path) -> Any:
    """The handler's response; whatever it raises propagates (as a function error would)."""
    from heartbeat_cli.local.aws_endpoint import CREDENTIALS, function_environment
    from heartbeat_cli.local.functions import LambdaContext, environment, function_settings, load_handler
    from heartbeat_cli.local.resources import REGION, StackNames, load_template
    from heartbeat_cli.local.runtime import local_aws
    from heartbeat_cli.local.stack import default_model

    names = StackNames()
    timeout, memory = function_settings(load_template(), function)
    with local_aws(data_dir) as aws:
        endpoint = function_environment(aws.url) if aws.url else {"AWS_REGION": REGION, **CREDENTIALS}
        env = {**names.environment(DEFAULT_MODEL=default_model()), **endpoint}
        with environment(env):
            handler = load_handler(function)
            context = LambdaContext(
                f"{names.prefix}-{function}", names.function_arn(function), timeout, memory
            )
            return handler(event, context)


def _run(args: argparse.Namespace) -> int:
    try:
        event = read_event(args.event)
    except (OSError, json.JSONDecodeError) as exc:
        print(f"heartbeat invoke: cannot read the event: {exc}", file=sys.stderr)
        return 2
    try:
        response = invoke(args.function, event, args.data_dir)
    # Like `sam local invoke`: a function error is reported as the function's error, not a crash.
    except Exception as exc:  # noqa: BLE001
        print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}, indent=2))
        return 1
    print(json.dumps(response, indent=2, default=str))
    return 0
