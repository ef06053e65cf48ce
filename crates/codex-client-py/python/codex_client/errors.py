"""The exceptions of codex_client: the ``openai_codex`` hierarchy, and what this SDK adds.

Every class of ``openai_codex.errors`` is here with the same name, base classes and the same
JSON-RPC code mapping (:func:`map_jsonrpc_error`), so ``except`` clauses written for the
official SDK keep working. Added, each also an instance of the built-in class a Python program
would catch:

* :class:`RequestTimeoutError` (also ``TimeoutError``): a request got no answer in time (the
  official SDK waits forever);
* :class:`TurnFailedError` (also ``RuntimeError``, what the official SDK raises for a failed
  turn): carries the turn's ``TurnError`` and the items collected before it failed;
* :class:`TransportOverloadedError`: the connection's write queue is full (the server is not
  reading), nothing was sent;
* :class:`NotLoggedInError`: the first thread call found no login where the model provider
  needs one (the official SDK starts the turn and waits).
"""

from __future__ import annotations

import json
from typing import Any


class CodexError(Exception):
    """Base exception for SDK errors."""


class JsonRpcError(CodexError):
    """A JSON-RPC error answered by the server (``code``, ``message``, ``data``)."""

    def __init__(self, code: int, message: str, data: Any = None):
        super().__init__(f"JSON-RPC error {code}: {message}")
        self.code = code
        self.message = message
        self.data = data


class TransportClosedError(CodexError):
    """The connection to the app-server closed (the process exited, the socket closed)."""


class RequestTimeoutError(CodexError, TimeoutError):
    """A request got no answer within its timeout (``CodexConfig.request_timeout_s``)."""


class TransportOverloadedError(CodexError):
    """The connection's write queue is full: the server is not reading; nothing was sent."""


class CodexRpcError(JsonRpcError):
    """Base typed error for JSON-RPC failures."""


class ParseError(CodexRpcError):
    """The server could not parse the request (-32700)."""


class InvalidRequestError(CodexRpcError):
    """The server rejected the request's shape (-32600)."""


class MethodNotFoundError(CodexRpcError):
    """The server does not have the method (-32601)."""


class InvalidParamsError(CodexRpcError):
    """The method's params were invalid (-32602)."""


class InternalRpcError(CodexRpcError):
    """The server reported an internal failure (-32603)."""


class ServerBusyError(CodexRpcError):
    """The server is overloaded; the call may be retried (see :func:`retry_on_overload`)."""


class RetryLimitExceededError(ServerBusyError):
    """The server exhausted its own retry budget for the operation."""


class NotLoggedInError(CodexError):
    """The configured model provider needs an OpenAI login and there is none: raised by the
    first ``thread_start`` / ``thread_resume`` / ``thread_fork`` instead of a turn that would
    wait on a model it cannot reach. Log in with ``codex login`` (the CLI) or
    ``codex.login_api_key(...)`` / ``login_chatgpt()`` first; ``CodexConfig(login_check=False)``
    turns the check off. ``codex_home`` is the server's ``CODEX_HOME``."""

    def __init__(self, message: str, *, codex_home: str | None = None):
        super().__init__(message)
        self.codex_home = codex_home


class TurnFailedError(CodexError, RuntimeError):
    """A turn ended ``failed``. ``str(exc)`` is the server's message (as the ``RuntimeError`` of
    the official SDK); ``turn`` is the completed ``Turn``, ``error`` its ``TurnError`` (or
    ``None``), ``items`` the items completed before it failed."""

    def __init__(self, message: str, *, turn: Any = None, error: Any = None, items: Any = None):
        super().__init__(message)
        self.turn = turn
        self.error = error
        self.items = list(items or [])


def _contains_retry_limit_text(message: str) -> bool:
    lowered = message.lower()
    return "retry limit" in lowered or "too many failed attempts" in lowered


_OVERLOAD_KEYS = ("codex_error_info", "codexErrorInfo", "errorInfo")


def _is_server_overloaded(data: Any) -> bool:
    """Whether ``data`` says ``server_overloaded`` where the protocol puts it: the value itself,
    or the error-info fields (``codexErrorInfo`` and its spellings), at any depth of them."""
    if data is None:
        return False
    if isinstance(data, str):
        return data.lower() == "server_overloaded"
    if isinstance(data, dict):
        for key in _OVERLOAD_KEYS:
            info = data.get(key)
            if isinstance(info, str) and info.lower() == "server_overloaded":
                return True
            if isinstance(info, dict) and any(
                isinstance(v, str) and v.lower() == "server_overloaded" for v in info.values()
            ):
                return True
        return any(_is_server_overloaded(v) for v in data.values())
    if isinstance(data, list):
        return any(_is_server_overloaded(v) for v in data)
    return False


def map_jsonrpc_error(code: int, message: str, data: Any = None) -> JsonRpcError:
    """The exception class for a JSON-RPC error, by code (and, in the server range, by data)."""
    if code == -32700:
        return ParseError(code, message, data)
    if code == -32600:
        return InvalidRequestError(code, message, data)
    if code == -32601:
        return MethodNotFoundError(code, message, data)
    if code == -32602:
        return InvalidParamsError(code, message, data)
    if code == -32603:
        return InternalRpcError(code, message, data)
    if -32099 <= code <= -32000:
        if _contains_retry_limit_text(message):
            return RetryLimitExceededError(code, message, data)
        if _is_server_overloaded(data):
            return ServerBusyError(code, message, data)
        return CodexRpcError(code, message, data)
    return JsonRpcError(code, message, data)


def is_retryable_error(exc: BaseException) -> bool:
    """True for a transient overload: worth retrying after a pause.

    Unlike the official SDK, :class:`RetryLimitExceededError` is *not* retryable: the server
    already retried and gave up."""
    if isinstance(exc, RetryLimitExceededError):
        return False
    if isinstance(exc, ServerBusyError):
        return True
    if isinstance(exc, JsonRpcError):
        return _is_server_overloaded(exc.data)
    return False


def _from_native(kind: str, message: str, code: int | None, data_json: str | None) -> Exception:
    """The exception for an error of the native core (called by ``codex_client._native``)."""
    if kind == "rpc" and code is not None:
        data = json.loads(data_json) if data_json is not None else None
        return map_jsonrpc_error(code, message, data)
    if kind == "closed":
        return TransportClosedError(message)
    if kind == "timeout":
        return RequestTimeoutError(message)
    if kind == "overloaded":
        return TransportOverloadedError(message)
    if kind == "not_found":
        return FileNotFoundError(message)
    if kind == "spawn":
        return OSError(message)
    if kind == "invalid":
        return ValueError(message)
    return CodexError(message)
