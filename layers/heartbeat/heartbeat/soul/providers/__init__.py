"""One module per model provider, each imported only when a model of its kind is resolved
(`heartbeat.soul.resolve.resolve_model`): `anthropic`, `openai` (and OpenAI-compatible servers),
`bedrock`, `offline`. Each translates `heartbeat.soul.types` to its wire format and back, and turns
its failures into `ModelError`s, transient or terminal."""
