"""Finding the local stack's AWS state from another command (`heartbeat keys --local`,
`heartbeat invoke`): the running stack's endpoint if there is one, else its saved data, loaded
into moto in this process and saved back afterwards."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from heartbeat_cli.local.state import PERSISTED, StateStore, write_json_atomic

RUNTIME_FILE = "stack.json"


@dataclass(frozen=True)
class RuntimeInfo:
    pid: int
    api_url: str
    aws_url: str


def write_runtime(data_dir: Path, info: RuntimeInfo) -> None:
    write_json_atomic(data_dir / RUNTIME_FILE, asdict(info))


def clear_runtime(data_dir: Path) -> None:
    (data_dir / RUNTIME_FILE).unlink(missing_ok=True)


def running_stack(data_dir: Path) -> RuntimeInfo | None:
    """The stack serving this data dir, if its process is alive and its endpoint answers."""
    path = data_dir / RUNTIME_FILE
    try:
        info = RuntimeInfo(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    url = urlparse(info.aws_url)
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=1):
            return info
    except OSError:
        return None


@dataclass
class LocalAws:
    clients: dict[str, Any]
    url: str | None  # the running stack's endpoint; None: moto in this process


@contextmanager
def local_aws(data_dir: Path, services: Sequence[str] = PERSISTED) -> Iterator[LocalAws]:
    """Clients on the local stack's AWS state: the running stack's endpoint, or (none running)
    moto in this process loaded from the data dir, whose `services` are saved back on success."""
    from heartbeat_cli.local.aws_endpoint import SERVICES, endpoint_clients

    info = running_stack(data_dir)
    if info is not None:
        yield LocalAws(endpoint_clients(info.aws_url), info.aws_url)
        return
    from moto import mock_aws

    from heartbeat_cli.local.resources import StackNames, provision

    with mock_aws():
        clients = endpoint_clients(None, SERVICES)
        provision(
            dynamodb=clients["dynamodb"],
            scheduler=clients["scheduler"],
            s3=clients["s3"],
            sqs=clients["sqs"],
            names=StackNames(),
        )
        store = StateStore(data_dir)
        store.restore(clients, services)
        # A stack that was killed left acknowledged writes in its journal: apply them first, and
        # save these services as continuing after every journal file (the stack replays the rest).
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from heartbeat_cli.local.journal import Journal, replay

        journal = Journal(data_dir)
        replay(
            journal.entries(), DomainDispatcherApplication(create_backend_app), store.generations, services
        )
        yield LocalAws(clients, None)
        after = max([journal.generation, *store.generations.values()]) + 1
        store.save(clients, services, journal=after)
