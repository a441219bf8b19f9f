"""The Soul: the agent that runs a task.

- `types`: the vocabulary (messages, tool calls, usage, `Model`, `Tool`, `ModelError`);
- `agent.run_agent`: the loop, bounded by steps, tokens and the Lambda's remaining time;
- `prompt.build_system_prompt`: instructions and core memory, the stable (cached) prefix;
- `models.resolve_model` / `validate_model_name` / `SoulSettings`: `provider/model` names;
- `retry`: backoff for transient provider errors; `credentials`: where API keys come from;
- `providers/`: one module per provider, imported only when used.

Nothing is imported here: import the module you need (cold start).
"""
