"""The connection layer: :class:`CodexConfig`, finding the runtime (:func:`resolve_codex_bin`),
and :class:`CodexClient`, the synchronous typed JSON-RPC client the high-level API stands on —
the names and methods of ``openai_codex.client``, over ``codex_client._native`` (the Rust core).

What the core gives that the official client does not: every request has a timeout
(``request_timeout_s``, 120 s by default); queues are bounded (a consumer that falls behind gets
a :class:`~codex_client.models.LaggedNotification`, never unbounded memory); server requests
(approvals, user input) that reach the client with no handler get a refusal, never an accept;
a dead app-server fails every waiter with ``TransportClosedError`` carrying its stderr tail.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from pydantic import BaseModel

from . import _native
from ._routing import _TurnSubscription
from ._version import __version__ as SDK_VERSION
from .errors import CodexError, JsonRpcError, NotLoggedInError, TransportClosedError
from .generated.v2_all import (
    AccountLoginCompletedNotification,
    AgentMessageDeltaNotification,
    CancelLoginAccountResponse,
    ChatgptDeviceCodeLoginAccountResponse,
    ChatgptLoginAccountResponse,
    GetAccountResponse,
    LoginAccountResponse,
    LogoutAccountResponse,
    ModelListResponse,
    ThreadArchiveResponse,
    ThreadCompactStartResponse,
    ThreadForkResponse,
    ThreadGoalClearResponse,
    ThreadGoalSetResponse,
    ThreadListResponse,
    ThreadReadResponse,
    ThreadResumeResponse,
    ThreadSetNameResponse,
    ThreadStartResponse,
    ThreadUnarchiveResponse,
    TurnCompletedNotification,
    TurnInterruptResponse,
    TurnStartResponse,
    TurnSteerResponse,
)
from .models import InitializeResponse, JsonObject, JsonValue, Notification, ServerInfo
from .retry import retry_on_overload

ModelT = TypeVar("ModelT", bound=BaseModel)

#: ``(method, params) -> answer``: answers a server request (approval, user input, ...);
#: returning ``None`` sends the request's refusal.
ApprovalHandler = Callable[[str, JsonObject | None], JsonObject | None]

RUNTIME_PKG_NAME = "openai-codex-cli-bin"


# --- finding the runtime ---------------------------------------------------------------------


def _installed_codex_path() -> Path:
    try:
        from codex_cli_bin import bundled_codex_path
    except ImportError as exc:
        raise FileNotFoundError(
            f"Unable to locate the pinned Codex runtime: install {RUNTIME_PKG_NAME}=="
            f"{SDK_VERSION} (a dependency of codex-client) or set CodexConfig.codex_bin."
        ) from exc
    return bundled_codex_path()


def _installed_codex_path_dirs() -> tuple[Path, ...]:
    try:
        from codex_cli_bin import bundled_path_dir
    except (ImportError, AttributeError):
        return ()
    path_dir = bundled_path_dir()
    return (path_dir,) if path_dir is not None else ()


def _prepend_path_dirs(env: dict[str, str], path_dirs: tuple[Path, ...]) -> None:
    if not path_dirs:
        return
    firsts = [str(p) for p in path_dirs]
    rest = [e for e in env.get("PATH", "").split(os.pathsep) if e and e not in firsts]
    env["PATH"] = os.pathsep.join([*firsts, *rest])


@dataclass(frozen=True)
class CodexBinResolverOps:
    """What :func:`resolve_codex_bin` looks at (replaceable in tests)."""

    installed_codex_path: Callable[[], Path]
    path_exists: Callable[[Path], bool]


def _default_codex_bin_resolver_ops() -> CodexBinResolverOps:
    return CodexBinResolverOps(
        installed_codex_path=_installed_codex_path, path_exists=lambda p: p.exists()
    )


def resolve_codex_bin(config: "CodexConfig", ops: CodexBinResolverOps) -> Path:
    """The binary to run: ``config.codex_bin`` (which must exist), else the installed runtime
    package's."""
    if config.codex_bin is not None:
        codex_bin = Path(config.codex_bin)
        if not ops.path_exists(codex_bin):
            raise FileNotFoundError(
                f"Codex binary not found at {codex_bin}. Set CodexConfig.codex_bin "
                "to a valid binary path."
            )
        return codex_bin
    return ops.installed_codex_path()


def default_codex_home() -> str:
    return str(Path.home() / ".codex")


# --- configuration ---------------------------------------------------------------------------


@dataclass(slots=True)
class CodexConfig:
    """How to launch (or reach) the app-server and identify this client.

    The fields of ``openai_codex.CodexConfig``, with the same defaults, and this SDK's:

    * ``request_timeout_s``: how long a request may wait for its answer (120 s; the official
      SDK waits forever); ``initialize_timeout_s``: the handshake's bound (30 s);
    * ``approval_handler``: ``(method, params) -> answer | None`` for the server's requests
      (approvals, user input, elicitations). Without one, each gets its refusal — this SDK
      fails closed. ``codex_client.accept_approvals`` restores the official SDK's behaviour
      (accept command and file-change approvals) as an explicit choice;
    * ``server_request_timeout_s``: how long the handler may take before the refusal is sent;
    * ``url`` / ``bearer_token``: connect to a running app-server (``ws://``, ``unix://``)
      instead of spawning one;
    * ``login_check``: before the first thread call, one ``account/read``: no account where the
      model provider needs OpenAI auth raises :class:`~codex_client.errors.NotLoggedInError`
      (instead of a turn that waits on a model it cannot reach).
    """

    codex_bin: str | None = None
    launch_args_override: tuple[str, ...] | None = None
    config_overrides: tuple[str, ...] = ()
    cwd: str | None = None
    env: dict[str, str] | None = None
    client_name: str = "codex_python_sdk"
    client_title: str = "Codex Python SDK"
    client_version: str = SDK_VERSION
    experimental_api: bool = True
    request_timeout_s: float | None = 120.0
    initialize_timeout_s: float | None = 30.0
    server_request_timeout_s: float | None = 600.0
    approval_handler: ApprovalHandler | None = None
    url: str | None = None
    bearer_token: str | None = None
    login_check: bool = True


def _params_dict(params: BaseModel | JsonObject | None) -> JsonObject | None:
    if params is None:
        return None
    if isinstance(params, BaseModel):
        dumped = params.model_dump(by_alias=True, exclude_none=True, mode="json")
        if not isinstance(dumped, dict):
            raise TypeError("Expected model_dump() to return dict")
        return dumped
    if isinstance(params, dict):
        return params
    raise TypeError(f"Expected generated params model or dict, got {type(params).__name__}")


def _split_user_agent(user_agent: str) -> tuple[str | None, str | None]:
    raw = user_agent.strip()
    if not raw:
        return None, None
    if "/" in raw:
        name, version = raw.split("/", 1)
        return (name or None), (version or None)
    parts = raw.split(maxsplit=1)
    return (parts[0], parts[1]) if len(parts) == 2 else (raw, None)


def _initialize_response(native: Any) -> InitializeResponse:
    info = native.server_info()
    if info is None:
        raise CodexError("the app-server did not complete the initialize handshake")
    user_agent, _codex_home, platform_family, platform_os = info
    name, version = _split_user_agent(user_agent or "")
    if not (user_agent or "").strip() or not name or not version:
        raise RuntimeError(
            "initialize response missing required metadata "
            f"(user_agent={user_agent!r}, server_name={name!r}, server_version={version!r})"
        )
    return InitializeResponse(
        serverInfo=ServerInfo(name=name.strip(), version=version.strip()),
        userAgent=user_agent,
        platformFamily=platform_family,
        platformOs=platform_os,
    )


def _handler_bridge(handler: ApprovalHandler) -> Callable[[str, str], str | None]:
    """The native handler's form of a Python one: JSON text in and out."""

    def answer(method: str, params_json: str) -> str | None:
        params = json.loads(params_json) if params_json else None
        result = handler(method, params if isinstance(params, dict) else None)
        return None if result is None else json.dumps(result)

    return answer


def accept_approvals(method: str, params: JsonObject | None) -> JsonObject | None:
    """The official SDK's default, as an explicit choice: accept every command-execution and
    file-change approval that reaches the client; refuse everything else (``None``).

    ``Codex(CodexConfig(approval_handler=accept_approvals))``."""
    if method in ("item/commandExecution/requestApproval", "item/fileChange/requestApproval"):
        return {"decision": "accept"}
    return None


class _Launch:
    """The command line and environment of a spawned app-server."""

    def __init__(self, config: CodexConfig) -> None:
        path_dirs: tuple[Path, ...] = ()
        if config.launch_args_override is not None:
            args = list(config.launch_args_override)
        else:
            codex_bin = resolve_codex_bin(config, _default_codex_bin_resolver_ops())
            if config.codex_bin is None:
                path_dirs = _installed_codex_path_dirs()
            args = [str(codex_bin)]
            for kv in config.config_overrides:
                args.extend(["--config", kv])
            args.extend(["app-server", "--listen", "stdio://"])
        env = os.environ.copy()
        if config.env:
            env.update(config.env)
        _prepend_path_dirs(env, path_dirs)
        self.program = args[0]
        self.args = args[1:]
        self.env = env


def _settings(config: CodexConfig, handler: ApprovalHandler | None) -> dict[str, Any]:
    return {
        "client_name": config.client_name,
        "client_title": config.client_title,
        "client_version": config.client_version,
        "experimental_api": config.experimental_api,
        "request_timeout_s": config.request_timeout_s,
        "initialize_timeout_s": config.initialize_timeout_s,
        "server_request_timeout_s": config.server_request_timeout_s,
        "handler": None if handler is None else _handler_bridge(handler),
    }


# --- the client ------------------------------------------------------------------------------


class CodexClient:
    """Synchronous typed JSON-RPC client for ``codex app-server`` (over the Rust core)."""

    def __init__(
        self,
        config: CodexConfig | None = None,
        approval_handler: ApprovalHandler | None = None,
    ) -> None:
        self.config = config or CodexConfig()
        self._approval_handler = approval_handler or self.config.approval_handler
        self._native: Any = None
        self._global: _TurnSubscription | None = None
        self._turns: dict[str, _TurnSubscription] = {}
        self._logins: dict[str, _TurnSubscription] = {}
        self._init: InitializeResponse | None = None
        self._login_checked = not self.config.login_check

    def __enter__(self) -> "CodexClient":
        self.start()
        return self

    def __exit__(self, _exc_type, _exc, _tb) -> None:
        self.close()

    # -- lifecycle

    def _connect(self) -> Any:
        """Spawns or connects, with the handshake (the core does ``initialize`` itself)."""
        settings = _settings(self.config, self._approval_handler)
        if self.config.url is not None:
            return _native.NativeClient.connect(self.config.url, settings, self.config.bearer_token)
        launch = _Launch(self.config)
        return _native.NativeClient.spawn(
            launch.program, launch.args, self.config.cwd, list(launch.env.items()), settings
        )

    def start(self) -> None:
        """Starts the app-server (and does the handshake). Idempotent."""
        if self._native is not None:
            return
        self._native = self._connect()
        self._global = _TurnSubscription(self._native.notifications())

    def initialize(self) -> InitializeResponse:
        """What ``initialize`` answered (the handshake is done by :meth:`start`)."""
        self._require()
        if self._init is None:
            self._init = _initialize_response(self._native)
        return self._init

    def close(self) -> None:
        """Closes the connection (stdin, then SIGTERM, then SIGKILL, bounded); every open
        request and stream ends with ``TransportClosedError``. Idempotent."""
        native, self._native = self._native, None
        self._init = None
        for sub in [*self._turns.values(), *self._logins.values()]:
            sub.close()
        self._turns.clear()
        self._logins.clear()
        if self._global is not None:
            self._global.close()
            self._global = None
        if native is not None:
            native.close()

    def _require(self) -> Any:
        native = self._native
        if native is None:
            raise TransportClosedError("Codex process is not running")
        return native

    def stderr_tail(self) -> str:
        """The last lines the app-server wrote to stderr."""
        return self._native.stderr_tail() if self._native is not None else ""

    # -- the login check

    def _login_verdict(self, answer: GetAccountResponse) -> None:
        """Raises when there is no account and the provider needs OpenAI auth; else marks the
        check passed (it runs until it passes once)."""
        if answer.account is None and answer.requires_openai_auth:
            info = self._native.server_info() if self._native is not None else None
            codex_home = info[1] if info else None
            raise NotLoggedInError(
                "not logged in: the model provider needs an OpenAI login and there is none"
                + (f" in CODEX_HOME={codex_home}" if codex_home else "")
                + ". Run `codex login`, or call codex.login_api_key(...) / login_chatgpt() first"
                " (CodexConfig(login_check=False) turns this check off).",
                codex_home=codex_home,
            )
        self._login_checked = True

    def _ensure_logged_in(self) -> None:
        if self._login_checked:
            return
        try:
            answer = self.account_read({"refreshToken": False})
        except JsonRpcError:
            # A server that cannot answer account/read is not checked (the turn will tell).
            self._login_checked = True
            return
        self._login_verdict(answer)

    # -- requests

    def request(
        self,
        method: str,
        params: JsonObject | None,
        *,
        response_model: type[ModelT],
        timeout_s: float | None = None,
    ) -> ModelT:
        """Sends ``method`` and validates the result into ``response_model``."""
        text = self._request_text(method, params, timeout_s)
        return response_model.model_validate_json(text)

    def _request_text(self, method: str, params: JsonObject | None, timeout_s: float | None) -> str:
        native = self._require()
        body = None if params is None else json.dumps(params)
        return native.request(method, body, timeout_s)

    def _request_raw(self, method: str, params: JsonObject | None = None) -> JsonValue:
        """Sends a request and returns its result as plain JSON values."""
        return json.loads(self._request_text(method, params, None))

    def notify(self, method: str, params: JsonObject | None = None) -> None:
        """Sends a JSON-RPC notification."""
        native = self._require()
        native.notify(method, None if params is None else json.dumps(params))

    def request_with_retry_on_overload(
        self,
        method: str,
        params: JsonObject | None,
        *,
        response_model: type[ModelT],
        max_attempts: int = 3,
        initial_delay_s: float = 0.25,
        max_delay_s: float = 2.0,
    ) -> ModelT:
        return retry_on_overload(
            lambda: self.request(method, params, response_model=response_model),
            max_attempts=max_attempts,
            initial_delay_s=initial_delay_s,
            max_delay_s=max_delay_s,
        )

    # -- notifications

    def next_notification(self) -> Notification:
        """The next notification that no turn stream takes."""
        if self._global is None:
            raise TransportClosedError("Codex process is not running")
        return self._global.next()

    def _subscribe_turn_notifications(self, turn_id: str) -> _TurnSubscription:
        return _TurnSubscription(self._require().subscribe_turn(turn_id))

    def register_turn_notifications(self, turn_id: str) -> None:
        """Starts a stream of one turn's notifications (replaying what it already sent)."""
        if turn_id not in self._turns:
            self._turns[turn_id] = self._subscribe_turn_notifications(turn_id)

    def unregister_turn_notifications(self, turn_id: str) -> None:
        sub = self._turns.pop(turn_id, None)
        if sub is not None:
            sub.close()

    def next_turn_notification(self, turn_id: str) -> Notification:
        """The next notification of a registered turn."""
        sub = self._turns.get(turn_id)
        if sub is None:
            self.register_turn_notifications(turn_id)
            sub = self._turns[turn_id]
        return sub.next()

    def register_login_notifications(self, login_id: str) -> None:
        if login_id not in self._logins:
            self._logins[login_id] = _TurnSubscription(self._require().notifications())

    def unregister_login_notifications(self, login_id: str) -> None:
        sub = self._logins.pop(login_id, None)
        if sub is not None:
            sub.close()

    def next_login_notification(self, login_id: str) -> Notification:
        """The next global notification seen since the login started (filter by login id)."""
        sub = self._logins.get(login_id)
        if sub is None:
            self.register_login_notifications(login_id)
            sub = self._logins[login_id]
        return sub.next()

    # -- account

    def account_login_start(self, params: BaseModel | JsonObject) -> LoginAccountResponse:
        # Subscribed before the request, so the completion cannot be missed.
        pending = _TurnSubscription(self._require().notifications())
        try:
            response = self.request(
                "account/login/start", _params_dict(params), response_model=LoginAccountResponse
            )
        except BaseException:
            pending.close()
            raise
        root = response.root
        if isinstance(root, ChatgptLoginAccountResponse | ChatgptDeviceCodeLoginAccountResponse):
            self._logins[root.login_id] = pending
        else:
            pending.close()
            # An API key or tokens: logged in now; a later check would only ask again.
            self._login_checked = True
        return response

    def account_login_cancel(self, login_id: str) -> CancelLoginAccountResponse:
        return self.request(
            "account/login/cancel", {"loginId": login_id}, response_model=CancelLoginAccountResponse
        )

    def account_read(self, params: BaseModel | JsonObject | None = None) -> GetAccountResponse:
        return self.request("account/read", _params_dict(params), response_model=GetAccountResponse)

    def account_logout(self) -> LogoutAccountResponse:
        return self.request("account/logout", None, response_model=LogoutAccountResponse)

    def wait_for_login_completed(self, login_id: str) -> AccountLoginCompletedNotification:
        """Blocks until the login attempt ``login_id`` completes."""
        self.register_login_notifications(login_id)
        try:
            while True:
                n = self.next_login_notification(login_id)
                if (
                    isinstance(n.payload, AccountLoginCompletedNotification)
                    and n.payload.login_id == login_id
                ):
                    return n.payload
        finally:
            self.unregister_login_notifications(login_id)

    # -- threads

    def thread_start(self, params: BaseModel | JsonObject | None = None) -> ThreadStartResponse:
        return self.request("thread/start", _params_dict(params) or {}, response_model=ThreadStartResponse)

    def thread_resume(
        self, thread_id: str, params: BaseModel | JsonObject | None = None
    ) -> ThreadResumeResponse:
        payload = {**(_params_dict(params) or {}), "threadId": thread_id}
        return self.request("thread/resume", payload, response_model=ThreadResumeResponse)

    def thread_list(self, params: BaseModel | JsonObject | None = None) -> ThreadListResponse:
        return self.request("thread/list", _params_dict(params) or {}, response_model=ThreadListResponse)

    def thread_read(self, thread_id: str, include_turns: bool = False) -> ThreadReadResponse:
        return self.request(
            "thread/read",
            {"threadId": thread_id, "includeTurns": include_turns},
            response_model=ThreadReadResponse,
        )

    def thread_fork(
        self, thread_id: str, params: BaseModel | JsonObject | None = None
    ) -> ThreadForkResponse:
        payload = {**(_params_dict(params) or {}), "threadId": thread_id}
        return self.request("thread/fork", payload, response_model=ThreadForkResponse)

    def thread_archive(self, thread_id: str) -> ThreadArchiveResponse:
        return self.request("thread/archive", {"threadId": thread_id}, response_model=ThreadArchiveResponse)

    def thread_unarchive(self, thread_id: str) -> ThreadUnarchiveResponse:
        return self.request(
            "thread/unarchive", {"threadId": thread_id}, response_model=ThreadUnarchiveResponse
        )

    def thread_set_name(self, thread_id: str, name: str) -> ThreadSetNameResponse:
        return self.request(
            "thread/name/set", {"threadId": thread_id, "name": name}, response_model=ThreadSetNameResponse
        )

    def thread_compact(self, thread_id: str) -> ThreadCompactStartResponse:
        return self.request(
            "thread/compact/start", {"threadId": thread_id}, response_model=ThreadCompactStartResponse
        )

    def thread_goal_clear(self, thread_id: str) -> ThreadGoalClearResponse:
        return self.request(
            "thread/goal/clear", {"threadId": thread_id}, response_model=ThreadGoalClearResponse
        )

    def thread_goal_set(
        self,
        thread_id: str,
        *,
        objective: str | None = None,
        status: Any = None,
        token_budget: int | None = None,
    ) -> ThreadGoalSetResponse:
        payload: JsonObject = {"threadId": thread_id}
        if objective is not None:
            payload["objective"] = objective
        if status is not None:
            payload["status"] = getattr(status, "value", status)
        if token_budget is not None:
            payload["tokenBudget"] = token_budget
        return self.request("thread/goal/set", payload, response_model=ThreadGoalSetResponse)

    # -- turns

    def turn_start(
        self,
        thread_id: str,
        input_items: list[JsonObject] | JsonObject | str,
        params: BaseModel | JsonObject | None = None,
    ) -> TurnStartResponse:
        """Starts a turn; its notifications are routed from the start (see
        :meth:`next_turn_notification`)."""
        started, subscription = self._start_turn(thread_id, input_items, params, for_handle=False)
        self._turns.setdefault(started.turn.id, subscription)
        return started

    def _start_turn(
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
        text, stream = self._require().request_turn("turn/start", json.dumps(payload), None)
        return TurnStartResponse.model_validate_json(text), _TurnSubscription(stream)

    def turn_interrupt(self, thread_id: str, turn_id: str) -> TurnInterruptResponse:
        return self.request(
            "turn/interrupt",
            {"threadId": thread_id, "turnId": turn_id},
            response_model=TurnInterruptResponse,
        )

    def turn_steer(
        self,
        thread_id: str,
        expected_turn_id: str,
        input_items: list[JsonObject] | JsonObject | str,
    ) -> TurnSteerResponse:
        return self.request(
            "turn/steer",
            {
                "threadId": thread_id,
                "expectedTurnId": expected_turn_id,
                "input": _normalize_input_items(input_items),
            },
            response_model=TurnSteerResponse,
        )

    def model_list(self, include_hidden: bool = False) -> ModelListResponse:
        return self.request(
            "model/list", {"includeHidden": include_hidden}, response_model=ModelListResponse
        )

    def wait_for_turn_completed(self, turn_id: str) -> TurnCompletedNotification:
        """Blocks until the turn's ``turn/completed`` (replayed if it already came)."""
        self.register_turn_notifications(turn_id)
        try:
            while True:
                n = self.next_turn_notification(turn_id)
                if isinstance(n.payload, TurnCompletedNotification) and n.payload.turn.id == turn_id:
                    return n.payload
        finally:
            self.unregister_turn_notifications(turn_id)

    def stream_text(
        self,
        thread_id: str,
        text: str,
        params: BaseModel | JsonObject | None = None,
    ) -> Iterator[AgentMessageDeltaNotification]:
        """Starts a text turn and yields its agent-message deltas."""
        started, sub = self._start_turn(thread_id, text, params, for_handle=False)
        turn_id = started.turn.id
        try:
            while True:
                n = sub.next()
                payload = n.payload
                if isinstance(payload, AgentMessageDeltaNotification) and payload.turn_id == turn_id:
                    yield payload
                elif isinstance(payload, TurnCompletedNotification) and payload.turn.id == turn_id:
                    break
        finally:
            sub.close()


def _normalize_input_items(input_items: list[JsonObject] | JsonObject | str) -> list[JsonObject]:
    if isinstance(input_items, str):
        return [{"type": "text", "text": input_items}]
    if isinstance(input_items, dict):
        return [input_items]
    return input_items
