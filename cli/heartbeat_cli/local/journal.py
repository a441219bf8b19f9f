"""The local stack's write-ahead journal: every write the AWS endpoint acknowledges is appended to
`<data-dir>/journal.<generation>.jsonl` and fsynced before its answer leaves, so a kill -9 at any
moment loses no acknowledged write (docs/decisions/2026-12-01-local-journal.md).

The `<service>.json` snapshots are its checkpoint. A checkpoint (under the endpoint's lock, so no
write runs meanwhile) saves the services written since the last one, each file naming the journal
generation it continues from, starts the next generation and deletes the old ones. At the next
start, each journal entry is replayed on top of the snapshots unless its service's snapshot is
newer than the entry's generation, so a kill in the middle of a checkpoint applies nothing twice.
A last line cut short by a kill was never acknowledged, and is skipped.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("heartbeat.local")

_NAME = re.compile(r"^journal\.(\d+)\.jsonl$")
# The request headers a replay needs for moto to route and parse the request as it did.
_KEPT = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


@dataclass(frozen=True)
class Entry:
    generation: int
    service: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


def request_entry(service: str, environ: Mapping[str, Any], body: bytes) -> dict[str, Any]:
    headers = {k: str(v) for k, v in environ.items() if k.startswith("HTTP_") or k in _KEPT}
    return {
        "service": service,
        "method": environ.get("REQUEST_METHOD", "POST"),
        "path": environ.get("PATH_INFO", "/"),
        "query": environ.get("QUERY_STRING", ""),
        "headers": headers,
        "body": base64.b64encode(body).decode(),
    }


class Journal:
    def __init__(self, data_dir: Path) -> None:
        self._dir = data_dir
        self._lock = threading.Lock()
        self._handle: Any = None
        self.generation = max(self._generations(), default=0)

    # -- writing -----------------------------------------------------------------------------
    def append(self, entry: dict[str, Any]) -> None:
        """Append one acknowledged-to-be write and make it durable (write, flush, fsync)."""
        line = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
        with self._lock:
            if self._handle is None:
                self._handle = open(self._path(self.generation), "ab")  # noqa: SIM115 - kept open
            self._handle.write(line)
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def begin(self, after: int) -> None:
        """Write from a generation newer than every file and than `after` (the snapshots' newest)."""
        with self._lock:
            self.generation = max(self.generation, after) + 1

    def rotate(self) -> int:
        """Start the next generation; returns it. Call with writes stopped (the endpoint's lock)."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
            self.generation += 1
            return self.generation

    def drop_before(self, generation: int) -> None:
        """Delete the journal files older than `generation` (their writes are in the snapshots)."""
        for old in self._generations():
            if old < generation:
                self._path(old).unlink(missing_ok=True)
        _fsync_dir(self._dir)

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None

    # -- reading -----------------------------------------------------------------------------
    def entries(self) -> Iterator[Entry]:
        for generation in sorted(self._generations()):
            path = self._path(generation)
            lines = path.read_bytes().split(b"\n")
            for number, line in enumerate(lines):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                except ValueError:
                    if number >= len(lines) - 2:  # the last line, cut short: never acknowledged
                        log.warning("%s: skipping a last write cut short by a crash", path)
                        continue
                    raise ValueError(f"{path}: line {number + 1} is not a journal entry") from None
                yield Entry(
                    generation=generation,
                    service=raw["service"],
                    method=raw["method"],
                    path=raw["path"],
                    query=raw["query"],
                    headers=raw["headers"],
                    body=base64.b64decode(raw["body"]),
                )

    def _generations(self) -> list[int]:
        if not self._dir.exists():
            return []
        return [int(m.group(1)) for p in self._dir.iterdir() if (m := _NAME.match(p.name))]

    def _path(self, generation: int) -> Path:
        return self._dir / f"journal.{generation}.jsonl"


def replay(
    entries: Iterator[Entry], app: Any, since: Mapping[str, int], services: Iterable[str] | None = None
) -> int:
    """Send each entry to the WSGI `app` (moto) as it first arrived, unless the snapshot of its
    service already holds it (`since[service]` > the entry's generation), or it is not one of
    `services`. Returns how many."""
    from io import BytesIO

    wanted = None if services is None else set(services)
    count = 0
    for entry in entries:
        if since.get(entry.service, 0) > entry.generation or (
            wanted is not None and entry.service not in wanted
        ):
            continue
        environ = {
            **entry.headers,
            "REQUEST_METHOD": entry.method,
            "PATH_INFO": entry.path,
            "QUERY_STRING": entry.query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "0",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_LENGTH": str(len(entry.body)),
            "wsgi.input": BytesIO(entry.body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": BytesIO(),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        status: list[str] = []
        body = b"".join(app(environ, lambda s, h, exc_info=None, seen=status: seen.append(s)))
        if not status or not status[0].startswith("2"):
            log.warning("replaying a %s write answered %s: %s", entry.service, status, body[:200])
        count += 1
    return count


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
