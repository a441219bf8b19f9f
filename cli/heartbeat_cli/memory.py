"""`heartbeat memory reindex`: move one tenant's archival index to the current version now (an
operator's command), on the deployed stack (the standard AWS configuration) or, with `--local`,
the local stack. Every insert of a tenant whose index is older already takes a bounded step of the
same reindex (`MemoryStore.insert_passage`); this finishes it for a tenant that writes seldom. It
is resumable: stopped part-way, the next run goes on. See
docs/decisions/2026-12-02-memory-block-postings.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from heartbeat_cli.keys import DEFAULT_STACK

STEP = 200  # passages per reindex call between progress lines


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("memory", help="maintenance of a tenant's memory")
    commands = parser.add_subparsers(dest="memory_command", required=True, metavar="ACTION")
    reindex = commands.add_parser(
        "reindex", help="move a tenant's archival index to the current version (resumable)"
    )
    reindex.add_argument("--tenant", required=True, help="the tenant")
    reindex.add_argument("--local", action="store_true", help="the local stack")
    reindex.add_argument(
        "--data-dir", type=Path, default=Path(".heartbeat"), help="the local stack's data dir"
    )
    reindex.add_argument(
        "--stack", default=DEFAULT_STACK, help=f"the deployed stack's name (default {DEFAULT_STACK})"
    )
    reindex.set_defaults(func=_reindex)


def _reindex(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from heartbeat.errors import HeartbeatError

    try:
        if args.local:
            from heartbeat_cli.local.resources import StackNames
            from heartbeat_cli.local.runtime import local_aws

            with local_aws(args.data_dir, services=("dynamodb",)) as aws:
                return run_reindex(aws.clients["dynamodb"], StackNames().table("MemoryTable"), args.tenant)
        import boto3

        stacks = boto3.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"]
        outputs = {o["OutputKey"]: str(o["OutputValue"]) for o in stacks[0].get("Outputs", [])}
        if "MemoryTableName" not in outputs:
            return _fail(
                f"stack '{args.stack}' has no MemoryTableName output: deploy this version of the stack"
            )
        return run_reindex(boto3.client("dynamodb"), outputs["MemoryTableName"], args.tenant)
    except HeartbeatError as exc:
        return _fail(exc.message)
    except (BotoCoreError, ClientError) as exc:
        return _fail(f"AWS said: {exc}")


def run_reindex(client: Any, table_name: str, tenant: str) -> int:
    """Reindex `tenant` to the end, a progress line every `STEP` passages; the exit code."""
    from heartbeat.memory.store import MemoryStore

    store = MemoryStore(client, table_name, tenant)
    steps = 0
    while not store.reindex(max_passages=STEP):
        steps += 1
        print(f"tenant {tenant}: {steps * STEP} passages moved to the current index, going on")
    print(f"tenant {tenant}: archival index is on the current version")
    return 0


def _fail(message: str) -> int:
    print(f"heartbeat memory: {message}", file=sys.stderr)
    return 1
