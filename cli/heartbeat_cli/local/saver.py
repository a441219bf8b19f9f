"""Saves the services that changed, shortly after they change, and once more at shutdown."""

from __future__ import annotations

import logging
import threading
from typing import Any

from heartbeat_cli.local.state import PERSISTED, StateStore

log = logging.getLogger("heartbeat.local")


class StateSaver:
    """Collects the services written to (from the endpoint's WriteWatcher) and saves them after
    `delay` seconds of real time, so a burst of writes costs one save."""

    def __init__(self, store: StateStore, clients: dict[str, Any], delay: float = 1.0) -> None:
        self._store = store
        self._clients = clients
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

    def flush(self) -> None:
        """Save whatever changed, now."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        if dirty:
            self._store.save(self._clients, sorted(dirty))

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
