"""`heartbeat keys create|list|revoke`: API keys, against the deployed stack's Keys table (the
standard AWS configuration) or, with `--local`, the local stack's (running or stopped)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from heartbeat.keys.service import KeyService
    from heartbeat.models.key import ApiKey

DEFAULT_STACK = "heartbeat"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("keys", help="create, list and revoke API keys")
    commands = parser.add_subparsers(dest="keys_command", required=True, metavar="ACTION")

    def target(p: argparse.ArgumentParser) -> None:
        p.add_argument("--local", action="store_true", help="the local stack's keys (hb_test_ keys)")
        p.add_argument("--data-dir", type=Path, default=Path(".heartbeat"), help="the local stack's data dir")
        p.add_argument(
            "--stack", default=DEFAULT_STACK, help=f"the deployed stack's name (default {DEFAULT_STACK})"
        )
        p.add_argument("--table", help="the Keys table's name (instead of reading it from the stack)")
        p.add_argument("--json", action="store_true", help="machine-readable output")

    create = commands.add_parser("create", help="create a key; the key is printed once, on the last line")
    create.add_argument("--tenant", required=True, help="the tenant the key acts for")
    create.add_argument(
        "--scopes", required=True, help="comma-separated: config.read,config.write,memory.read,memory.write"
    )
    target(create)
    create.set_defaults(func=_create)

    listing = commands.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--tenant", help="only this tenant's keys")
    target(listing)
    listing.set_defaults(func=_list)

    revoke = commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    target(revoke)
    revoke.set_defaults(func=_revoke)


@contextmanager
def key_service(args: argparse.Namespace) -> Iterator[KeyService]:
    from heartbeat.dal.keys import KeysTable
    from heartbeat.keys.service import KeyService

    if args.local:
        from heartbeat_cli.local.resources import StackNames
        from heartbeat_cli.local.runtime import local_aws

        table = args.table or StackNames().table("KeysTable")
        with local_aws(args.data_dir, services=("dynamodb",)) as aws:
            yield KeyService(KeysTable(aws.clients["dynamodb"], table))
        return
    import boto3

    table = args.table or deployed_keys_table(boto3.client("cloudformation"), args.stack)
    yield KeyService(KeysTable(boto3.client("dynamodb"), table))


def deployed_keys_table(cloudformation: Any, stack: str) -> str:
    stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    for output in stacks[0].get("Outputs", []):
        if output["OutputKey"] == "KeysTableName":
            return str(output["OutputValue"])
    raise LookupError(f"stack '{stack}' has no KeysTableName output: pass --table")


def _describe(key: ApiKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "tenant_id": key.tenant_id,
        "scopes": sorted(key.scopes),
        "prefix": key.prefix,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
    }


def _fail(message: str) -> int:
    print(f"heartbeat keys: {message}", file=sys.stderr)
    return 1


def _run(args: argparse.Namespace, action: Any) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from heartbeat.errors import HeartbeatError

    try:
        with key_service(args) as keys:
            return int(action(keys))
    except HeartbeatError as exc:
        return _fail(exc.message)
    except (ValueError, LookupError) as exc:
        return _fail(str(exc))
    except (BotoCoreError, ClientError) as exc:
        return _fail(f"AWS said: {exc}")


def _create(args: argparse.Namespace) -> int:
    from heartbeat.models.key import parse_scopes

    def action(keys: KeyService) -> int:
        secret, key = keys.create(args.tenant, parse_scopes(args.scopes), live=not args.local)
        if args.json:
            print(json.dumps({**_describe(key), "key": secret}))
            return 0
        print(
            f"Created key {key.key_id} for tenant {key.tenant_id} with scopes {', '.join(sorted(key.scopes))}."
        )
        print("Store it now: it is not shown again.")
        print(secret)
        return 0

    return _run(args, action)


def _list(args: argparse.Namespace) -> int:
    def action(keys: KeyService) -> int:
        found = keys.list(args.tenant)
        if args.json:
            print(json.dumps([_describe(k) for k in found], indent=2))
            return 0
        rows = [
            (
                k.key_id,
                k.tenant_id,
                ",".join(sorted(k.scopes)),
                k.prefix + "...",
                k.created_at,
                k.revoked_at or "",
            )
            for k in found
        ]
        print_table(("KEY ID", "TENANT", "SCOPES", "PREFIX", "CREATED", "REVOKED"), rows)
        return 0

    return _run(args, action)


def _revoke(args: argparse.Namespace) -> int:
    def action(keys: KeyService) -> int:
        key = keys.revoke(args.key_id)
        if args.json:
            print(json.dumps(_describe(key)))
        else:
            print(f"Revoked {key.key_id} (tenant {key.tenant_id}) at {key.revoked_at}.")
        return 0

    return _run(args, action)


def print_table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]
    for row in (headers, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if not rows:
        print("(none)")
