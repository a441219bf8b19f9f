"""The Soul's tools (DESIGN.md section 8), and the registry that builds the toolset of a run
(`registry.run_toolset`) from the task's `tools`: the memory tools (`memory.py`), web_fetch, the
tenant's MCP servers, notify, and report_failure (always). Each built-in tool's arguments are a
pydantic model whose JSON Schema is what the providers get. Importing this package imports no tool."""
