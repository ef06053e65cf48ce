"""pytest fixtures for testing programs that drive Codex, offline.

Enable them in a ``conftest.py``::

    pytest_plugins = ["codex_client.testing.pytest_plugin"]

and use them::

    from codex_client.testing import MockResponse

    def test_answer(codex, mock_model):
        mock_model.push(MockResponse.message("42"))
        assert codex.thread_start().run("The answer?").final_response == "42"

    def test_answer_async(async_codex, mock_model):
        async def main():
            async with async_codex:
                thread = await async_codex.thread_start()
                return await thread.run("The answer?")
        assert asyncio.run(main()).final_response == "Hello from the mock model."

Fixtures (each per test):

* ``codex_harness``: an :class:`~codex_client.testing.AppServerHarness` in the test's
  ``tmp_path``;
* ``mock_model``: its :class:`~codex_client.testing.MockModel`;
* ``codex``: a started :class:`~codex_client.Codex` on ``codex_harness.config()``;
* ``async_codex``: an :class:`~codex_client.AsyncCodex` on it, not yet started (it starts on
  ``async with`` or its first awaited call, in whatever event loop the test runs: plain
  ``asyncio.run``, pytest-asyncio or anyio).

The binary: ``--codex-bin PATH``, else ``CODEX_BIN``, else the installed runtime package. A
missing binary makes the tests that use these fixtures *error* with what to install
(``pip install openai-codex-cli-bin==0.163.0``); they are never skipped.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from ..api import AsyncCodex, Codex
from . import AppServerHarness, MockModel


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("codex_client")
    group.addoption(
        "--codex-bin",
        action="store",
        default=None,
        help="the codex binary codex_client.testing runs (default: $CODEX_BIN, else the "
        "installed openai-codex-cli-bin runtime)",
    )


@pytest.fixture
def codex_harness(request: pytest.FixtureRequest, tmp_path) -> Iterator[AppServerHarness]:
    """A mock model and the real app-server's sandbox, in the test's ``tmp_path``."""
    harness = AppServerHarness(tmp_path, codex_bin=request.config.getoption("--codex-bin"))
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture
def mock_model(codex_harness: AppServerHarness) -> MockModel:
    """The harness's mock model: script it (``push``, ``route``), inspect ``requests()``."""
    return codex_harness.mock


@pytest.fixture
def codex(codex_harness: AppServerHarness) -> Iterator[Codex]:
    """A started ``Codex`` talking to the real app-server against the mock."""
    client = codex_harness.codex()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def async_codex(codex_harness: AppServerHarness) -> AsyncCodex:
    """An ``AsyncCodex`` on the harness, started by its first use; closed with the harness."""
    return codex_harness.async_codex()
