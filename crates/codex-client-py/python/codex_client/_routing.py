"""From the native streams to :class:`~codex_client.models.Notification` values: decoding a
notification's params JSON into its generated model (``model_validate_json``, no ``dict`` in
between; the flat delta models, found by :func:`_flat_models`, built by the native
``NotificationDecoder`` without leaving Rust), and ``_TurnSubscription``, one consumer of a
native stream, with a blocking and an asyncio side. The routing itself — one reader, per-turn queues, replay of what a turn sent
before its consumer subscribed, bounds — is the Rust core's (``codex_client._native``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, RootModel, ValidationError

from ._native import NotificationDecoder
from .errors import TransportClosedError
from .generated.notification_registry import NOTIFICATION_MODELS
from .models import LAGGED_METHOD, LaggedNotification, Notification, UnknownNotification

#: How many events one call into the native stream hands over at most.
BATCH = 64


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


#: The field types the native decoder builds itself: a JSON string for ``str``, a JSON integer
#: for ``int`` (anything else, such as ``5.0`` or ``"5"``, goes to pydantic).
_FLAT_KINDS = {str: "str", int: "int"}


def _flat_fields(model: type[BaseModel]) -> list[tuple[str, str, str]] | None:
    """``[(wire_key, field_name, kind), ...]`` in definition order when every field of ``model``
    is a required plain ``str`` or ``int`` and nothing else shapes its validation (no
    validators, serializers, private attributes or post-init, extra keys ignored): then
    building the instance from the JSON's strings and integers is exactly what validating the
    JSON gives. ``None`` otherwise."""
    if issubclass(model, RootModel) or model.model_config.get("extra", "ignore") != "ignore":
        return None
    decorators = model.__pydantic_decorators__
    if any(
        getattr(decorators, kind)
        for kind in (
            "validators",
            "field_validators",
            "root_validators",
            "field_serializers",
            "model_serializers",
            "model_validators",
            "computed_fields",
        )
    ):
        return None
    if model.__private_attributes__ or model.__pydantic_post_init__ is not None:
        return None
    fields = []
    for name, info in model.model_fields.items():
        alias = info.alias or name
        if (
            info.annotation not in _FLAT_KINDS
            or not info.is_required()
            or info.metadata
            or (info.validation_alias is not None and info.validation_alias != alias)
        ):
            return None
        fields.append((alias, name, _FLAT_KINDS[info.annotation]))
    return fields or None


def _flat_models() -> list[tuple[str, type[BaseModel], list[tuple[str, str, str]]]]:
    """The notifications whose models :func:`_flat_fields` accepts."""
    flat = []
    for method, model in NOTIFICATION_MODELS.items():
        fields = _flat_fields(model)
        if fields is not None:
            flat.append((method, model, fields))
    return flat


#: What the native streams make their events with.
DECODER = NotificationDecoder(Notification, decode_notification, _flat_models())


class _TurnSubscription:
    """One consumer of a native stream (a turn's, or the global one). A native batch makes
    each of its events a :class:`Notification` when iteration reaches it, so a consumer holds
    the one event it is looking at, not a decoded batch."""

    __slots__ = ("_stream", "_batch", "_ended", "__weakref__")

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        #: The native batch being consumed (what is left of it), or ``None``.
        self._batch: Iterator[Notification] | None = None
        self._ended = False

    @property
    def turn_id(self) -> str | None:
        return self._stream.turn_id

    def _ended_error(self) -> TransportClosedError:
        return TransportClosedError("Turn is no longer streaming")

    def _next_of_batch(self) -> Notification | None:
        """The next event of the batch being consumed, ``None`` when it has no more; raises
        ``TransportClosedError`` once the stream has ended."""
        batch = self._batch
        if batch is not None:
            event = next(batch, None)
            if event is not None:
                return event
            self._batch = None
        if self._ended:
            raise self._ended_error()
        return None

    def _consume(self, batch: Iterator[Notification] | None) -> None:
        """Takes a native batch (``None``: the stream ended, which raises)."""
        if batch is None:
            self._ended = True
            raise self._ended_error()
        self._batch = batch

    def next(self) -> Notification:
        """The next event; blocks with the GIL released. Raises ``TransportClosedError`` once
        the stream has ended (after a turn's ``turn/completed``) or the connection closed."""
        while (event := self._next_of_batch()) is None:
            self._consume(self._stream.next_batch(DECODER, BATCH))
        return event

    async def anext(self) -> Notification:
        """:meth:`next` for asyncio."""
        while (event := self._next_of_batch()) is None:
            self._consume(await self._stream.next_batch_async(DECODER, BATCH))
        return event

    def next_batch(self) -> Iterator[Notification] | None:
        """What is left of the batch being consumed or, when nothing is, the next native
        batch (an iterator of events); ``None`` at the end."""
        batch, self._batch = self._batch, None
        if batch is not None and len(batch):
            return batch
        if self._ended:
            return None
        batch = self._stream.next_batch(DECODER, BATCH)
        if batch is None:
            self._ended = True
        return batch

    async def next_batch_async(self) -> Iterator[Notification] | None:
        """:meth:`next_batch` for asyncio."""
        batch, self._batch = self._batch, None
        if batch is not None and len(batch):
            return batch
        if self._ended:
            return None
        batch = await self._stream.next_batch_async(DECODER, BATCH)
        if batch is None:
            self._ended = True
        return batch

    def close(self) -> None:
        """Stops consuming: the core frees this subscriber's queue. Idempotent."""
        self._ended = True
        self._batch = None
        self._stream.close()
