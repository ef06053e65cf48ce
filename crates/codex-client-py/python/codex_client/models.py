"""The values the client hands out around the generated wire models: :class:`Notification`
(a method and its decoded payload), :class:`UnknownNotification`, :class:`InitializeResponse`,
the JSON aliases — the names of ``openai_codex.models`` — and :class:`LaggedNotification`, this
SDK's visible count of events a slow consumer missed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from pydantic import BaseModel

from .generated.notification_registry import KnownNotificationPayload as _KnownNotificationPayload
from .generated.v2_all import (  # noqa: F401  (the notification names of openai_codex.models)
    AccountLoginCompletedNotification as AccountLoginCompletedNotification,
    AccountRateLimitsUpdatedNotification as AccountRateLimitsUpdatedNotification,
    AccountUpdatedNotification as AccountUpdatedNotification,
    AgentMessageDeltaNotification as AgentMessageDeltaNotification,
    AppListUpdatedNotification as AppListUpdatedNotification,
    CommandExecutionOutputDeltaNotification as CommandExecutionOutputDeltaNotification,
    ConfigWarningNotification as ConfigWarningNotification,
    ContextCompactedNotification as ContextCompactedNotification,
    DeprecationNoticeNotification as DeprecationNoticeNotification,
    ErrorNotification as ErrorNotification,
    FileChangeOutputDeltaNotification as FileChangeOutputDeltaNotification,
    ItemCompletedNotification as ItemCompletedNotification,
    ItemStartedNotification as ItemStartedNotification,
    McpServerOauthLoginCompletedNotification as McpServerOauthLoginCompletedNotification,
    McpToolCallProgressNotification as McpToolCallProgressNotification,
    PlanDeltaNotification as PlanDeltaNotification,
    RawResponseItemCompletedNotification as RawResponseItemCompletedNotification,
    ReasoningSummaryPartAddedNotification as ReasoningSummaryPartAddedNotification,
    ReasoningSummaryTextDeltaNotification as ReasoningSummaryTextDeltaNotification,
    ReasoningTextDeltaNotification as ReasoningTextDeltaNotification,
    TerminalInteractionNotification as TerminalInteractionNotification,
    ThreadGoalClearedNotification as ThreadGoalClearedNotification,
    ThreadGoalUpdatedNotification as ThreadGoalUpdatedNotification,
    ThreadNameUpdatedNotification as ThreadNameUpdatedNotification,
    ThreadStartedNotification as ThreadStartedNotification,
    ThreadTokenUsageUpdatedNotification as ThreadTokenUsageUpdatedNotification,
    TurnCompletedNotification as TurnCompletedNotification,
    TurnDiffUpdatedNotification as TurnDiffUpdatedNotification,
    TurnPlanUpdatedNotification as TurnPlanUpdatedNotification,
    TurnStartedNotification as TurnStartedNotification,
    WindowsWorldWritableWarningNotification as WindowsWorldWritableWarningNotification,
)

JsonScalar: TypeAlias = str | int | float | bool | None
JsonValue: TypeAlias = JsonScalar | dict[str, "JsonValue"] | list["JsonValue"]
JsonObject: TypeAlias = dict[str, JsonValue]

#: The method of a :class:`LaggedNotification` in a stream.
LAGGED_METHOD = "codex_client/lagged"


@dataclass(slots=True)
class UnknownNotification:
    """A notification whose method this package does not know, or whose params did not
    validate into its model: the params as sent."""

    params: JsonObject


@dataclass(slots=True)
class LaggedNotification:
    """``count`` events of this stream were dropped here because its consumer fell behind
    (its queue stayed full past the grace period; every other stream went on). Never silent:
    the gap is an event at its place. A turn's ``turn/completed`` is never dropped."""

    count: int


NotificationPayload: TypeAlias = (
    _KnownNotificationPayload
    | RawResponseItemCompletedNotification
    | UnknownNotification
    | LaggedNotification
)


@dataclass(slots=True)
class Notification:
    """One server notification: its ``method`` and its ``payload`` (the generated model of the
    method, or :class:`UnknownNotification`)."""

    method: str
    payload: NotificationPayload


class ServerInfo(BaseModel):
    """The server's name and version (derived from the ``userAgent`` when not sent)."""

    name: str | None = None
    version: str | None = None


class InitializeResponse(BaseModel):
    """What the server answered to ``initialize``."""

    serverInfo: ServerInfo | None = None
    userAgent: str | None = None
    platformFamily: str | None = None
    platformOs: str | None = None
