"""Offline testing of programs that drive Codex: a mock model and the real app-server against it.

No network is needed and nothing reaches any address but ``127.0.0.1``: :class:`MockModel` is an
OpenAI Responses-API server on loopback that answers with the responses you script and records
what codex sent; :class:`AppServerHarness` makes a throwaway ``CODEX_HOME`` / ``HOME`` /
``TMPDIR`` / working directory and gives the :class:`~codex_client.CodexConfig` that runs the
real ``codex app-server`` (the runtime installed with this package) against the mock, with the
offline flags it needs. Both are this project's Rust test kit (``codex-client-testkit``)::

    from codex_client import Codex
    from codex_client.testing import AppServerHarness, MockResponse

    def test_my_program_summarises(tmp_path):
        with AppServerHarness(tmp_path) as harness:
            harness.mock.push(MockResponse.deltas(["Two ", "crates."]))
            with Codex(harness.config()) as codex:
                result = codex.thread_start().run("Summarise")
            assert result.final_response == "Two crates."
            assert harness.mock.requests()[0].last_user_text() == "Summarise"

With pytest, ``pytest_plugins = ["codex_client.testing.pytest_plugin"]`` in a ``conftest.py``
gives the fixtures ``codex_harness``, ``mock_model``, ``codex`` and ``async_codex``.

Scripting the mock (first match wins: routes in the order added, then the queue, then the
default "Hello from the mock model."):

* ``mock.push(response)``: the next request no route claims; ``mock.set_default(response)``;
* ``mock.route(Matcher.user_text_contains("[a]"), tool_call, message)``: the requests whose
  prompt contains ``[a]``, one answer each, in order; ``mock.route_always(matcher, response)``;
* answers: ``MockResponse.message(text)``, ``.deltas([...])``, ``.exec_command(cmd,
  escalated=None)``, ``.http_error(status, message)``, ``.response_failed(message)``,
  ``.stalled(deltas, gate)`` (held open until ``gate.release()``), any of them
  ``.with_delay(seconds)`` between deltas;
* inspecting: ``mock.requests()`` (:class:`RecordedRequest`: ``user_texts()``,
  ``last_user_text()``, ``header(name)``, ``session_id``, ``body``, ``function_call_outputs()``),
  ``mock.wait_for_requests(n, timeout)``.

The binary: ``AppServerHarness(codex_bin=...)``, else ``CODEX_BIN``, else the runtime package
(``codex_cli_bin.bundled_codex_path()``, installed with ``codex-client``). When none is found the
harness raises :class:`FileNotFoundError` saying what to install — it never skips a test.
"""

from __future__ import annotations

from .._native import (
    CodexSandbox,
    Matcher,
    MockModel,
    MockResponse,
    RecordedRequest,
    StallGate,
)
from ._harness import AppServerHarness, find_codex_bin

__all__ = [
    "AppServerHarness",
    "CodexSandbox",
    "Matcher",
    "MockModel",
    "MockResponse",
    "RecordedRequest",
    "StallGate",
    "find_codex_bin",
]
