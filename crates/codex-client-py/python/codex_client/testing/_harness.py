"""``AppServerHarness``: a mock model, a sandbox of throwaway directories, and the
``CodexConfig`` that runs the real app-server offline against the mock."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from .._native import CodexSandbox, MockModel
from .._version import __version__ as CODEX_VERSION
from ..api import AsyncCodex, Codex
from ..client import CodexConfig

#: The environment variable naming the ``codex`` binary when none is given explicitly.
CODEX_BIN_ENV = "CODEX_BIN"

_INSTALL_HINT = (
    f"install the pinned runtime with `pip install openai-codex-cli-bin=={CODEX_VERSION}` "
    f"(a dependency of codex-client), or pass codex_bin=... / set {CODEX_BIN_ENV} to a "
    f"codex {CODEX_VERSION} binary"
)


def find_codex_bin(codex_bin: str | os.PathLike[str] | None = None) -> Path:
    """The ``codex`` binary the harness runs: ``codex_bin`` if given, else ``$CODEX_BIN``, else
    the runtime package's (``codex_cli_bin.bundled_codex_path()``). Raises
    :class:`FileNotFoundError` naming what to install when there is none — a test that needs
    the app-server fails, it is never skipped::

        >>> find_codex_bin("/nonexistent/codex")
        Traceback (most recent call last):
        ...
        FileNotFoundError: the codex binary /nonexistent/codex does not exist: install ...
    """
    if codex_bin is None:
        codex_bin = os.environ.get(CODEX_BIN_ENV) or None
    if codex_bin is not None:
        path = Path(codex_bin)
        if not path.is_file():
            raise FileNotFoundError(f"the codex binary {path} does not exist: {_INSTALL_HINT}")
        return path
    try:
        from codex_cli_bin import bundled_codex_path
    except ImportError as exc:
        raise FileNotFoundError(
            f"codex_client.testing needs the real codex app-server and the runtime package "
            f"is not installed: {_INSTALL_HINT}"
        ) from exc
    path = Path(bundled_codex_path())
    if not path.is_file():
        raise FileNotFoundError(
            f"the runtime package names {path}, which does not exist: {_INSTALL_HINT}"
        )
    return path


def _config_pairs(config: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> list[tuple[str, str]]:
    if config is None:
        return []
    items = config.items() if isinstance(config, Mapping) else config
    return [(str(key), str(value)) for key, value in items]


class AppServerHarness:
    """The real ``codex app-server``, offline, against a :class:`~codex_client.testing.MockModel`.

    Makes (inside ``tmp_path``, when given: pytest's ``tmp_path``, say) a throwaway
    ``CODEX_HOME``, ``HOME``, ``TMPDIR`` and working directory, and the command line that
    points the app-server at the mock: the ``mock`` provider on loopback with no retries, no
    analytics, and the ``--disable`` flags without which codex reaches out to the network.
    :meth:`config` is the :class:`~codex_client.CodexConfig` for ``Codex(...)`` or
    ``AsyncCodex(...)``; :meth:`codex` and :meth:`async_codex` make one and close it with the
    harness. The mock provider needs no login, so nothing has to be logged in.

    ``config`` adds app-server settings (``-c key=value``, values in TOML), e.g.
    ``{"model_providers.mock.requires_openai_auth": "true"}``; ``codex_bin`` picks the binary
    (see :func:`find_codex_bin`); ``mock`` shares a mock model between harnesses (the harness
    then does not close it)::

        from codex_client import AsyncCodex
        from codex_client.testing import AppServerHarness, Matcher, MockResponse

        def test_two_threads(tmp_path):
            with AppServerHarness(tmp_path) as harness:
                harness.mock.route(Matcher.user_text_contains("[a]"), MockResponse.message("A"))
                harness.mock.route(Matcher.user_text_contains("[b]"), MockResponse.message("B"))

                async def main():
                    async with AsyncCodex(harness.config()) as codex:
                        a, b = await codex.thread_start(), await codex.thread_start()
                        return await asyncio.gather(a.run("[a]"), b.run("[b]"))

                ra, rb = asyncio.run(main())
                assert (ra.final_response, rb.final_response) == ("A", "B")

    The app-server's environment is this process's with ``PATH`` (the runtime's helpers
    first), ``HOME``, ``CODEX_HOME``, ``TMPDIR``, ``RUST_LOG``, ``LANG`` and ``NO_PROXY`` set
    by the harness.
    """

    def __init__(
        self,
        tmp_path: str | os.PathLike[str] | None = None,
        *,
        codex_bin: str | os.PathLike[str] | None = None,
        config: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        rust_log: str | None = None,
        mock: MockModel | None = None,
    ) -> None:
        self.codex_bin: Path = find_codex_bin(codex_bin)
        self._owns_mock = mock is None
        #: The mock model the app-server talks to.
        self.mock: MockModel = mock if mock is not None else MockModel()
        try:
            #: The throwaway directories and the offline command line (the Rust test kit's).
            self.sandbox: CodexSandbox = CodexSandbox(
                str(self.codex_bin),
                self.mock.url,
                dir=None if tmp_path is None else str(tmp_path),
                config=_config_pairs(config),
                rust_log=rust_log,
            )
        except BaseException:
            if self._owns_mock:
                self.mock.close()
            raise
        self._clients: list[Codex | AsyncCodex] = []

    # -- the directories

    @property
    def workdir(self) -> Path:
        """The app-server's working directory (where threads run unless told otherwise)."""
        return Path(self.sandbox.workdir)

    @property
    def codex_home(self) -> Path:
        """The app-server's ``CODEX_HOME``."""
        return Path(self.sandbox.codex_home)

    @property
    def home(self) -> Path:
        """The app-server's ``HOME``."""
        return Path(self.sandbox.home)

    @property
    def tmp_dir(self) -> Path:
        """The app-server's ``TMPDIR``."""
        return Path(self.sandbox.tmp_dir)

    # -- clients

    def config(self, **fields: Any) -> CodexConfig:
        """The :class:`~codex_client.CodexConfig` that runs the app-server against the mock;
        ``fields`` are set on it (``approval_handler=``, ``request_timeout_s=``, ...)::

            codex = Codex(harness.config(approval_handler=codex_client.accept_approvals))
        """
        argv, env, cwd = self.sandbox.launch()
        launch_env = dict(env)
        # The process inherits this one's environment: keep a proxy of the caller's away
        # from the loopback mock.
        launch_env.setdefault("NO_PROXY", "127.0.0.1,localhost")
        launch_env.setdefault("no_proxy", "127.0.0.1,localhost")
        base = CodexConfig(launch_args_override=tuple(argv), env=launch_env, cwd=cwd)
        return replace(base, **fields)

    def codex(self, **fields: Any) -> Codex:
        """A started :class:`~codex_client.Codex` on :meth:`config` (``fields`` as there),
        closed by :meth:`close` if still open."""
        client = Codex(self.config(**fields))
        self._clients.append(client)
        return client

    def async_codex(self, **fields: Any) -> AsyncCodex:
        """An :class:`~codex_client.AsyncCodex` on :meth:`config` (it starts on ``async with``
        or its first awaited call), closed by :meth:`close` if still open."""
        client = AsyncCodex(self.config(**fields))
        self._clients.append(client)
        return client

    # -- lifetime

    def close(self) -> None:
        """Closes the clients it made, the mock (if it made it) and removes the directories.
        Idempotent."""
        clients, self._clients = self._clients, []
        for client in clients:
            if isinstance(client, AsyncCodex):
                _close_async(client)
            else:
                client.close()
        if self._owns_mock:
            self.mock.close()
        self.sandbox.close()

    def __enter__(self) -> "AppServerHarness":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AppServerHarness(codex_bin={str(self.codex_bin)!r}, mock={self.mock!r})"


def _close_async(client: AsyncCodex) -> None:
    """Closes an ``AsyncCodex`` from synchronous code (a fixture's teardown)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(client.close())
        return
    # Inside a running loop (a teardown called from async code): the blocking close, which
    # is what AsyncCodex.close runs on a worker thread.
    client._client._sync.close()
