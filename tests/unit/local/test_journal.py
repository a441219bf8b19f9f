"""The local stack's write journal: what a kill leaves behind is read back exactly, and a replay
applies each write once, whatever checkpoint the snapshots reached."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from heartbeat_cli.local.journal import Journal, replay, request_entry


class RecordingApp:
    """A WSGI app standing in for moto: records each request it is sent."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        self.requests.append((environ["REQUEST_METHOD"], environ["HTTP_X_AMZ_TARGET"], body))
        start_response("200 OK", [])
        return [b"{}"]


def write(journal: Journal, service: str, body: bytes) -> None:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "HTTP_X_AMZ_TARGET": f"{service}.Op"}
    journal.append(request_entry(service, environ, body))


def test_entries_come_back_in_order_with_their_bytes(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    write(journal, "dynamodb", b'{"a": 1}')
    write(journal, "s3", b"\xff\x00binary")
    journal.close()
    app = RecordingApp()
    assert replay(Journal(tmp_path).entries(), app, {}) == 2
    assert app.requests == [
        ("POST", "dynamodb.Op", b'{"a": 1}'),
        ("POST", "s3.Op", b"\xff\x00binary"),
    ]


def test_a_last_line_cut_short_by_a_kill_is_skipped(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    write(journal, "dynamodb", b"kept")
    write(journal, "dynamodb", b"cut")
    journal.close()
    path = next(tmp_path.glob("journal.*.jsonl"))
    path.write_bytes(path.read_bytes()[:-20])
    app = RecordingApp()
    assert replay(Journal(tmp_path).entries(), app, {}) == 1 and app.requests[0][2] == b"kept"


def test_a_damaged_line_before_the_last_stops_the_start_naming_it(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    for body in (b"one", b"two", b"three"):
        write(journal, "dynamodb", body)
    journal.close()
    path = next(tmp_path.glob("journal.*.jsonl"))
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([lines[0], b"{broken", *lines[2:]]))
    with pytest.raises(ValueError, match="line 2 is not a journal entry"):
        list(Journal(tmp_path).entries())


def test_a_snapshot_newer_than_an_entry_is_not_replayed_over(tmp_path: Path) -> None:
    """A kill mid-checkpoint: dynamodb's snapshot was saved at generation 2, s3's was not yet."""
    journal = Journal(tmp_path)
    journal.begin(after=0)  # generation 1
    write(journal, "dynamodb", b"in the snapshot")
    write(journal, "s3", b"not in the snapshot")
    assert journal.rotate() == 2
    write(journal, "dynamodb", b"after the checkpoint")
    journal.close()
    app = RecordingApp()
    assert replay(Journal(tmp_path).entries(), app, {"dynamodb": 2, "s3": 1}) == 2
    assert [body for _, _, body in app.requests] == [b"not in the snapshot", b"after the checkpoint"]


def test_dropping_old_generations_keeps_the_current_one(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    write(journal, "dynamodb", b"old")
    generation = journal.rotate()
    write(journal, "dynamodb", b"new")
    journal.drop_before(generation)
    journal.close()
    app = RecordingApp()
    replay(Journal(tmp_path).entries(), app, {})
    assert [body for _, _, body in app.requests] == [b"new"]
