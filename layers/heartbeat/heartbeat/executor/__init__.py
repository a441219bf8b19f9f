"""The tenant executor: runs one scheduled (or manual) slot of one task, exactly once.

- `core.Executor`: slot dedupe, lease, backoff, auto-disable, tenant concurrency, run records.
- `runner.SoulRunner`: what the executor calls to run the agent (`AgentSoulRunner` is the real one).
- `backoff`: when a failing task may run again.
- `handler.ExecutorHandler`: what the Lambda handler calls, built from `config.ExecutorConfig`.

Its AWS adapters are in `heartbeat.dal` (artifacts, retry schedules and the orphan janitor among
them), the event it takes in `heartbeat.models.executor_event`; the API's side of runs (run now,
history) is `heartbeat.runs`.
"""
