"""The `heartbeat` command: operator CLI, the local stack and an API client. Not deployed."""
