"""The `format: "slack"` body: a Slack incoming webhook takes `{"text": ...}` in its mrkdwn."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_ICON = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}
MAX_TEXT = 3000


def _escape(text: Any) -> str:
    # Slack's three control characters; everything else is shown as written.
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(event_type: str, data: Mapping[str, Any]) -> str:
    task = data.get("task") or {}
    run = data.get("run") or {}
    name = _escape(task.get("name") or task.get("id") or "a task")
    state = task.get("state") or {}
    if event_type == "agent.notification":
        note = data.get("notification") or {}
        icon = _ICON.get(str(note.get("severity")), "")
        text = f"{icon} *{_escape(note.get('title') or 'Notification')}* ({name})\n{_escape(note.get('message') or '')}"
    elif event_type == "run.succeeded":
        text = f":white_check_mark: *{name}* ran ok\n{_escape((run.get('output') or '')[:1500])}"
    elif event_type == "run.failed":
        text = f":x: *{name}* failed: {_escape(run.get('error') or 'no reason given')}"
    elif event_type == "run.missed":
        text = f":hourglass: *{name}* missed a run: {_escape(run.get('reason') or '')}"
    elif event_type == "task.failing":
        text = (
            f":rotating_light: *{name}* is failing: {state.get('consecutive_errors', '?')} runs in a row. "
            f"Last error: {_escape(state.get('last_error') or '')}"
        )
    elif event_type == "task.recovered":
        text = f":white_check_mark: *{name}* recovered: its last run was ok"
    elif event_type == "task.disabled":
        text = f":no_entry: *{name}* was disabled: {_escape(state.get('disabled_reason') or '')}"
    elif event_type == "budget.exhausted":
        budget = data.get("budget") or {}
        text = f":money_with_wings: The daily token budget is used up ({_escape(budget)}); runs resume tomorrow (UTC)"
    else:
        text = f"Heartbeat {_escape(event_type)}: {_escape(json.dumps(dict(data))[:500])}"
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def slack_body(event_type: str, data: Mapping[str, Any]) -> str:
    return json.dumps({"text": slack_text(event_type, data)}, ensure_ascii=False)
