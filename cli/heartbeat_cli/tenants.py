"""`heartbeat tenants set-budget|show`: a tenant's daily token budget (an operator's command), on
the deployed stack (the standard AWS configuration) or, with `--local`, the local stack.

The override lives on the tenant's item in the Tasks table (`#meta`, beside its task count): see
docs/decisions/2026-12-01-budgets-and-usage.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heartbeat_cli.keys import DEFAULT_STACK

if TYPE_CHECKING:
    from heartbeat.usage.service import UsageService


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("tenants", help="a tenant's daily token budget and today's usage")
    commands = parser.add_subparsers(dest="tenants_command", required=True, metavar="ACTION")

    def target(p: argparse.ArgumentParser) -> None:
        p.add_argument("--tenant", required=True, help="the tenant")
        p.add_argument("--local", action="store_true", help="the local stack")
        p.add_argument("--data-dir", type=Path, default=Path(".heartbeat"), help="the local stack's data dir")
        p.add_argument(
            "--stack", default=DEFAULT_STACK, help=f"the deployed stack's name (default {DEFAULT_STACK})"
        )
        p.add_argument("--json", action="store_true", help="machine-readable output")

    budget = commands.add_parser("set-budget", help="set the tenant's daily token budget (UTC days)")
    amount = budget.add_mutually_exclusive_group(required=True)
    amount.add_argument(
        "--daily-tokens",
        type=int,
        dest="daily_tokens",
        help="tokens per UTC day; 0: no budget for this tenant",
    )
    amount.add_argument(
        "--default",
        action="store_true",
        dest="use_default",
        help="remove the override: the deployment's applies",
    )
    target(budget)
    budget.set_defaults(func=_set_budget)

    show = commands.add_parser("show", help="the tenant's budget, what it used today and what is left")
    target(show)
    show.set_defaults(func=_show)


@contextmanager
def usage_service(args: argparse.Namespace) -> Iterator[UsageService]:
    from heartbeat.dal.usage import UsageTable
    from heartbeat.usage.service import UsageService

    if args.local:
        from heartbeat_cli.local.resources import StackNames
        from heartbeat_cli.local.runtime import local_aws

        names = StackNames()
        default = int(names.environment().get("DAILY_TOKEN_BUDGET", "0"))
        with local_aws(args.data_dir, services=("dynamodb",)) as aws:
            table = UsageTable(aws.clients["dynamodb"], names.table("RunsTable"), names.table("TasksTable"))
            yield UsageService(table, default_budget=default)
        return
    import boto3

    outputs, parameters = _stack(boto3.client("cloudformation"), args.stack)
    for needed in ("TasksTableName", "RunsTableName"):
        if needed not in outputs:
            raise LookupError(
                f"stack '{args.stack}' has no {needed} output: deploy this version of the stack"
            )
    table = UsageTable(boto3.client("dynamodb"), outputs["RunsTableName"], outputs["TasksTableName"])
    yield UsageService(table, default_budget=int(parameters.get("DailyTokenBudget", "0")))


def _stack(cloudformation: Any, stack: str) -> tuple[dict[str, str], dict[str, str]]:
    found = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    outputs = {o["OutputKey"]: str(o["OutputValue"]) for o in found.get("Outputs", [])}
    parameters = {p["ParameterKey"]: str(p.get("ParameterValue", "")) for p in found.get("Parameters", [])}
    return outputs, parameters


def _run(args: argparse.Namespace, action: Any) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from heartbeat.errors import HeartbeatError

    try:
        with usage_service(args) as service:
            return int(action(service))
    except HeartbeatError as exc:
        return _fail(exc.message)
    except LookupError as exc:
        return _fail(str(exc))
    except (BotoCoreError, ClientError) as exc:
        return _fail(f"AWS said: {exc}")


def _fail(message: str) -> int:
    print(f"heartbeat tenants: {message}", file=sys.stderr)
    return 1


def _set_budget(args: argparse.Namespace) -> int:
    if args.daily_tokens is not None and args.daily_tokens < 0:
        return _fail("--daily-tokens must be 0 (no budget) or more")

    def action(service: UsageService) -> int:
        service.set_budget(args.tenant, None if args.use_default else args.daily_tokens)
        return _print(args, service.show_budget(args.tenant))

    return _run(args, action)


def _show(args: argparse.Namespace) -> int:
    return _run(args, lambda service: _print(args, service.show_budget(args.tenant)))


def _print(args: argparse.Namespace, shown: dict[str, Any]) -> int:
    if args.json:
        print(json.dumps(shown, indent=2))
        return 0
    override = shown["daily_tokens_override"]
    source = "this tenant's own" if override is not None else "the deployment's default"
    budget = shown["daily_tokens"]
    print(f"Tenant {shown['tenant_id']}: daily token budget {budget or 'none'} ({source}).")
    today = shown["today"]
    left = shown["remaining_today"]
    print(
        f"Today ({today['date']}, UTC): {shown['used_today']} tokens in {today['runs']} runs, "
        f"${today['cost_usd']:.4f}" + (f"; {left} tokens left." if left is not None else ".")
    )
    return 0
