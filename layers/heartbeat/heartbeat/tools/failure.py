"""report_failure: the agent says it could not do its job, and the run ends `error` with its reason
as the task's `last_error` (DESIGN.md section 8). Always in the toolset."""

from __future__ import annotations

from pydantic import Field

from heartbeat.soul.types import ModelError, Tool
from heartbeat.tools.base import ModelTool, ToolArguments

MAX_REASON = 1000


class ReportedFailure(ModelError):
    """The agent reported that it could not do the task. Ends the run as `error` with `reason`; it
    counts as one failed run (not an error retrying cannot fix: the next run may succeed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, transient=False)
        self.reason = reason


class ReportFailureArguments(ToolArguments):
    reason: str = Field(
        min_length=1,
        max_length=MAX_REASON,
        description="What went wrong and what was not done, in one or two sentences a person can act on.",
    )


def _report(arguments: ReportFailureArguments) -> str:
    raise ReportedFailure(arguments.reason.strip() or "the agent reported failure without a reason")


def report_failure_tool() -> Tool:
    return ModelTool.build(
        "report_failure",
        "End this run as failed, with your reason. Call it when you cannot do the task (a source you "
        "need cannot be reached, a tool keeps failing, the data you need is missing), instead of "
        "writing an answer that pretends the task was done. The run ends at once.",
        ReportFailureArguments,
        _report,
    )
