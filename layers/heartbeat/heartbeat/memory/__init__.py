"""Tenant memory: core blocks, archival passages and their search index, and the Soul's memory tools.

Entry points: `heartbeat.memory.store.MemoryStore` (one tenant's memory),
`heartbeat.tools.memory.memory_tools` (the Soul's tools), `heartbeat.memory.schema` (the table).
"""
