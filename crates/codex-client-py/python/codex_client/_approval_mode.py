"""``ApprovalMode``: the presets for how the server handles escalated permission requests,
and their wire form (``approvalPolicy`` + ``approvalsReviewer``)."""

from __future__ import annotations

from enum import Enum

from .generated.v2_all import ApprovalsReviewer, AskForApproval, AskForApprovalValue


class ApprovalMode(str, Enum):
    """How escalations are reviewed. ``deny_all``: never ask, the sandbox decides;
    ``auto_review``: ask, and let the server's automatic reviewer decide. Requests that still
    reach this client go to ``CodexConfig.approval_handler`` and, without one, get a refusal
    (this SDK fails closed; the official SDK accepts — see the migration guide)."""

    deny_all = "deny_all"
    auto_review = "auto_review"


def _approval_mode_settings(
    approval_mode: ApprovalMode,
) -> tuple[AskForApproval, ApprovalsReviewer | None]:
    if not isinstance(approval_mode, ApprovalMode):
        supported = ", ".join(mode.value for mode in ApprovalMode)
        raise ValueError(f"approval_mode must be one of: {supported}")
    if approval_mode is ApprovalMode.auto_review:
        return AskForApproval(root=AskForApprovalValue.on_request), ApprovalsReviewer.auto_review
    return AskForApproval(root=AskForApprovalValue.never), None


def _approval_mode_override_settings(
    approval_mode: ApprovalMode | None,
) -> tuple[AskForApproval | None, ApprovalsReviewer | None]:
    """``None`` (inherit what the thread has) or the preset's settings."""
    if approval_mode is None:
        return None, None
    return _approval_mode_settings(approval_mode)
