"""Interactive ChatGPT logins (browser and device code): the live handles ``login_chatgpt()``
and ``login_chatgpt_device_code()`` return, whose ``wait()`` takes the
``account/login/completed`` of their own login id (subscribed before the login started, so the
completion cannot be missed) and whose ``cancel()`` ends the attempt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import CodexError
from .generated.v2_all import (
    AccountLoginCompletedNotification,
    CancelLoginAccountResponse,
    ChatgptDeviceCodeLoginAccountParams,
    ChatgptDeviceCodeLoginAccountResponse,
    ChatgptLoginAccountParams,
    ChatgptLoginAccountResponse,
    LoginAccountParams,
)


def _unexpected(kind: str, root: Any) -> CodexError:
    return CodexError(f"account/login/start ({kind}) answered {type(root).__name__}")


def start_chatgpt_login(client: Any) -> "ChatgptLoginHandle":
    response = client.account_login_start(
        LoginAccountParams(root=ChatgptLoginAccountParams(type="chatgpt"))
    )
    root = response.root
    if not isinstance(root, ChatgptLoginAccountResponse):
        raise _unexpected("chatgpt", root)
    return ChatgptLoginHandle(client, root.login_id, root.auth_url)


def start_device_code_login(client: Any) -> "DeviceCodeLoginHandle":
    response = client.account_login_start(
        LoginAccountParams(root=ChatgptDeviceCodeLoginAccountParams(type="chatgptDeviceCode"))
    )
    root = response.root
    if not isinstance(root, ChatgptDeviceCodeLoginAccountResponse):
        raise _unexpected("chatgptDeviceCode", root)
    return DeviceCodeLoginHandle(client, root.login_id, root.verification_url, root.user_code)


async def async_start_chatgpt_login(owner: Any) -> "AsyncChatgptLoginHandle":
    await owner._ensure_initialized()
    response = await owner._client.account_login_start(
        LoginAccountParams(root=ChatgptLoginAccountParams(type="chatgpt"))
    )
    root = response.root
    if not isinstance(root, ChatgptLoginAccountResponse):
        raise _unexpected("chatgpt", root)
    return AsyncChatgptLoginHandle(owner, root.login_id, root.auth_url)


async def async_start_device_code_login(owner: Any) -> "AsyncDeviceCodeLoginHandle":
    await owner._ensure_initialized()
    response = await owner._client.account_login_start(
        LoginAccountParams(root=ChatgptDeviceCodeLoginAccountParams(type="chatgptDeviceCode"))
    )
    root = response.root
    if not isinstance(root, ChatgptDeviceCodeLoginAccountResponse):
        raise _unexpected("chatgptDeviceCode", root)
    return AsyncDeviceCodeLoginHandle(owner, root.login_id, root.verification_url, root.user_code)


@dataclass(slots=True)
class ChatgptLoginHandle:
    """A browser login in progress: open ``auth_url``, then ``wait()``."""

    _client: Any
    login_id: str
    auth_url: str

    def wait(self) -> AccountLoginCompletedNotification:
        """Blocks until this login completes (successfully or not)."""
        return self._client.wait_for_login_completed(self.login_id)

    def cancel(self) -> CancelLoginAccountResponse:
        """Cancels this login attempt."""
        return self._client.account_login_cancel(self.login_id)


@dataclass(slots=True)
class DeviceCodeLoginHandle:
    """A device-code login in progress: show ``verification_url`` and ``user_code``, then
    ``wait()``."""

    _client: Any
    login_id: str
    verification_url: str
    user_code: str

    def wait(self) -> AccountLoginCompletedNotification:
        return self._client.wait_for_login_completed(self.login_id)

    def cancel(self) -> CancelLoginAccountResponse:
        return self._client.account_login_cancel(self.login_id)


@dataclass(slots=True)
class AsyncChatgptLoginHandle:
    """:class:`ChatgptLoginHandle` for asyncio."""

    _codex: Any
    login_id: str
    auth_url: str

    async def wait(self) -> AccountLoginCompletedNotification:
        await self._codex._ensure_initialized()
        return await self._codex._client.wait_for_login_completed(self.login_id)

    async def cancel(self) -> CancelLoginAccountResponse:
        await self._codex._ensure_initialized()
        return await self._codex._client.account_login_cancel(self.login_id)


@dataclass(slots=True)
class AsyncDeviceCodeLoginHandle:
    """:class:`DeviceCodeLoginHandle` for asyncio."""

    _codex: Any
    login_id: str
    verification_url: str
    user_code: str

    async def wait(self) -> AccountLoginCompletedNotification:
        await self._codex._ensure_initialized()
        return await self._codex._client.wait_for_login_completed(self.login_id)

    async def cancel(self) -> CancelLoginAccountResponse:
        await self._codex._ensure_initialized()
        return await self._codex._client.account_login_cancel(self.login_id)
