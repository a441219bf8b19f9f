"""One data dir, one stack: `heartbeat local` writes `<data-dir>/endpoint.json` (its API URL, AWS
URL and pid) while it runs, and every other command (`tasks`, `keys --local`, `invoke`) finds the
running stack from the same `--data-dir` (default `.heartbeat/`, or `HEARTBEAT_DATA_DIR`) and talks
to it. A file left by a stack that died (its pid gone, its endpoint silent) means "not running".

`keys --local` alone may work with no stack running: it loads the saved data into moto in this
process and saves it back, so the key works when a stack starts on that data dir."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from heartbeat_cli.local.state import PERSISTED, StateStore, write_json_atomic

RUNTIME_FILE = "endpoint.json"
DATA_DIR_ENV = "HEARTBEAT_DATA_DIR"
DEFAULT_DATA_DIR = Path(".heartbeat")


class NoStackRunning(LookupError):
    """No local stack serves the data dir: the message says how to start one."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(
            f"no local stack is running on the data dir {data_dir}: start one in another shell with "
            f"`make run` (or `.venv/bin/heartbeat local --data-dir {data_dir}`), or point this command "
            f"at the data dir of the stack that runs (--data-dir DIR or {DATA_DIR_ENV})"
        )
        self.data_dir = data_dir


def add_data_dir_option(parser: Any, *, default: Any = None) -> None:
    """`--data-dir` as every command spells it; resolve it with `data_dir_from`."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=default,
        help=f"the local stack's data dir (default {DEFAULT_DATA_DIR}/, or {DATA_DIR_ENV})",
    )


def data_dir_from(value: Path | None, environ: Mapping[str, str] | None = None) -> Path:
    """The data dir a command means: `--data-dir`, else HEARTBEAT_DATA_DIR, else `.heartbeat/`."""
    if value is not None:
        return value
    env = os.environ if environ is None else environ
    return Path(env[DATA_DIR_ENV]) if env.get(DATA_DIR_ENV) else DEFAULT_DATA_DIR


def require_stack(data_dir: Path) -> RuntimeInfo:
    """The stack serving `data_dir`, or NoStackRunning saying how to start one."""
    info = running_stack(data_dir)
    if info is None:
        raise NoStackRunning(data_dir)
    return info


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
