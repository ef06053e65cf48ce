"""``TurnResult`` and how a turn's stream is collected into one: the items completed in the
turn (in order), the last token usage, the completion, and the final response (the last
``final_answer`` agent message, else the last agent message without a phase, else ``None``).
A failed turn raises :class:`~codex_client.errors.TurnFailedError` (a ``RuntimeError``, as the
official SDK raises) carrying the turn, its error and the items."""

from __future__ import annotations

from dataclasses import dataclass
from typing import AsyncIterator, Iterator

from .errors import TurnFailedError
from .generated.v2_all import (
    AgentMessageThreadItem,
    ItemCompletedNotification,
    MessagePhase,
    ThreadItem,
    ThreadTokenUsage,
    ThreadTokenUsageUpdatedNotification,
    Turn,
    TurnCompletedNotification,
    TurnError,
    TurnStatus,
)
from .models import Notification


@dataclass(slots=True)
class TurnResult:
    """What a completed turn produced."""

    id: str
    status: TurnStatus
    error: TurnError | None
    started_at: int | None
    completed_at: int | None
    duration_ms: int | None
    final_response: str | None
    items: list[ThreadItem]
    usage: ThreadTokenUsage | None


def _final_response(items: list[ThreadItem]) -> str | None:
    without_phase: str | None = None
    for item in reversed(items):
        message = getattr(item, "root", item)
        if not isinstance(message, AgentMessageThreadItem):
            continue
        if message.phase == MessagePhase.final_answer:
            return message.text
        if message.phase is None and without_phase is None:
            without_phase = message.text
    return without_phase


class _Collector:
    """Takes a turn's events one by one; :meth:`result` once the stream ended."""

    __slots__ = ("turn_id", "items", "usage", "completed")

    def __init__(self, turn_id: str) -> None:
        self.turn_id = turn_id
        self.items: list[ThreadItem] = []
        self.usage: ThreadTokenUsage | None = None
        self.completed: TurnCompletedNotification | None = None

    def take(self, event: Notification) -> None:
        payload = event.payload
        if isinstance(payload, ItemCompletedNotification):
            if payload.turn_id == self.turn_id:
                self.items.append(payload.item)
        elif isinstance(payload, ThreadTokenUsageUpdatedNotification):
            if payload.turn_id == self.turn_id:
                self.usage = payload.token_usage
        elif isinstance(payload, TurnCompletedNotification):
            if payload.turn.id == self.turn_id:
                self.completed = payload

    def result(self) -> TurnResult:
        if self.completed is None:
            raise TurnFailedError(
                f"turn {self.turn_id}: the stream ended without its turn/completed",
                items=self.items,
            )
        turn: Turn = self.completed.turn
        if turn.status == TurnStatus.failed:
            message = (
                turn.error.message
                if turn.error is not None and turn.error.message
                else f"turn failed with status {turn.status.value}"
            )
            raise TurnFailedError(message, turn=turn, error=turn.error, items=self.items)
        return TurnResult(
            id=turn.id,
            status=turn.status,
            error=turn.error,
            started_at=turn.started_at,
            completed_at=turn.completed_at,
            duration_ms=turn.duration_ms,
            final_response=_final_response(self.items),
            items=self.items,
            usage=self.usage,
        )


def _collect_turn_result(stream: Iterator[Notification], *, turn_id: str) -> TurnResult:
    collector = _Collector(turn_id)
    for event in stream:
        collector.take(event)
    return collector.result()


async def _collect_async_turn_result(
    stream: AsyncIterator[Notification], *, turn_id: str
) -> TurnResult:
    collector = _Collector(turn_id)
    async for event in stream:
        collector.take(event)
    return collector.result()
