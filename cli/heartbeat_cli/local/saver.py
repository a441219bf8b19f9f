"""Saves the services that changed, shortly after they change, and once more at shutdown: the
checkpoint of the write journal (journal.py), which makes each write durable before its answer."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Any

from heartbeat_cli.local.state import PERSISTED, StateStore

if TYPE_CHECKING:
    from heartbeat_cli.local.journal import Journal

log = logging.getLogger("heartbeat.local")


class StateSaver:
    """Collects the services written to (from the endpoint's WriteWatcher) and saves them after
    `delay` seconds of real time, so a burst of writes costs one save."""

    def __init__(
        self,
        store: StateStore,
        clients: dict[str, Any],
        delay: float = 1.0,
        *,
        journal: Journal | None = None,
        writes: Any = None,
    ) -> None:
        """`writes`: a lock that stops the endpoint's requests while held (the watcher's), so a
        checkpoint sees no write half-way; `clients` must then pass it (checkpoint_clients)."""
        self._store = store
        self._clients = clients
        self._journal = journal
        self._writes = writes if writes is not None else contextlib.nullcontext()
        self._delay = delay
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def mark(self, service: str) -> None:
        if service in PERSISTED:
            with self._lock:
                self._dirty.add(service)
            self._changed.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="state-saver", daemon=True)
        self._thread.start()

    def mark_all(self) -> None:
        for service in PERSISTED:
            self.mark(service)

    def flush(self) -> None:
        """Save whatever changed, now: a checkpoint, after which the journal starts afresh."""
        with self._writes:
            with self._lock:
                dirty, self._dirty = self._dirty, set()
            if not dirty:
                return
            try:
                generation = self._journal.rotate() if self._journal is not None else None
                self._store.save(self._clients, sorted(dirty), journal=generation)
            except BaseException:
                with self._lock:  # not saved: the journal keeps them, and the next checkpoint saves them
                    self._dirty |= dirty
                raise
            if self._journal is not None and generation is not None:
                self._journal.drop_before(generation)

    def stop(self) -> None:
        self._stopping.set()
        self._changed.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush()

    def _run(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        while not self._stopping.is_set():
            self._changed.wait()
            if self._stopping.is_set():
                return
            self._stopping.wait(self._delay)  # let a burst of writes finish
            self._changed.clear()
            try:
                self.flush()
            # A full disk, a removed data dir, or the endpoint going away: say so, keep serving.
            except (OSError, BotoCoreError, ClientError) as exc:
                log.error("saving local state failed: %s", exc)
