"""``Sandbox``: filesystem access presets, and their two wire forms (a thread's
``SandboxMode`` string, a turn's ``SandboxPolicy`` object)."""

from __future__ import annotations

from enum import Enum

from .generated.v2_all import (
    DangerFullAccessSandboxPolicy,
    ReadOnlySandboxPolicy,
    SandboxMode,
    SandboxPolicy,
    WorkspaceWriteSandboxPolicy,
)


class Sandbox(str, Enum):
    """``read_only``: reads, no writes; ``workspace_write``: writes inside the workspace and
    the configured writable roots; ``full_access``: no filesystem restriction."""

    read_only = "read-only"
    workspace_write = "workspace-write"
    full_access = "full-access"


def _require_sandbox(sandbox: Sandbox) -> None:
    if not isinstance(sandbox, Sandbox):
        options = ", ".join(f"Sandbox.{value.name}" for value in Sandbox)
        raise ValueError(f"sandbox must be one of: {options}")


_MODES = {
    Sandbox.read_only: SandboxMode.read_only,
    Sandbox.workspace_write: SandboxMode.workspace_write,
    Sandbox.full_access: SandboxMode.danger_full_access,
}


def _sandbox_mode(sandbox: Sandbox | None) -> SandboxMode | None:
    """The thread's wire mode (``thread/start``, ``resume``, ``fork``)."""
    if sandbox is None:
        return None
    _require_sandbox(sandbox)
    return _MODES[sandbox]


def _sandbox_policy(sandbox: Sandbox | None) -> SandboxPolicy | None:
    """The turn's wire policy (``turn/start``)."""
    if sandbox is None:
        return None
    _require_sandbox(sandbox)
    if sandbox is Sandbox.read_only:
        return SandboxPolicy(root=ReadOnlySandboxPolicy(type="readOnly"))
    if sandbox is Sandbox.workspace_write:
        return SandboxPolicy(root=WorkspaceWriteSandboxPolicy(type="workspaceWrite"))
    return SandboxPolicy(root=DangerFullAccessSandboxPolicy(type="dangerFullAccess"))
