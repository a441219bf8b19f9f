"""Real text no one here wrote, for search measurements: paragraphs of the docstrings of the
standard library and of packages the project installs (issue 19's corpus)."""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import pkgutil
import sys
import warnings
from collections.abc import Iterable
from typing import Any

# Standard-library modules never imported here: they open windows or browsers, print, or test.
NOT_IMPORTED = frozenset(
    {
        "antigravity",
        "this",
        "idlelib",
        "tkinter",
        "turtle",
        "turtledemo",
        "test",
        "lib2to3",
        "ensurepip",
        "venv",
    }
)
# Installed packages (the project's own dependencies and dev tools) whose submodules are walked too.
PACKAGES = (
    "asyncio", "concurrent", "email", "http", "importlib", "json", "logging", "multiprocessing",
    "unittest", "urllib", "xml", "botocore", "boto3", "pydantic", "hypothesis", "jsonschema",
    "numpy", "yaml", "urllib3", "jinja2", "werkzeug", "click", "cryptography", "pygments", "rich",
    "networkx", "starlette", "anyio", "attr", "pyparsing", "markdown_it", "docutils",
)  # fmt: skip


def _words(text: str) -> int:
    from heartbeat.memory.tokens import tokenize

    return len(tokenize(text))


def stdlib_modules() -> list[str]:
    return sorted(n for n in sys.stdlib_module_names if n not in NOT_IMPORTED and not n.startswith("_"))


def package_modules(packages: Iterable[str] = PACKAGES) -> list[str]:
    """Each package and its public submodules (none named or under `_*`, `test*`)."""
    names: list[str] = []
    for name in packages:
        module = _import(name)
        if module is None:
            continue
        names.append(name)
        for info in pkgutil.walk_packages(getattr(module, "__path__", []), name + "."):
            parts = info.name.split(".")[1:]
            if not any(p.startswith(("_", "test")) for p in parts):
                names.append(info.name)
    return names


def _import(name: str) -> Any:
    """The module, or None if it does not import here (a platform's module, an optional extra).
    Whatever it prints on import is swallowed."""
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    except (ImportError, OSError, RuntimeError, AttributeError, SyntaxError, TypeError, ValueError):
        return None


def docstring_passages(modules: Iterable[str]) -> list[str]:
    """Paragraphs (80-1,500 characters, 8 words or more) of the docstrings of `modules`, their
    public members and their classes' public methods, deduplicated, in a fixed order."""
    seen: set[str] = set()
    passages: list[str] = []
    for name in modules:
        module = _import(name)
        if module is None:
            continue
        for obj in _members(module):
            for paragraph in (_doc(obj) or "").split("\n\n"):
                text = " ".join(paragraph.split())
                if 80 <= len(text) <= 1500 and text not in seen and _words(text) >= 8:
                    seen.add(text)
                    passages.append(text)
    return passages


def _members(module: Any) -> list[Any]:
    found = [module]
    for attr in sorted(dir(module)):
        if attr.startswith("_"):
            continue
        obj = inspect.getattr_static(module, attr, None)
        found.append(obj)
        if inspect.isclass(obj):
            found.extend(value for key, value in sorted(vars(obj).items()) if not key.startswith("_"))
    return found


def _doc(obj: Any) -> str | None:
    if not (inspect.ismodule(obj) or inspect.isclass(obj) or callable(obj)):
        return None
    doc = getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else None
