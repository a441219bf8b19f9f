"""Outbound safety: every request Heartbeat makes on a tenant's behalf (web_fetch, MCP servers,
webhooks) goes through this package (DESIGN.md section 8).

`guard` decides whether a URL may be reached and resolves its host once; `http` is a blocking HTTP
client that connects only to the addresses `guard` checked, re-checks every redirect and bounds
time and bytes; `transport` gives the same guarantee to httpx2 clients (the MCP SDK's). Importing
this package imports neither of the clients.
"""
