"""The high-level API — ``Codex`` / ``AsyncCodex``, threads, turn handles — with the names,
signatures and behaviour of ``openai_codex.api``, over :class:`~codex_client.client.CodexClient`.

Differences that are this SDK's on purpose (the migration guide has them all): a failed turn
raises :class:`~codex_client.errors.TurnFailedError` (a ``RuntimeError``, so ``except
RuntimeError`` still works); Ctrl-C or cancelling the task while ``run()`` waits interrupts the
turn on the server before the exception propagates; a consumer that falls behind sees a
``codex_client/lagged`` notification instead of unbounded memory.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Iterator

from ._approval_mode import (
    ApprovalMode as ApprovalMode,
    _approval_mode_override_settings,
    _approval_mode_settings,
)
from ._inputs import (
    ExternalMessage as ExternalMessage,
    ImageInput as ImageInput,
    Input as Input,
    InputItem as InputItem,
    LocalImageInput as LocalImageInput,
    MentionInput as MentionInput,
    RunInput as RunInput,
    SkillInput as SkillInput,
    TextInput as TextInput,
    _normalize_run_input,
    _to_wire_input,
    _to_wire_turn_input,
)
from ._login import (
    AsyncChatgptLoginHandle,
    AsyncDeviceCodeLoginHandle,
    ChatgptLoginHandle,
    DeviceCodeLoginHandle,
    async_start_chatgpt_login,
    async_start_device_code_login,
    start_chatgpt_login,
    start_device_code_login,
)
from ._routing import _TurnSubscription
from ._run import TurnResult as TurnResult, _Collector
from ._sandbox import Sandbox as Sandbox, _sandbox_mode, _sandbox_policy
from .async_client import AsyncCodexClient
from .client import CodexClient, CodexConfig
from .generated.v2_all import (
    ApiKeyLoginAccountParams,
    GetAccountParams,
    GetAccountResponse,
    LoginAccountParams,
    ModelListResponse,
    Personality,
    ReasoningEffort,
    ReasoningSummary,
    SortDirection,
    ThreadArchiveResponse,
    ThreadCompactStartResponse,
    ThreadForkParams,
    ThreadListCwdFilter,
    ThreadListParams,
    ThreadListResponse,
    ThreadReadResponse,
    ThreadResumeParams,
    ThreadSetNameResponse,
    ThreadSortKey,
    ThreadSource,
    ThreadSourceKind,
    ThreadStartParams,
    ThreadStartSource,
    TurnCompletedNotification,
    TurnInterruptResponse,
    TurnStartParams,
    TurnSteerResponse,
)
from .models import InitializeResponse, JsonObject, Notification

#: How long the interrupt sent on Ctrl-C / cancellation may take.
_INTERRUPT_TIMEOUT_S = 5.0


# --- params, built once for both APIs --------------------------------------------------------


def _thread_start_params(approval_mode: ApprovalMode, sandbox, **fields: Any) -> ThreadStartParams:
    approval_policy, approvals_reviewer = _approval_mode_settings(approval_mode)
    return ThreadStartParams(
        approval_policy=approval_policy,
        approvals_reviewer=approvals_reviewer,
        sandbox=_sandbox_mode(sandbox),
        **fields,
    )


def _thread_resume_params(thread_id, approval_mode, sandbox, include_turns, **fields) -> ThreadResumeParams:
    approval_policy, approvals_reviewer = _approval_mode_override_settings(approval_mode)
    return ThreadResumeParams(
        thread_id=thread_id,
        approval_policy=approval_policy,
        approvals_reviewer=approvals_reviewer,
        exclude_turns=None if include_turns is None else not include_turns,
        sandbox=_sandbox_mode(sandbox),
        **fields,
    )


def _thread_fork_params(thread_id, approval_mode, sandbox, include_turns, **fields) -> ThreadForkParams:
    approval_policy, approvals_reviewer = _approval_mode_override_settings(approval_mode)
    return ThreadForkParams(
        thread_id=thread_id,
        approval_policy=approval_policy,
        approvals_reviewer=approvals_reviewer,
        exclude_turns=None if include_turns is None else not include_turns,
        sandbox=_sandbox_mode(sandbox),
        **fields,
    )


def _turn_start_params(
    thread_id: str,
    input: RunInput,
    *,
    approval_mode,
    sandbox,
    source,
    turn_service_tier,
    **fields: Any,
) -> tuple[list[JsonObject], TurnStartParams]:
    wire_input, tool_output = _to_wire_turn_input(input)
    approval_policy, approvals_reviewer = _approval_mode_override_settings(approval_mode)
    params = TurnStartParams(
        thread_id=thread_id,
        input=wire_input,
        tool_output=tool_output,
        approval_policy=approval_policy,
        approvals_reviewer=approvals_reviewer,
        sandbox_policy=_sandbox_policy(sandbox),
        turn_trigger=source,
        service_tier_for_turn=turn_service_tier,
        **fields,
    )
    return wire_input, params


def _login_api_key_params(api_key: str) -> LoginAccountParams:
    return LoginAccountParams(root=ApiKeyLoginAccountParams(api_key=api_key, type="apiKey"))


def _validated_metadata(payload: InitializeResponse) -> InitializeResponse:
    server = payload.serverInfo
    if not (payload.userAgent or "").strip() or server is None or not server.name or not server.version:
        raise RuntimeError(f"initialize response missing required metadata: {payload!r}")
    return payload


# --- Codex -----------------------------------------------------------------------------------


class Codex:
    """Synchronous client: starts the app-server and does the handshake on construction.
    Use it as a context manager so the process is closed promptly."""

    def __init__(self, config: CodexConfig | None = None) -> None:
        self._client = CodexClient(config=config)
        try:
            self._client.start()
            self._init = _validated_metadata(self._client.initialize())
        except BaseException:
            self._client.close()
            raise

    def __enter__(self) -> "Codex":
        return self

    def __exit__(self, _exc_type, _exc, _tb) -> None:
        self.close()

    @property
    def metadata(self) -> InitializeResponse:
        return self._init

    def close(self) -> None:
        self._client.close()

    def login_api_key(self, api_key: str) -> None:
        """Authenticates with an API key."""
        self._client.account_login_start(_login_api_key_params(api_key))

    def login_chatgpt(self) -> ChatgptLoginHandle:
        """Starts a browser ChatGPT login and returns its live handle."""
        return start_chatgpt_login(self._client)

    def login_chatgpt_device_code(self) -> DeviceCodeLoginHandle:
        """Starts a device-code ChatGPT login and returns its live handle."""
        return start_device_code_login(self._client)

    def account(self, *, refresh_token: bool = False) -> GetAccountResponse:
        """The current account."""
        return self._client.account_read(GetAccountParams(refresh_token=refresh_token))

    def logout(self) -> None:
        self._client.account_logout()

    def thread_start(
        self,
        *,
        approval_mode: ApprovalMode = ApprovalMode.auto_review,
        base_instructions: str | None = None,
        config: JsonObject | None = None,
        cwd: str | None = None,
        developer_instructions: str | None = None,
        ephemeral: bool | None = None,
        model: str | None = None,
        model_provider: str | None = None,
        personality: Personality | None = None,
        sandbox: Sandbox | None = None,
        service_name: str | None = None,
        service_tier: str | None = None,
        session_start_source: ThreadStartSource | None = None,
        thread_source: ThreadSource | None = None,
    ) -> "Thread":
        """Creates a thread."""
        params = _thread_start_params(
            approval_mode,
            sandbox,
            base_instructions=base_instructions,
            config=config,
            cwd=cwd,
            developer_instructions=developer_instructions,
            ephemeral=ephemeral,
            model=model,
            model_provider=model_provider,
            personality=personality,
            service_name=service_name,
            service_tier=service_tier,
            session_start_source=session_start_source,
            thread_source=thread_source,
        )
        self._client._ensure_logged_in()
        started = self._client.thread_start(params)
        return Thread(self._client, started.thread.id)

    def thread_list(
        self,
        *,
        archived: bool | None = None,
        cursor: str | None = None,
        cwd: ThreadListCwdFilter | None = None,
        limit: int | None = None,
        model_providers: list[str] | None = None,
        search_term: str | None = None,
        section_id: str | None = None,
        sort_direction: SortDirection | None = None,
        sort_key: ThreadSortKey | None = None,
        source_kinds: list[ThreadSourceKind] | None = None,
        use_state_db_only: bool | None = None,
    ) -> ThreadListResponse:
        """Lists stored threads."""
        params = ThreadListParams(
            archived=archived,
            cursor=cursor,
            cwd=cwd,
            limit=limit,
            model_providers=model_providers,
            search_term=search_term,
            section_id=section_id,
            sort_direction=sort_direction,
            sort_key=sort_key,
            source_kinds=source_kinds,
            use_state_db_only=use_state_db_only,
        )
        return self._client.thread_list(params)

    def thread_resume(
        self,
        thread_id: str,
        *,
        approval_mode: ApprovalMode | None = None,
        base_instructions: str | None = None,
        config: JsonObject | None = None,
        cwd: str | None = None,
        developer_instructions: str | None = None,
        include_turns: bool | None = None,
        model: str | None = None,
        model_provider: str | None = None,
        personality: Personality | None = None,
        sandbox: Sandbox | None = None,
        service_tier: str | None = None,
    ) -> "Thread":
        """Resumes a stored thread by id."""
        params = _thread_resume_params(
            thread_id,
            approval_mode,
            sandbox,
            include_turns,
            base_instructions=base_instructions,
            config=config,
            cwd=cwd,
            developer_instructions=developer_instructions,
            model=model,
            model_provider=model_provider,
            personality=personality,
            service_tier=service_tier,
        )
        self._client._ensure_logged_in()
        resumed = self._client.thread_resume(thread_id, params)
        return Thread(self._client, resumed.thread.id)

    def thread_fork(
        self,
        thread_id: str,
        *,
        approval_mode: ApprovalMode | None = None,
        base_instructions: str | None = None,
        config: JsonObject | None = None,
        cwd: str | None = None,
        developer_instructions: str | None = None,
        ephemeral: bool | None = None,
        include_turns: bool | None = None,
        model: str | None = None,
        model_provider: str | None = None,
        sandbox: Sandbox | None = None,
        service_tier: str | None = None,
        thread_source: ThreadSource | None = None,
    ) -> "Thread":
        """Creates a new thread from an existing one."""
        params = _thread_fork_params(
            thread_id,
            approval_mode,
            sandbox,
            include_turns,
            base_instructions=base_instructions,
            config=config,
            cwd=cwd,
            developer_instructions=developer_instructions,
            ephemeral=ephemeral,
            model=model,
            model_provider=model_provider,
            service_tier=service_tier,
            thread_source=thread_source,
        )
        self._client._ensure_logged_in()
        forked = self._client.thread_fork(thread_id, params)
        return Thread(self._client, forked.thread.id)

    def thread_archive(self, thread_id: str) -> ThreadArchiveResponse:
        return self._client.thread_archive(thread_id)

    def thread_unarchive(self, thread_id: str) -> "Thread":
        unarchived = self._client.thread_unarchive(thread_id)
        return Thread(self._client, unarchived.thread.id)

    def models(self, *, include_hidden: bool = False) -> ModelListResponse:
        """The models the server offers."""
        return self._client.model_list(include_hidden=include_hidden)


class AsyncCodex:
    """Asyncio mirror of :class:`Codex`; starts on ``async with`` or the first awaited call."""

    def __init__(self, config: CodexConfig | None = None) -> None:
        self._client = AsyncCodexClient(config=config)
        self._init: InitializeResponse | None = None
        self._initialized = False
        self._init_lock = asyncio.Lock()

    async def __aenter__(self) -> "AsyncCodex":
        await self._ensure_initialized()
        return self

    async def __aexit__(self, _exc_type, _exc, _tb) -> None:
        await self.close()

    async def _ensure_initialized(self) -> None:
        if self._initialized:
            return
        async with self._init_lock:
            if self._initialized:
                return
            try:
                await self._client.start()
                self._init = _validated_metadata(await self._client.initialize())
                self._initialized = True
            except BaseException:
                await self._client.close()
                self._init = None
                self._initialized = False
                raise

    @property
    def metadata(self) -> InitializeResponse:
        if self._init is None:
            raise RuntimeError(
                "AsyncCodex is not initialized yet. Prefer `async with AsyncCodex()`; "
                "initialization also happens on first awaited API use."
            )
        return self._init

    async def close(self) -> None:
        await self._client.close()
        self._init = None
        self._initialized = False

    async def login_api_key(self, api_key: str) -> None:
        await self._ensure_initialized()
        await self._client.account_login_start(_login_api_key_params(api_key))

    async def login_chatgpt(self) -> AsyncChatgptLoginHandle:
        return await async_start_chatgpt_login(self)

    async def login_chatgpt_device_code(self) -> AsyncDeviceCodeLoginHandle:
        return await async_start_device_code_login(self)

    async def account(self, *, refresh_token: bool = False) -> GetAccountResponse:
        await self._ensure_initialized()
        return await self._client.account_read(GetAccountParams(refresh_token=refresh_token))

    async def logout(self) -> None:
        await self._ensure_initialized()
        await self._client.account_logout()

    async def thread_start(
        self,
        *,
        approval_mode: ApprovalMode = ApprovalMode.auto_review,
        base_instructions: str | None = None,
        config: JsonObject | None = None,
        cwd: str | None = None,
        developer_instructions: str | None = None,
        ephemeral: bool | None = None,
        model: str | None = None,
        model_provider: str | None = None,
        personality: Personality | None = None,
        sandbox: Sandbox | None = None,
        service_name: str | None = None,
        service_tier: str | None = None,
        session_start_source: ThreadStartSource | None = None,
        thread_source: ThreadSource | None = None,
    ) -> "AsyncThread":
        await self._ensure_initialized()
        params = _thread_start_params(
            approval_mode,
            sandbox,
            base_instructions=base_instructions,
            config=config,
            cwd=cwd,
            developer_instructions=developer_instructions,
            ephemeral=ephemeral,
            model=model,
            model_provider=model_provider,
            personality=personality,
            service_name=service_name,
            service_tier=service_tier,
            session_start_source=session_start_source,
            thread_source=thread_source,
        )
        await self._client._ensure_logged_in()
        started = await self._client.thread_start(params)
        return AsyncThread(self, started.thread.id)

    async def thread_list(
        self,
        *,
        archived: bool | None = None,
        cursor: str | None = None,
        cwd: ThreadListCwdFilter | None = None,
        limit: int | None = None,
        model_providers: list[str] | None = None,
        search_term: str | None = None,
        section_id: str | None = None,
        sort_direction: SortDirection | None = None,
        sort_key: ThreadSortKey | None = None,
        source_kinds: list[ThreadSourceKind] | None = None,
        use_state_db_only: bool | None = None,
    ) -> ThreadListResponse:
        await self._ensure_initialized()
        params = ThreadListParams(
            archived=archived,
            cursor=cursor,
            cwd=cwd,
            limit=limit,
            model_providers=model_providers,
            search_term=search_term,
            section_id=section_id,
            sort_direction=sort_direction,
            sort_key=sort_key,
            source_kinds=source_kinds,
            use_state_db_only=use_state_db_only,
        )
        return await self._client.thread_list(params)

    async def thread_resume(
        self,
        thread_id: str,
        *,
        approval_mode: ApprovalMode | None = None,
        base_instructions: str | None = None,
        config: JsonObject | None = None,
        cwd: str | None = None,
        developer_instructions: str | None = None,
        include_turns: bool | None = None,
        model: str | None = None,
        model_provider: str | None = None,
        personality: Personality | None = None,
        sandbox: Sandbox | None = None,
        service_tier: str | None = None,
    ) -> "AsyncThread":
        await self._ensure_initialized()
        params = _thread_resume_params(
            thread_id,
            approval_mode,
            sandbox,
            include_turns,
            base_instructions=base_instructions,
            config=config,
            cwd=cwd,
            developer_instructions=developer_instructions,
            model=model,
            model_provider=model_provider,
            personality=personality,
            service_tier=service_tier,
        )
        await self._client._ensure_logged_in()
        resumed = await self._client.thread_resume(thread_id, params)
        return AsyncThread(self, resumed.thread.id)

    async def thread_fork(
        self,
        thread_id: str,
        *,
        approval_mode: ApprovalMode | None = None,
        base_instructions: str | None = None,
        config: JsonObject | None = None,
        cwd: str | None = None,
        developer_instructions: str | None = None,
        ephemeral: bool | None = None,
        include_turns: bool | None = None,
        model: str | None = None,
        model_provider: str | None = None,
        sandbox: Sandbox | None = None,
        service_tier: str | None = None,
        thread_source: ThreadSource | None = None,
    ) -> "AsyncThread":
        await self._ensure_initialized()
        params = _thread_fork_params(
            thread_id,
            approval_mode,
            sandbox,
            include_turns,
            base_instructions=base_instructions,
            config=config,
            cwd=cwd,
            developer_instructions=developer_instructions,
            ephemeral=ephemeral,
            model=model,
            model_provider=model_provider,
            service_tier=service_tier,
            thread_source=thread_source,
        )
        await self._client._ensure_logged_in()
        forked = await self._client.thread_fork(thread_id, params)
        return AsyncThread(self, forked.thread.id)

    async def thread_archive(self, thread_id: str) -> ThreadArchiveResponse:
        await self._ensure_initialized()
        return await self._client.thread_archive(thread_id)

    async def thread_unarchive(self, thread_id: str) -> "AsyncThread":
        await self._ensure_initialized()
        unarchived = await self._client.thread_unarchive(thread_id)
        return AsyncThread(self, unarchived.thread.id)

    async def models(self, *, include_hidden: bool = False) -> ModelListResponse:
        await self._ensure_initialized()
        return await self._client.model_list(include_hidden=include_hidden)


# --- threads ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Thread:
    """A thread: run turns on it, read it, rename it, compact it."""

    _client: CodexClient
    id: str

    def run(
        self,
        input: RunInput,
        *,
        approval_mode: ApprovalMode | None = None,
        cwd: str | None = None,
        effort: ReasoningEffort | None = None,
        model: str | None = None,
        output_schema: JsonObject | None = None,
        personality: Personality | None = None,
        sandbox: Sandbox | None = None,
        service_tier: str | None = None,
        source: str | None = None,
        summary: ReasoningSummary | None = None,
        turn_service_tier: str | None = None,
    ) -> TurnResult:
        """Runs a whole turn and returns its result (the same options as :meth:`turn`)."""
        return self.turn(
            input,
            approval_mode=approval_mode,
            cwd=cwd,
            effort=effort,
            model=model,
            output_schema=output_schema,
            personality=personality,
            sandbox=sandbox,
            service_tier=service_tier,
            source=source,
            summary=summary,
            turn_service_tier=turn_service_tier,
        ).run()

    def turn(
        self,
        input: RunInput,
        *,
        approval_mode: ApprovalMode | None = None,
        cwd: str | None = None,
        effort: ReasoningEffort | None = None,
        model: str | None = None,
        output_schema: JsonObject | None = None,
        personality: Personality | None = None,
        sandbox: Sandbox | None = None,
        service_tier: str | None = None,
        source: str | None = None,
        summary: ReasoningSummary | None = None,
        turn_service_tier: str | None = None,
    ) -> "TurnHandle":
        """Starts a turn (or joins the thread's active turn) and returns its handle; its
        events are routed to the handle from the start."""
        wire_input, params = _turn_start_params(
            self.id,
            input,
            approval_mode=approval_mode,
            sandbox=sandbox,
            source=source,
            turn_service_tier=turn_service_tier,
            cwd=cwd,
            effort=effort,
            model=model,
            output_schema=output_schema,
            personality=personality,
            service_tier=service_tier,
            summary=summary,
        )
        started, subscription = self._client._start_turn(self.id, wire_input, params, for_handle=True)
        return TurnHandle(self._client, self.id, started.turn.id, _subscription=subscription)

    def read(self, *, include_turns: bool = False) -> ThreadReadResponse:
        """Reads the thread (with its turns when asked)."""
        return self._client.thread_read(self.id, include_turns=include_turns)

    def set_name(self, name: str) -> ThreadSetNameResponse:
        return self._client.thread_set_name(self.id, name)

    def compact(self) -> ThreadCompactStartResponse:
        return self._client.thread_compact(self.id)


@dataclass(slots=True)
class AsyncThread:
    """:class:`Thread` for asyncio."""

    _codex: AsyncCodex
    id: str

    async def run(
        self,
        input: RunInput,
        *,
        approval_mode: ApprovalMode | None = None,
        cwd: str | None = None,
        effort: ReasoningEffort | None = None,
        model: str | None = None,
        output_schema: JsonObject | None = None,
        personality: Personality | None = None,
        sandbox: Sandbox | None = None,
        service_tier: str | None = None,
        source: str | None = None,
        summary: ReasoningSummary | None = None,
        turn_service_tier: str | None = None,
    ) -> TurnResult:
        turn = await self.turn(
            input,
            approval_mode=approval_mode,
            cwd=cwd,
            effort=effort,
            model=model,
            output_schema=output_schema,
            personality=personality,
            sandbox=sandbox,
            service_tier=service_tier,
            source=source,
            summary=summary,
            turn_service_tier=turn_service_tier,
        )
        return await turn.run()

    async def turn(
        self,
        input: RunInput,
        *,
        approval_mode: ApprovalMode | None = None,
        cwd: str | None = None,
        effort: ReasoningEffort | None = None,
        model: str | None = None,
        output_schema: JsonObject | None = None,
        personality: Personality | None = None,
        sandbox: Sandbox | None = None,
        service_tier: str | None = None,
        source: str | None = None,
        summary: ReasoningSummary | None = None,
        turn_service_tier: str | None = None,
    ) -> "AsyncTurnHandle":
        wire_input, params = _turn_start_params(
            self.id,
            input,
            approval_mode=approval_mode,
            sandbox=sandbox,
            source=source,
            turn_service_tier=turn_service_tier,
            cwd=cwd,
            effort=effort,
            model=model,
            output_schema=output_schema,
            personality=personality,
            service_tier=service_tier,
            summary=summary,
        )
        await self._codex._ensure_initialized()
        started, subscription = await self._codex._client._start_turn(
            self.id, wire_input, params, for_handle=True
        )
        return AsyncTurnHandle(self._codex, self.id, started.turn.id, _subscription=subscription)

    async def read(self, *, include_turns: bool = False) -> ThreadReadResponse:
        await self._codex._ensure_initialized()
        return await self._codex._client.thread_read(self.id, include_turns=include_turns)

    async def set_name(self, name: str) -> ThreadSetNameResponse:
        await self._codex._ensure_initialized()
        return await self._codex._client.thread_set_name(self.id, name)

    async def compact(self) -> ThreadCompactStartResponse:
        await self._codex._ensure_initialized()
        return await self._codex._client.thread_compact(self.id)


# --- turn handles ----------------------------------------------------------------------------


def _is_own_completion(event: Notification, turn_id: str) -> bool:
    return (
        event.method == "turn/completed"
        and isinstance(event.payload, TurnCompletedNotification)
        and event.payload.turn.id == turn_id
    )


@dataclass(slots=True)
class TurnHandle:
    """A started turn: consume it (:meth:`stream`, :meth:`run`), steer it, interrupt it."""

    _client: CodexClient
    thread_id: str
    id: str
    _subscription: _TurnSubscription = field(init=False, repr=False, compare=False)

    def __init__(self, _client: CodexClient, thread_id: str, id: str, *, _subscription=None) -> None:
        self._client, self.thread_id, self.id = _client, thread_id, id
        self._subscription = (
            _subscription if _subscription is not None else _client._subscribe_turn_notifications(id)
        )

    def steer(self, input: Input | str) -> TurnSteerResponse:
        """Adds input to this turn while it runs."""
        return self._client.turn_steer(
            self.thread_id, self.id, _to_wire_input(_normalize_run_input(input))
        )

    def interrupt(self) -> TurnInterruptResponse:
        """Asks the server to interrupt this turn (it then completes ``interrupted``)."""
        return self._client.turn_interrupt(self.thread_id, self.id)

    def _interrupt_quietly(self) -> None:
        try:
            self._client.request(
                "turn/interrupt",
                {"threadId": self.thread_id, "turnId": self.id},
                response_model=TurnInterruptResponse,
                timeout_s=_INTERRUPT_TIMEOUT_S,
            )
        except Exception:  # noqa: BLE001 - the turn may have ended, the connection closed
            pass

    def stream(self) -> Iterator[Notification]:
        """Yields this turn's notifications, ending after its ``turn/completed``. Ctrl-C while
        waiting interrupts the turn, then raises ``KeyboardInterrupt``."""
        subscription = self._subscription
        try:
            while True:
                batch = subscription.next_batch()
                if batch is None:
                    return
                for event in batch:
                    yield event
                    if event.method == "turn/completed" and _is_own_completion(event, self.id):
                        return
        except KeyboardInterrupt:
            self._interrupt_quietly()
            raise
        finally:
            subscription.close()

    def run(self) -> TurnResult:
        """Consumes the turn and returns its result; a failed turn raises
        :class:`~codex_client.errors.TurnFailedError`."""
        collector = _Collector(self.id)
        for event in self.stream():
            collector.take(event)
        return collector.result()


@dataclass(slots=True)
class AsyncTurnHandle:
    """:class:`TurnHandle` for asyncio. Cancelling the task that consumes it interrupts the
    turn (best effort, bounded) before ``CancelledError`` propagates."""

    _codex: AsyncCodex
    thread_id: str
    id: str
    _subscription: _TurnSubscription = field(init=False, repr=False, compare=False)

    def __init__(self, _codex: AsyncCodex, thread_id: str, id: str, *, _subscription=None) -> None:
        self._codex, self.thread_id, self.id = _codex, thread_id, id
        self._subscription = (
            _subscription
            if _subscription is not None
            else _codex._client._subscribe_turn_notifications(id)
        )

    async def steer(self, input: Input | str) -> TurnSteerResponse:
        await self._codex._ensure_initialized()
        return await self._codex._client.turn_steer(
            self.thread_id, self.id, _to_wire_input(_normalize_run_input(input))
        )

    async def interrupt(self) -> TurnInterruptResponse:
        await self._codex._ensure_initialized()
        return await self._codex._client.turn_interrupt(self.thread_id, self.id)

    async def _interrupt_quietly(self) -> None:
        try:
            await asyncio.shield(
                self._codex._client.request(
                    "turn/interrupt",
                    {"threadId": self.thread_id, "turnId": self.id},
                    response_model=TurnInterruptResponse,
                    timeout_s=_INTERRUPT_TIMEOUT_S,
                )
            )
        except BaseException:  # noqa: BLE001 - best effort while being cancelled
            pass

    async def stream(self) -> AsyncIterator[Notification]:
        """Yields this turn's notifications, ending after its ``turn/completed``."""
        await self._codex._ensure_initialized()
        subscription = self._subscription
        try:
            while True:
                batch = await subscription.next_batch_async()
                if batch is None:
                    return
                for event in batch:
                    yield event
                    if event.method == "turn/completed" and _is_own_completion(event, self.id):
                        return
        except asyncio.CancelledError:
            await self._interrupt_quietly()
            raise
        finally:
            subscription.close()

    async def run(self) -> TurnResult:
        collector = _Collector(self.id)
        stream = self.stream()
        try:
            async for event in stream:
                collector.take(event)
        finally:
            await stream.aclose()
        return collector.result()
