"""The library's rooms import downwards only: api -> logic -> dal/models, and nothing imports the
api or the executor except their own handlers. Read from the source with `ast`, so a lazy import
inside a function counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[3] / "layers" / "heartbeat" / "heartbeat"

# Each room and the rooms it may import (besides itself). The base modules (errors, ids, timeutil,
# config, retry) may be imported by anyone and import no room.
BASE = {"errors", "ids", "timeutil", "config", "retry", "tls"}
ALLOWED: dict[str, set[str]] = {
    "models": set(),
    "schedule": set(),
    "console": set(),  # the console's page, script and style: files the api serves, no code
    "dal": {"models", "schedule", "soul.types"},
    "keys": {"models", "dal"},
    "memory": {"dal"},
    "tasks": {"models", "dal", "schedule"},
    "soul": set(),
    "outbound": set(),
    "notify": {"models", "dal", "outbound"},
    "tools": {"memory", "soul.types", "models", "outbound"},
    "mcp_servers": {"models", "dal", "outbound", "tools"},
    "runs": {"models", "dal"},
    "conversations": {"models", "dal"},
    "usage": {"models", "dal", "soul.types"},
    "executor": {"models", "dal", "schedule", "soul", "memory", "tools", "notify", "usage"},
    "api": {
        "models",
        "tasks",
        "runs",
        "memory",
        "soul",
        "dal",
        "schedule",
        "conversations",
        "notify",
        "usage",
        "mcp_servers",
    },
}


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "heartbeat":
            found.update(f"heartbeat.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("heartbeat.")}


def allowed(source_room: str, target: str) -> bool:
    target_room = room(target)
    if target_room in BASE or target_room == source_room:
        return True
    name = target.removeprefix("heartbeat.")
    return any(name == a or name.startswith(a + ".") for a in ALLOWED[source_room])


def test_every_room_imports_only_the_rooms_below_it() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        source_room = relative.parts[0].removesuffix(".py")
        if source_room in BASE or source_room == "__init__":
            assert imports_of(path) <= {f"heartbeat.{b}" for b in BASE}, relative
            continue
        assert source_room in ALLOWED, f"{relative}: a room the layering rule does not know"
        for target in imports_of(path):
            if not allowed(source_room, target):
                wrong.append(f"{relative} imports {target}")
    assert wrong == []


def test_the_api_never_imports_the_executor() -> None:
    api = [imports_of(p) for p in (PACKAGE / "api").rglob("*.py")]
    assert not any(name.startswith("heartbeat.executor") for names in api for name in names)
