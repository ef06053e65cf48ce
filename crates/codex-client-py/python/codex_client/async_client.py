"""``AsyncCodexClient``: the asyncio twin of :class:`~codex_client.client.CodexClient`, with
the same methods as coroutines — native asyncio all the way down (the Rust core's futures are
awaited on the event loop; no call occupies an executor thread while it waits, and cancelling a
task cancels its request or stream wait without losing events).

Each typed call is written once, in ``CodexClient``: here a planner runs it to get the method,
params and response model, and the request is awaited."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, AsyncIterator, TypeVar

from pydantic import BaseModel

from ._routing import _TurnSubscription
from .client import (
    ApprovalHandler,
    CodexClient,
    CodexConfig,
    _normalize_input_items,
    _params_dict,
)
from .errors import JsonRpcError, TransportClosedError
from .generated.v2_all import (
    AccountLoginCompletedNotification,
    AgentMessageDeltaNotification,
    ChatgptDeviceCodeLoginAccountResponse,
    ChatgptLoginAccountResponse,
    LoginAccountResponse,
    TurnCompletedNotification,
    TurnStartResponse,
)
from .models import InitializeResponse, JsonObject, Notification
from .retry import async_retry_on_overload

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(slots=True)
class _Planned:
    method: str
    params: JsonObject | None
    response_model: type[BaseModel]


class _Planner(CodexClient):
    """A ``CodexClient`` whose ``request`` returns what it would send."""

    def request(self, method, params, *, response_model, timeout_s=None):  # type: ignore[override]
        return _Planned(method, params, response_model)


def _planned(name: str):
    """An async method that plans the ``CodexClient`` method ``name`` and awaits it."""

    async def call(self: "AsyncCodexClient", *args: Any, **kwargs: Any) -> Any:
        plan: _Planned = getattr(self._planner, name)(*args, **kwargs)
        return await self.request(plan.method, plan.params, response_model=plan.response_model)

    call.__name__ = name
    call.__doc__ = getattr(CodexClient, name).__doc__
    return call


class AsyncCodexClient:
    """Asyncio typed JSON-RPC client for ``codex app-server`` (over the Rust core)."""

    def __init__(
        self,
        config: CodexConfig | None = None,
        approval_handler: ApprovalHandler | None = None,
    ) -> None:
        self._sync = CodexClient(config=config, approval_handler=approval_handler)
        self._planner = _Planner(config=self._sync.config)
        self._start_lock = asyncio.Lock()

    @property
    def config(self) -> CodexConfig:
        return self._sync.config

    async def __aenter__(self) -> "AsyncCodexClient":
        await self.start()
        return self

    async def __aexit__(self, _exc_type, _exc, _tb) -> None:
        await self.close()

    async def start(self) -> None:
        """Starts the app-server and does the handshake (once)."""
        async with self._start_lock:
            if self._sync._native is None:
                await asyncio.to_thread(self._sync.start)

    async def close(self) -> None:
        await asyncio.to_thread(self._sync.close)

    async def initialize(self) -> InitializeResponse:
        return self._sync.initialize()

    def _native(self) -> Any:
        return self._sync._require()

    def stderr_tail(self) -> str:
        return self._sync.stderr_tail()

    # -- requests

    async def request(
        self,
        method: str,
        params: JsonObject | None,
        *,
        response_model: type[ModelT],
        timeout_s: float | None = None,
    ) -> ModelT:
        body = None if params is None else json.dumps(params)
        text = await self._native().request_async(method, body, timeout_s)
        return response_model.model_validate_json(text)

    async def request_with_retry_on_overload(
        self,
        method: str,
        params: JsonObject | None,
        *,
        response_model: type[ModelT],
        max_attempts: int = 3,
        initial_delay_s: float = 0.25,
        max_delay_s: float = 2.0,
    ) -> ModelT:
        return await async_retry_on_overload(
            lambda: self.request(method, params, response_model=response_model),
            max_attempts=max_attempts,
            initial_delay_s=initial_delay_s,
            max_delay_s=max_delay_s,
        )

    def notify(self, method: str, params: JsonObject | None = None) -> None:
        self._sync.notify(method, params)

    # -- typed calls (planned by CodexClient)

    account_login_cancel = _planned("account_login_cancel")
    account_read = _planned("account_read")
    account_logout = _planned("account_logout")
    thread_start = _planned("thread_start")
    thread_resume = _planned("thread_resume")
    thread_list = _planned("thread_list")
    thread_read = _planned("thread_read")
    thread_fork = _planned("thread_fork")
    thread_archive = _planned("thread_archive")
    thread_unarchive = _planned("thread_unarchive")
    thread_set_name = _planned("thread_set_name")
    thread_compact = _planned("thread_compact")
    thread_goal_clear = _planned("thread_goal_clear")
    thread_goal_set = _planned("thread_goal_set")
    turn_interrupt = _planned("turn_interrupt")
    turn_steer = _planned("turn_steer")
    model_list = _planned("model_list")

    async def account_login_start(self, params: BaseModel | JsonObject) -> LoginAccountResponse:
        pending = _TurnSubscription(self._native().notifications())
        try:
            response = await self.request(
                "account/login/start", _params_dict(params), response_model=LoginAccountResponse
            )
        except BaseException:
            pending.close()
            raise
        root = response.root
        if isinstance(root, ChatgptLoginAccountResponse | ChatgptDeviceCodeLoginAccountResponse):
            self._sync._logins[root.login_id] = pending
        else:
            pending.close()
            self._sync._login_checked = True
        return response

    async def _ensure_logged_in(self) -> None:
        """:meth:`CodexClient._ensure_logged_in` for asyncio."""
        if self._sync._login_checked:
            return
        try:
            answer = await self.account_read({"refreshToken": False})
        except JsonRpcError:
            self._sync._login_checked = True
            return
        self._sync._login_verdict(answer)

    # -- notifications

    def _subscribe_turn_notifications(self, turn_id: str) -> _TurnSubscription:
        return self._sync._subscribe_turn_notifications(turn_id)

    def register_turn_notifications(self, turn_id: str) -> None:
        self._sync.register_turn_notifications(turn_id)

    def unregister_turn_notifications(self, turn_id: str) -> None:
        self._sync.unregister_turn_notifications(turn_id)

    def register_login_notifications(self, login_id: str) -> None:
        self._sync.register_login_notifications(login_id)

    def unregister_login_notifications(self, login_id: str) -> None:
        self._sync.unregister_login_notifications(login_id)

    async def next_notification(self) -> Notification:
        if self._sync._global is None:
            raise TransportClosedError("Codex process is not running")
        return await self._sync._global.anext()

    async def next_turn_notification(self, turn_id: str) -> Notification:
        self._sync.register_turn_notifications(turn_id)
        return await self._sync._turns[turn_id].anext()

    async def next_login_notification(self, login_id: str) -> Notification:
        self._sync.register_login_notifications(login_id)
        return await self._sync._logins[login_id].anext()

    async def wait_for_login_completed(self, login_id: str) -> AccountLoginCompletedNotification:
        self.register_login_notifications(login_id)
        try:
            while True:
                n = await self.next_login_notification(login_id)
                if (
                    isinstance(n.payload, AccountLoginCompletedNotification)
                    and n.payload.login_id == login_id
                ):
                    return n.payload
        finally:
            self.unregister_login_notifications(login_id)

    async def wait_for_turn_completed(self, turn_id: str) -> TurnCompletedNotification:
        self.register_turn_notifications(turn_id)
        try:
            while True:
                n = await self.next_turn_notification(turn_id)
                if isinstance(n.payload, TurnCompletedNotification) and n.payload.turn.id == turn_id:
                    return n.payload
        finally:
            self.unregister_turn_notifications(turn_id)

    # -- turns

    async def turn_start(
        self,
        thread_id: str,
        input_items: list[JsonObject] | JsonObject | str,
        params: BaseModel | JsonObject | None = None,
    ) -> TurnStartResponse:
        started, sub = await self._start_turn(thread_id, input_items, params, for_handle=False)
        self._sync._turns.setdefault(started.turn.id, sub)
        return started

    async def _start_turn(
        self,
        thread_id: str,
        input_items: list[JsonObject] | JsonObject | str,
        params: BaseModel | JsonObject | None,
        for_handle: bool = True,
    ) -> tuple[TurnStartResponse, _TurnSubscription]:
        payload = {
            **(_params_dict(params) or {}),
            "threadId": thread_id,
            "input": _normalize_input_items(input_items),
        }
        text, stream = await self._native().request_turn_async("turn/start", json.dumps(payload), None)
        return TurnStartResponse.model_validate_json(text), _TurnSubscription(stream)

    async def stream_text(
        self,
        thread_id: str,
        text: str,
        params: BaseModel | JsonObject | None = None,
    ) -> AsyncIterator[AgentMessageDeltaNotification]:
        started, sub = await self._start_turn(thread_id, text, params, for_handle=False)
        turn_id = started.turn.id
        try:
            while True:
                n = await sub.anext()
                payload = n.payload
                if isinstance(payload, AgentMessageDeltaNotification) and payload.turn_id == turn_id:
                    yield payload
                elif isinstance(payload, TurnCompletedNotification) and payload.turn.id == turn_id:
                    break
        finally:
            sub.close()
