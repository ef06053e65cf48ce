"""From the native streams to :class:`~codex_client.models.Notification` values: decoding a
notification's params JSON into its generated model (``model_validate_json``, no ``dict`` in
between), and ``_TurnSubscription``, one consumer of a native stream, with a blocking and an
asyncio side. The routing itself — one reader, per-turn queues, replay of what a turn sent
before its consumer subscribed, bounds — is the Rust core's (``codex_client._native``)."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from pydantic import ValidationError

from .errors import TransportClosedError
from .generated.notification_registry import NOTIFICATION_MODELS
from .models import LAGGED_METHOD, LaggedNotification, Notification, UnknownNotification

#: How many events one call into the native stream hands over at most.
BATCH = 256


def decode_notification(method: str | None, params: Any) -> Notification:
    """One native event (``(method, params_json)``, or ``(None, count)`` for a gap) as a
    :class:`Notification`. Params that do not validate into the method's model are kept whole
    in an :class:`UnknownNotification` (as the official SDK does), never dropped."""
    if method is None:
        return Notification(LAGGED_METHOD, LaggedNotification(int(params)))
    model = NOTIFICATION_MODELS.get(method)
    if model is not None:
        try:
            return Notification(method, model.model_validate_json(params))
        except ValidationError:
            pass
    try:
        value = json.loads(params)
    except ValueError:
        value = {}
    return Notification(method, UnknownNotification(value if isinstance(value, dict) else {}))


class _TurnSubscription:
    """One consumer of a native stream (a turn's, or the global one)."""

    __slots__ = ("_stream", "_buffer", "_ended", "__weakref__")

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._buffer: deque[tuple[str | None, Any]] = deque()
        self._ended = False

    @property
    def turn_id(self) -> str | None:
        return self._stream.turn_id

    def _ended_error(self) -> TransportClosedError:
        return TransportClosedError("Turn is no longer streaming")

    def next(self) -> Notification:
        """The next event; blocks with the GIL released. Raises ``TransportClosedError`` once
        the stream has ended (after a turn's ``turn/completed``) or the connection closed."""
        buffer = self._buffer
        while not buffer:
            if self._ended:
                raise self._ended_error()
            batch = self._stream.next_batch(BATCH)
            if batch is None:
                self._ended = True
                raise self._ended_error()
            buffer.extend(batch)
        method, params = buffer.popleft()
        return decode_notification(method, params)

    async def anext(self) -> Notification:
        """:meth:`next` for asyncio."""
        buffer = self._buffer
        while not buffer:
            if self._ended:
                raise self._ended_error()
            batch = await self._stream.next_batch_async(BATCH)
            if batch is None:
                self._ended = True
                raise self._ended_error()
            buffer.extend(batch)
        method, params = buffer.popleft()
        return decode_notification(method, params)

    def next_batch(self) -> list[tuple[str | None, Any]] | None:
        """Everything buffered or, when nothing is, the next native batch; ``None`` at the end."""
        if self._buffer:
            batch = list(self._buffer)
            self._buffer.clear()
            return batch
        if self._ended:
            return None
        batch = self._stream.next_batch(BATCH)
        if batch is None:
            self._ended = True
        return batch

    async def next_batch_async(self) -> list[tuple[str | None, Any]] | None:
        """:meth:`next_batch` for asyncio."""
        if self._buffer:
            batch = list(self._buffer)
            self._buffer.clear()
            return batch
        if self._ended:
            return None
        batch = await self._stream.next_batch_async(BATCH)
        if batch is None:
            self._ended = True
        return batch

    def close(self) -> None:
        """Stops consuming: the core frees this subscriber's queue. Idempotent."""
        self._ended = True
        self._buffer.clear()
        self._stream.close()
