"""What to tell the user when one of the local stack's ports is taken."""

from __future__ import annotations

import errno


def port_error(exc: OSError, port: int, what: str, option: str) -> OSError:
    """`exc` with what to do when it is a port in use."""
    if exc.errno != errno.EADDRINUSE:
        return exc
    return OSError(
        exc.errno,
        f"port {port} ({what}) is in use: stop what uses it, or choose another with {option} "
        f'(make run ARGS="{option} {port + 1}")',
    )
