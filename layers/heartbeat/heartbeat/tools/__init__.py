"""The Soul's tools (DESIGN.md section 8), built for one run by `registry.build_toolset` from the
task's `tools`: web_fetch, the tenant's MCP servers, notify, report_failure (always), and the
memory tools. Each built-in tool's arguments are a pydantic model whose JSON Schema is what the
providers get. Importing this package imports no tool."""
