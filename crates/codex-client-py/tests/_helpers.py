"""What several test files share: waiting for a condition with a bound, a thread whose
approvals this client reviews."""

from __future__ import annotations

import time
from pathlib import Path

from codex_client import Codex, Thread

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


def reviewed_thread(codex: Codex, workdir: Path, policy: str) -> Thread:
    """A thread in ``workdir`` whose approvals, under ``policy`` (``untrusted``: every command;
    ``on-request``: escalations), are asked of this client (reviewed by the user)."""
    started = codex._client.thread_start(
        {
            "approvalPolicy": policy,
            "approvalsReviewer": "user",
            "sandbox": "workspace-write",
            "cwd": str(workdir),
        }
    )
    return Thread(codex._client, started.thread.id)
