"""Retrying a call while the server says it is overloaded: :func:`retry_on_overload` (the
official SDK's, same parameters) and :func:`async_retry_on_overload`, its asyncio twin (which
the official SDK lacks). Exhausting the attempts raises the last error with the number of
attempts in a note (``exc.__notes__``)."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Awaitable, Callable, TypeVar

from .errors import is_retryable_error

T = TypeVar("T")


def _check(max_attempts: int) -> None:
    if max_attempts < 1:
        raise ValueError("max_attempts must be >= 1")


def _pause(delay: float, max_delay_s: float, jitter_ratio: float) -> float:
    jitter = delay * jitter_ratio
    return max(0.0, min(max_delay_s, delay) + random.uniform(-jitter, jitter))


def _give_up(exc: BaseException, attempt: int) -> None:
    exc.add_note(f"codex_client: gave up after {attempt} attempt(s)")


def retry_on_overload(
    op: Callable[[], T],
    *,
    max_attempts: int = 3,
    initial_delay_s: float = 0.25,
    max_delay_s: float = 2.0,
    jitter_ratio: float = 0.2,
) -> T:
    """Calls ``op`` until it succeeds, retrying only overload errors
    (:func:`~codex_client.errors.is_retryable_error`) with exponential backoff: ``initial_delay_s``,
    doubling, capped at ``max_delay_s``, ± ``jitter_ratio``."""
    _check(max_attempts)
    delay = initial_delay_s
    attempt = 0
    while True:
        attempt += 1
        try:
            return op()
        except Exception as exc:
            if attempt >= max_attempts or not is_retryable_error(exc):
                if is_retryable_error(exc):
                    _give_up(exc, attempt)
                raise
            time.sleep(_pause(delay, max_delay_s, jitter_ratio))
            delay = min(max_delay_s, delay * 2)


async def async_retry_on_overload(
    op: Callable[[], Awaitable[T]],
    *,
    max_attempts: int = 3,
    initial_delay_s: float = 0.25,
    max_delay_s: float = 2.0,
    jitter_ratio: float = 0.2,
) -> T:
    """:func:`retry_on_overload` for a coroutine function."""
    _check(max_attempts)
    delay = initial_delay_s
    attempt = 0
    while True:
        attempt += 1
        try:
            return await op()
        except Exception as exc:
            if attempt >= max_attempts or not is_retryable_error(exc):
                if is_retryable_error(exc):
                    _give_up(exc, attempt)
                raise
            await asyncio.sleep(_pause(delay, max_delay_s, jitter_ratio))
            delay = min(max_delay_s, delay * 2)
