"""The tenant executor: runs one scheduled (or manual) slot of one task, exactly once.

- `core.Executor`: slot dedupe, lease, backoff, auto-disable, tenant concurrency, run records.
- `soul.SoulRunner`: what the executor calls to run the agent (`AgentSoulRunner` is the real one).
- `artifacts`: large outputs and conversation transcripts in S3.
- `schedules`: the retry schedules of queued runs, and removing orphan schedules.
- `runs.RunsService`: the API's side (run now, list runs); `invoker.RunInvoker` starts a run.
- `handler.ExecutorHandler`: what the Lambda handler calls, built from `config.ExecutorConfig`.
"""
