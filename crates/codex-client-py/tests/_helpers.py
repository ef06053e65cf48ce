"""What several test files share: waiting for a condition with a bound."""

from __future__ import annotations

import time

WAIT_S = 60.0


def eventually(condition, *, timeout: float = WAIT_S, interval: float = 0.01, what: str = "the condition"):
    """Polls ``condition()`` until it returns something truthy (returned); fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
