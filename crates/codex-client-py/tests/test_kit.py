"""The test kit itself (``codex_client.testing``), as a user's tests rely on it: what the mock
records of codex's requests, which scripted answer a request gets (routes, the queue, the
default), its waits timing out and staying interruptible by Ctrl-C, the stall gate, the sandbox
and its launch (used without the harness), the harness's config and lifetime, and the loud
failure when the runtime is missing."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import socket
import sys
import threading
import time

import pytest

from _helpers import eventually

from codex_client import AsyncCodex, Codex, CodexConfig, TransportClosedError
from codex_client.generated.v2_all import TurnStatus
from codex_client.testing import (
    AppServerHarness,
    CodexSandbox,
    Matcher,
    MockModel,
    MockResponse,
    StallGate,
    find_codex_bin,
)

WAIT_S = 60.0
#: The model name and offline flags the sandbox promises (codex-client-testkit's
#: ``MOCK_MODEL_NAME`` and ``DISABLED_FEATURES``).
MOCK_MODEL_NAME = "mock-model"
OFFLINE_FLAGS = ("plugins", "remote_plugin", "apps", "plugin_sharing", "tool_suggest", "unbounded_connection_retries")
INSTALL_HINT = "pip install openai-codex-cli-bin==0.163.0"




# --- what the mock records --------------------------------------------------------------------


def test_the_mock_records_what_codex_sent(codex, mock_model):
    mock_model.push(MockResponse.message("Recorded."))
    thread = codex.thread_start()
    result = thread.run("Please record this")
    assert result.final_response == "Recorded."
    # The usage the mock's response.completed reports (10 in, 5 out) is the turn's.
    assert result.usage is not None
    assert (result.usage.last.input_tokens, result.usage.last.output_tokens) == (10, 5)
    assert result.usage.last.total_tokens == 15

    [request] = mock_model.wait_for_requests(1, timeout=WAIT_S)
    assert (request.index, request.method, request.path) == (0, "POST", "/v1/responses")
    assert request.last_user_text() == "Please record this"
    assert request.user_texts()[-1] == "Please record this"
    # Headers: names lowercase, looked up case-insensitively.
    names = [name for name, _ in request.headers]
    assert names and all(name == name.lower() for name in names)
    assert request.header("Originator") == request.header("originator") == codex._client.config.client_name
    assert request.header("x-no-such-header") is None
    # The thread and the turn it came from.
    assert request.session_id == thread.id
    assert request.turn_metadata["turn_id"] == result.id
    body = request.body
    assert body["model"] == MOCK_MODEL_NAME and body["stream"] is True
    assert "Please record this" in request.raw_body
    assert not request.ends_with_tool_output()
    assert request.function_call_outputs() == []
    assert mock_model.request_count() == 1
    assert mock_model.last_user_text() == "Please record this"
    # Forgetting drops what was kept; the count goes on.
    mock_model.forget_requests()
    assert mock_model.requests() == [] and mock_model.request_count() == 1
    mock_model.push(MockResponse.message("Second."))
    thread.run("And this")
    [second] = mock_model.requests()
    assert (second.index, second.last_user_text()) == (1, "And this")


def test_routes_win_over_the_queue_and_the_default_comes_last(codex, mock_model):
    mock_model.push(MockResponse.message("from the queue"))
    mock_model.route(
        Matcher.user_text_contains("[routed]"),
        MockResponse.message("route, first"),
        MockResponse.message("route, second"),
    )
    mock_model.set_default(MockResponse.deltas(["from ", "the default"]))
    thread = codex.thread_start()

    assert thread.run("[routed] one").final_response == "route, first"
    assert thread.run("two").final_response == "from the queue"
    assert thread.run("[routed] three").final_response == "route, second"
    # A used-up route and an empty queue fall through to the default.
    assert thread.run("[routed] four").final_response == "from the default"
    assert thread.run("five").final_response == "from the default"

    # route_always answers every match, for ever; Matcher.session_id picks a thread.
    other = codex.thread_start()
    mock_model.route_always(Matcher.session_id(other.id), MockResponse.message("for the other thread"))
    for prompt in ("six", "seven"):
        assert other.run(prompt).final_response == "for the other thread"
    assert thread.run("eight").final_response == "from the default"


def test_a_route_with_a_tool_call_then_its_follow_up(codex, mock_model):
    mock_model.route(Matcher.user_text_contains("[tool]"), MockResponse.exec_command("echo kit-tool-ran"))
    mock_model.route(Matcher.tool_output(), MockResponse.message("The tool ran."))
    result = codex.thread_start().run("[tool] run it")

    assert result.final_response == "The tool ran."
    first, follow_up = mock_model.requests()
    assert not first.ends_with_tool_output()
    assert follow_up.ends_with_tool_output()
    [(_, output)] = follow_up.function_call_outputs()
    assert "kit-tool-ran" in output


def test_the_async_codex_fixture_starts_in_the_tests_event_loop(async_codex, mock_model):
    mock_model.push(MockResponse.deltas(["async ", "hello"]))

    async def main():
        async with async_codex:
            thread = await async_codex.thread_start()
            result = await thread.run("hello?")
            # The kit's blocking wait, off the loop.
            [request] = await asyncio.to_thread(mock_model.wait_for_requests, 1, WAIT_S)
            return thread, result, request

    thread, result, request = asyncio.run(main())
    assert result.final_response == "async hello"
    assert request.last_user_text() == "hello?"
    assert request.session_id == thread.id


# --- the kit's waits, and objects after close ---------------------------------------------------


def test_waits_time_out_with_timeout_error_and_a_closed_mock_says_so():
    mock = MockModel()
    try:
        assert mock.url == f"http://127.0.0.1:{mock.port}/v1"
        with socket.create_connection(("127.0.0.1", mock.port), timeout=5):
            pass  # it listens on loopback
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            mock.wait_for_requests(1, timeout=0.1)
        gate = StallGate()
        assert gate.wait_stalled(1, timeout=0.05) is False
        assert gate.wait_disconnected(1, timeout=0.05) is False
        assert time.monotonic() - started < 10
        with pytest.raises(ValueError):
            mock.wait_for_requests(1, timeout=-1)
        with pytest.raises(ValueError):
            gate.wait_stalled(1, timeout=math.nan)
        with pytest.raises(ValueError):
            mock.route(Matcher.any())  # a route needs an answer
        assert mock.request_count() == 0 and not mock.closed
    finally:
        mock.close()
    assert mock.closed
    mock.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        mock.push(MockResponse.message("too late"))
    with pytest.raises(RuntimeError, match="closed"):
        mock.requests()


def test_responses_describe_themselves():
    assert MockResponse.message("Done.").text == "Done."
    assert MockResponse.message("Done.").status == 200
    slow = MockResponse.deltas(["a", "b"]).with_delay(0.01)
    assert slow.text == "ab" and slow.status == 200
    assert MockResponse.exec_command("ls", escalated="why").text is None
    assert MockResponse.http_error(503, "busy").status == 503
    assert MockResponse.response_failed("broke").status == 200
    for bad in (-1, math.inf, math.nan):
        with pytest.raises(ValueError):
            MockResponse.message("x").with_delay(bad)


def test_ctrl_c_interrupts_a_wait_for_requests():
    assert threading.current_thread() is threading.main_thread()
    main, here = threading.get_ident(), sys._getframe().f_code
    pressed: list[float] = []
    caught = threading.Event()

    def blocked() -> bool:
        # This test function is the innermost frame, and executes nothing: it is in the native wait.
        seen = None
        for i in range(3):
            if i:
                time.sleep(0.02)
            frame = sys._current_frames().get(main)
            if frame is None or frame.f_code is not here or (seen is not None and frame.f_lasti != seen):
                return False
            seen = frame.f_lasti
        return True

    def press() -> None:
        eventually(blocked, what="the main thread to block in wait_for_requests")
        pressed.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)
        caught.wait(WAIT_S)

    mock = MockModel()
    presser = threading.Thread(target=press, name="ctrl-c", daemon=True)
    try:
        presser.start()
        with pytest.raises(KeyboardInterrupt):
            mock.wait_for_requests(1, timeout=WAIT_S)
        latency = time.monotonic() - pressed[0]
        caught.set()
        assert latency < 5, f"KeyboardInterrupt {latency:.2f} s after Ctrl-C"
    finally:
        caught.set()
        presser.join(WAIT_S)
        mock.close()


# --- the stall gate -----------------------------------------------------------------------------


def test_the_stall_gate_holds_the_answer_until_released(codex, mock_model):
    gate = StallGate()
    mock_model.push(MockResponse.stalled(["partial ", "answer"], gate))
    turn = codex.thread_start().turn("Wait for it")
    try:
        assert gate.wait_stalled(1, WAIT_S)
        assert (gate.stalled, gate.released, gate.disconnected) == (1, False, 0)
        # Held: the turn is still running on the server.
        [status] = [t.status for t in codex._client.thread_read(turn.thread_id, include_turns=True).thread.turns]
        assert status == TurnStatus.in_progress
        gate.release()
        assert gate.released
        result = turn.run()
    finally:
        gate.release()
    assert result.status == TurnStatus.completed
    assert result.final_response == "partial answer"
    assert gate.disconnected == 0


def test_the_stall_gate_counts_the_stream_codex_drops_on_interrupt(codex, mock_model):
    gate = StallGate()
    mock_model.push(MockResponse.stalled(["partial "], gate))
    turn = codex.thread_start().turn("Wait for it")
    try:
        assert gate.wait_stalled(1, WAIT_S)
        turn.interrupt()
        assert gate.wait_disconnected(1, WAIT_S)
        assert gate.disconnected == 1
        assert turn.run().status == TurnStatus.interrupted
    finally:
        gate.release()


# --- the sandbox, without the harness -------------------------------------------------------------


def test_the_sandbox_launch_runs_the_app_server_offline_against_the_mock(tmp_path):
    binary = str(find_codex_bin())
    mock = MockModel()
    try:
        sandbox = CodexSandbox(binary, mock.url, dir=str(tmp_path), config=[("model", '"kit-model"')], rust_log="info")
        root = sandbox.root
        assert os.path.dirname(root) == str(tmp_path)
        for d in (sandbox.codex_home, sandbox.home, sandbox.tmp_dir, sandbox.workdir):
            assert os.path.isdir(d) and os.path.dirname(d) == root
        assert not sandbox.codex_home.startswith(sandbox.tmp_dir + os.sep)
        assert sandbox.binary == binary
        overrides = sandbox.config_overrides()
        assert f'model_providers.mock.base_url="{mock.url}"' in overrides
        assert overrides[-1] == 'model="kit-model"'  # added ones come last, so they win

        argv, env, cwd = sandbox.launch()
        env = dict(env)
        assert argv[0] == binary and argv[1] == "app-server"
        pairs = list(zip(argv, argv[1:]))
        for value in overrides:
            assert ("-c", value) in pairs
        for feature in OFFLINE_FLAGS:
            assert ("--disable", feature) in pairs
        assert env["CODEX_HOME"] == sandbox.codex_home
        assert env["HOME"] == sandbox.home
        assert env["TMPDIR"] == sandbox.tmp_dir
        assert env["RUST_LOG"] == "info"
        assert cwd == sandbox.workdir

        # The launch as it is, given to the client: a turn answered by the mock, the extra
        # config in effect.
        mock.push(MockResponse.message("From the sandbox."))
        config = CodexConfig(launch_args_override=tuple(argv), env=env, cwd=cwd)
        with Codex(config) as codex:
            result = codex.thread_start().run("Hello sandbox")
        assert result.final_response == "From the sandbox."
        [request] = mock.requests()
        assert request.body["model"] == "kit-model"
        assert request.last_user_text() == "Hello sandbox"

        sandbox.close()
        assert not os.path.exists(root)
        sandbox.close()  # idempotent
        with pytest.raises(RuntimeError, match="closed"):
            sandbox.launch()
    finally:
        mock.close()


# --- the harness -----------------------------------------------------------------------------------


def test_the_harness_config_runs_its_sandbox_and_close_cleans_everything_up(tmp_path):
    def handler(method, params):
        return None

    harness = AppServerHarness(tmp_path, config={"model": '"harness-model"'})
    try:
        root = harness.sandbox.root
        assert os.path.dirname(root) == str(tmp_path)
        for d in (harness.codex_home, harness.home, harness.tmp_dir, harness.workdir):
            assert d.is_dir() and str(d.parent) == root
        config = harness.config(request_timeout_s=5, approval_handler=handler)
        assert (config.request_timeout_s, config.approval_handler) == (5, handler)
        argv = config.launch_args_override
        assert argv[0] == str(harness.codex_bin) and argv[1] == "app-server"
        assert ("-c", 'model="harness-model"') in list(zip(argv, argv[1:]))
        assert config.cwd == str(harness.workdir)
        assert config.env["CODEX_HOME"] == str(harness.codex_home)
        assert "127.0.0.1" in config.env["NO_PROXY"]

        harness.mock.push(MockResponse.message("From the harness."))
        codex = harness.codex()
        async_codex = harness.async_codex()
        assert codex.thread_start().run("Hello harness").final_response == "From the harness."
        assert asyncio.run(async_codex.models()) is not None  # started, in a loop now gone
        assert async_codex._client._sync._native is not None
        assert harness.mock.requests()[0].body["model"] == "harness-model"
        mock = harness.mock
    finally:
        harness.close()
    # Its clients, its mock and its directories are gone.
    with pytest.raises(TransportClosedError):
        codex.models()
    assert async_codex._client._sync._native is None
    assert mock.closed
    assert not os.path.exists(root)
    harness.close()  # idempotent


def test_a_harness_sharing_a_mock_leaves_it_open(tmp_path):
    mock = MockModel()
    try:
        with AppServerHarness(tmp_path, mock=mock) as a:
            with AppServerHarness(tmp_path, mock=mock) as b:
                assert a.mock is mock and b.mock is mock
                assert a.codex_home != b.codex_home
                mock.route(Matcher.user_text_contains("[a]"), MockResponse.message("A"))
                mock.route(Matcher.user_text_contains("[b]"), MockResponse.message("B"))

                async def main():
                    async with a.async_codex() as ca, b.async_codex() as cb:
                        ta, tb = await ca.thread_start(), await cb.thread_start()
                        return await asyncio.gather(ta.run("[a] go"), tb.run("[b] go"))

                ra, rb = asyncio.run(main())
                assert (ra.final_response, rb.final_response) == ("A", "B")
        assert not mock.closed
        assert mock.request_count() == 2
    finally:
        mock.close()


def test_a_missing_runtime_fails_loudly_saying_what_to_install(tmp_path, monkeypatch):
    monkeypatch.delenv("CODEX_BIN", raising=False)
    monkeypatch.setitem(sys.modules, "codex_cli_bin", None)  # the import fails
    with pytest.raises(FileNotFoundError) as raised:
        AppServerHarness(tmp_path)
    assert INSTALL_HINT in str(raised.value)
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_a_missing_codex_bin_fails_loudly_naming_it(tmp_path):
    missing = tmp_path / "nonexistent" / "codex"
    with pytest.raises(FileNotFoundError) as raised:
        AppServerHarness(tmp_path, codex_bin=missing)
    assert str(missing) in str(raised.value)
    assert INSTALL_HINT in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_codex_bin_from_the_environment_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv("CODEX_BIN", raising=False)
    real = find_codex_bin()
    assert real.is_file()
    monkeypatch.setenv("CODEX_BIN", str(real))
    assert find_codex_bin() == real
    with AppServerHarness(tmp_path) as harness:
        assert harness.codex_bin == real
    missing = tmp_path / "from-env" / "codex"
    monkeypatch.setenv("CODEX_BIN", str(missing))
    with pytest.raises(FileNotFoundError) as raised:
        AppServerHarness(tmp_path)
    assert str(missing) in str(raised.value)
    # An explicit codex_bin wins over the environment.
    assert find_codex_bin(real) == real
