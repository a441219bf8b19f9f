"""The local stack: the AWS endpoint, its saved state, the API server, the scheduler and the
executor, started and stopped together."""

from __future__ import annotations

import json
import logging
import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heartbeat_cli.local.clock import Clock, SystemClock
from heartbeat_cli.local.functions import Handler
from heartbeat_cli.local.resources import project_root

log = logging.getLogger("heartbeat.local")

OFFLINE_MODEL = "offline/heartbeat"
BEDROCK_UNAVAILABLE = (
    "Bedrock is not available in the local stack (its AWS endpoint has no Bedrock); configure a "
    "bedrock provider with a region in HEARTBEAT_PROVIDERS to call the real one, or use 'offline/heartbeat'"
)


class StackAlreadyRunning(RuntimeError):
    pass


@dataclass(frozen=True)
class StackOptions:
    port: int = 3000
    aws_port: int = 5000
    data_dir: Path = field(default_factory=lambda: Path(".heartbeat"))
    host: str = "127.0.0.1"
    workers: int = 8
    save_delay: float = 1.0
    private_targets: bool = True
    """AllowPrivateNetworkTargets for the local functions: on by default, so tests and demos can
    point web_fetch, MCP and webhooks at loopback servers (`--no-private-targets` turns it off)."""
    root: Path = field(default_factory=lambda: project_root())
    """The project: its template.yaml and functions/*/app.py are what the stack runs."""


def default_model(environ: dict[str, str] | None = None) -> str:
    """The offline model, unless the user names another (`HEARTBEAT_DEFAULT_MODEL`), e.g. after
    storing a provider key in the local Secrets Manager."""
    env = os.environ if environ is None else environ
    return env.get("HEARTBEAT_DEFAULT_MODEL") or OFFLINE_MODEL


def local_providers(raw: str) -> str:
    """The functions' HEARTBEAT_PROVIDERS: the user's, with Bedrock marked not available unless they
    configure it. The local AWS endpoint has no Bedrock: a Bedrock task is a known model that cannot
    run here, so POST accepts it with a warning and each run fails saying so (as Anthropic does
    without a key). Invalid JSON is passed on as it is, for the functions' settings to report."""
    try:
        user = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        return raw
    if not isinstance(user, dict):
        return raw
    return json.dumps({"bedrock": {"kind": "bedrock", "unavailable": BEDROCK_UNAVAILABLE}, **user})


class LocalStack:
    """`start()` then `stop()` (or `with`). Tests pass a ManualClock, and may pass an executor
    handler (event, context) in place of functions/executor/app.py's."""

    def __init__(
        self,
        options: StackOptions,
        *,
        clock: Clock | None = None,
        executor: Handler | None = None,
        next_fire: Any = None,
    ) -> None:
        self.options = options
        self.clock = clock or SystemClock()
        self._executor = executor
        self._next_fire = next_fire
        self._exit = ExitStack()
        self.api_url = ""
        self.aws_url = ""
        self.scheduler: Any = None
        self.clients: dict[str, Any] = {}
        self.environment: dict[str, str] = {}
        self.notifier: Any = None

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise

    def stop(self) -> None:
        """Stop taking requests, finish the runs in flight, save the state, stop the endpoint."""
        self._exit.close()

    def _start(self) -> None:
        from heartbeat_cli.local.api_server import ApiServer
        from heartbeat_cli.local.aws_endpoint import (
            AwsEndpoint,
            checkpoint_clients,
            endpoint_clients,
            function_environment,
        )
        from heartbeat_cli.local.functions import (
            Containers,
            FunctionInvoker,
            environment,
            function_settings,
            load_handler,
        )
        from heartbeat_cli.local.gateway import Gateway, authorizer_from_template, routes_from_template
        from heartbeat_cli.local.journal import Journal, replay
        from heartbeat_cli.local.next_runs import refresh_next_runs
        from heartbeat_cli.local.resources import StackNames, load_template, provision
        from heartbeat_cli.local.runtime import RuntimeInfo, clear_runtime, running_stack, write_runtime
        from heartbeat_cli.local.saver import StateSaver
        from heartbeat_cli.local.scheduler import LocalScheduler
        from heartbeat_cli.local.state import STOPPED_FILE, StateStore, last_stopped, mark_stopped

        data_dir = self.options.data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        other = running_stack(data_dir)
        if other is not None:
            raise StackAlreadyRunning(
                f"a local stack (pid {other.pid}) already serves {data_dir}: {other.api_url}"
            )

        root = self.options.root
        template = load_template(root / "template.yaml")
        names = StackNames()

        endpoint = AwsEndpoint(self.options.aws_port, self.options.host)
        endpoint.start()
        self._exit.callback(endpoint.stop)
        self.aws_url = endpoint.url
        self.clients = clients = endpoint_clients(endpoint.url)
        provision(
            dynamodb=clients["dynamodb"],
            scheduler=clients["scheduler"],
            s3=clients["s3"],
            sqs=clients["sqs"],
            names=names,
            template=template,
        )
        store = StateStore(data_dir)
        stopped_at = last_stopped(data_dir) if (data_dir / "scheduler.json").exists() else None
        (data_dir / STOPPED_FILE).unlink(missing_ok=True)  # a crash from here on: the last save's time
        restored = store.restore(clients)
        assert endpoint.watcher is not None
        journal = Journal(data_dir)
        replayed = replay(journal.entries(), endpoint.watcher.app, store.generations)
        journal.begin(after=max(store.generations.values(), default=0))
        saver = StateSaver(
            store,
            checkpoint_clients(endpoint.url),
            delay=self.options.save_delay,
            journal=journal,
            writes=endpoint.watcher.requests,
        )
        if replayed:
            saver.mark_all()
            saver.flush()  # the replayed writes into the snapshots: a checkpoint
        endpoint.watcher.journal = journal  # from here on, every acknowledged write is durable first
        self._exit.callback(journal.close)
        log.info(
            "restored %s from %s (%d journalled writes replayed)",
            ", ".join(restored) or "nothing",
            data_dir,
            replayed,
        )
        refresh_next_runs(clients["dynamodb"], names.table("TasksTable"), self.clock.now())

        # The functions read their settings, and build their AWS clients, from the environment.
        sqs = clients["sqs"]
        notifications_url = sqs.get_queue_url(QueueName=names.queue("NotificationsQueue"))["QueueUrl"]
        notifications_dlq = sqs.get_queue_url(QueueName=names.queue("NotificationsDeadLetterQueue"))[
            "QueueUrl"
        ]
        self.environment = env = {
            **names.environment(
                template,
                DEFAULT_MODEL=default_model(),
                HEARTBEAT_PROVIDERS=local_providers(os.environ.get("HEARTBEAT_PROVIDERS", "")),
                NOTIFICATIONS_QUEUE_URL=notifications_url,
                NOTIFICATIONS_DLQ_URL=notifications_dlq,
                ALLOW_PRIVATE_NETWORK_TARGETS="true" if self.options.private_targets else "false",
            ),
            **function_environment(endpoint.url),
        }
        self._exit.enter_context(environment(env))
        if self.options.private_targets:
            log.warning(
                "private network targets are allowed locally (web_fetch and MCP may reach loopback and "
                "private addresses); --no-private-targets keeps the deployed rule"
            )

        executor_arn = names.function_arn("executor")
        executor = self._executor or Containers(lambda: load_handler("executor", root), self.options.workers)
        executor_timeout, executor_memory = function_settings(template, "executor")
        invoker = FunctionInvoker(
            {executor_arn: executor}, {executor_arn: executor_timeout}, {executor_arn: executor_memory}
        )

        scheduler = LocalScheduler(
            clients["scheduler"],
            invoker.invoke,
            self.clock,
            sqs=clients["sqs"],
            workers=self.options.workers,
            next_fire=self._next_fire,
            catch_up_since=stopped_at,  # slots missed while stopped, within their catch-up window
        )
        self.scheduler = scheduler
        # The very handler files Lambda runs (functions/*/app.py), their clients from the environment
        # (the local endpoint); the api's run-now is Lambda's asynchronous Invoke, which the local
        # endpoint hands to the scheduler's workers.
        assert endpoint.watcher is not None
        endpoint.watcher.functions[executor_arn] = lambda event: scheduler.invoke_async(executor_arn, event)
        api = Containers(lambda: load_handler("api", root), self.options.workers)
        authorizer = Containers(lambda: load_handler("authorizer", root), self.options.workers)
        gateway = Gateway(
            routes_from_template(template),
            lambda event: authorizer(event, _context("authorizer", names, template)),
            lambda event: api(event, _context("api", names, template)),
            self.clock,
            authorizer_from_template(template),
        )
        server = ApiServer(gateway, self.options.port, self.options.host)

        from heartbeat_cli.local.notifications import NotificationPoller

        notifier = NotificationPoller(
            sqs,
            notifications_url,
            names.queue_arn("NotificationsQueue"),
            load_handler("notifier"),
            context=lambda: _context("notifier", names, template),
        )
        self.notifier = notifier

        endpoint.watcher.subscribe(saver.mark)
        endpoint.watcher.subscribe(scheduler.notify)
        endpoint.watcher.subscribe(notifier.notify)
        saver.start()
        self._exit.callback(saver.stop)  # runs after the scheduler and the server have stopped
        notifier.start()
        self._exit.callback(notifier.stop)  # after the server and the scheduler: their events go out
        self._exit.callback(lambda: mark_stopped(data_dir, self.clock.now()))
        scheduler.start()
        self._exit.callback(scheduler.stop)
        server.start()
        self._exit.callback(server.stop)
        self.api_url = server.url
        write_runtime(data_dir, RuntimeInfo(os.getpid(), self.api_url, self.aws_url))
        self._exit.callback(clear_runtime, data_dir)


def _context(name: str, names: Any, template: dict[str, Any]) -> Any:
    from heartbeat_cli.local.functions import LambdaContext, function_settings

    timeout, memory = function_settings(template, name)
    return LambdaContext(f"{names.prefix}-{name}", names.function_arn(name), timeout, memory)
