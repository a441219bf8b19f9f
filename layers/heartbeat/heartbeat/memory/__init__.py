"""Tenant memory: core blocks, archival passages and their search index.

Entry point: `heartbeat.memory.store.MemoryStore` (one tenant's memory). The Soul's memory tools
are in `heartbeat.tools.memory`; the table is template.yaml's `MemoryTable`.
"""
