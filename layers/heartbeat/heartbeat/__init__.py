"""Heartbeat's shared library: the Lambda layer every function imports.

Import cost is cold-start cost: this package imports nothing at the top level, and each module
imports heavy dependencies only where it uses them.
"""
