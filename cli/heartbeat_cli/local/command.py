"""`heartbeat local`: start the stack, print one line when it is ready, stop on Ctrl-C/SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from heartbeat_cli.local.runtime import data_dir_from
from heartbeat_cli.local.stack import LocalStack, StackAlreadyRunning, StackOptions


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    options = StackOptions(
        port=args.port,
        aws_port=args.aws_port,
        data_dir=data_dir_from(args.data_dir),
        workers=args.workers,
        private_targets=getattr(args, "private_targets", True),
    )
    stack = LocalStack(options)
    try:
        try:
            stack.start()
        except StackAlreadyRunning as exc:
            print(f"heartbeat local: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:  # a port in use, an unwritable data dir
            print(f"heartbeat local: cannot start: {exc}", file=sys.stderr)
            return 1
        print(f"Heartbeat local stack ready: {stack.api_url}", flush=True)
        stopping.wait()
        print("Stopping (saving state)...", file=sys.stderr, flush=True)
        return 0
    finally:
        stack.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
