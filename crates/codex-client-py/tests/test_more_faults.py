"""Faults the client must report with the right exception, promptly, never by hanging: a request
whose answer never comes (asyncio side), an app-server killed while a request waits for its
answer, a launch program that does not exist, a model that answers HTTP 400, and Ctrl-C while a
Python thread waits inside a native call (a request's wait, a turn stream's wait).

Waits are for events (a line the fake server logged, the mock's stall gate, the main thread seen
blocked inside the native call), each with a timeout; nothing sleeps and hopes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from _helpers import eventually

from codex_client import (
    AsyncCodex,
    Codex,
    CodexConfig,
    RequestTimeoutError,
    TransportClosedError,
    TurnFailedError,
)
from codex_client.generated.v2_all import ModelListResponse, TurnStatus, UserMessageThreadItem
from codex_client.testing import MockResponse, StallGate

RECORDING_FAKE = Path(__file__).with_name("fake_recording_app_server.py")
PACKAGE_DIR = Path(__import__("codex_client").__file__).resolve().parent

#: How long a test waits for something the server does (generous: a loaded 2-core machine).
WAIT_S = 60.0
#: How long Ctrl-C may take to surface as ``KeyboardInterrupt`` (the native wait checks for
#: signals every 100 ms; a turn stream also sends ``turn/interrupt`` first, a loopback round trip).
PROMPT_S = 5.0




def recording_config(log: Path, **fields) -> CodexConfig:
    """A config that runs the fake server that answers only ``initialize`` and logs to ``log``."""
    return CodexConfig(
        launch_args_override=(sys.executable, str(RECORDING_FAKE), str(log)), **fields
    )


def received(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def blocked_in_native(thread_ident: int, in_code=None, *, samples: int = 3, gap: float = 0.02):
    """Whether thread ``thread_ident`` sits inside a native call: its innermost Python frame is
    ``in_code`` (a code object) or, by default, a function of the ``codex_client`` package, and
    that frame has not executed a single bytecode over ``samples`` looks ``gap`` seconds apart.
    Returns the frame's function name (truthy) or ``None``."""
    seen = None
    for i in range(samples):
        if i:
            time.sleep(gap)
        frame = sys._current_frames().get(thread_ident)
        if frame is None:
            return None
        code = frame.f_code
        if in_code is not None:
            if code is not in_code:
                return None
        elif PACKAGE_DIR not in Path(code.co_filename).resolve().parents:
            return None
        here = (code, frame.f_lasti)
        if seen is not None and here != seen:
            return None
        seen = here
    return seen[0].co_name


class CtrlC:
    """Presses Ctrl-C (SIGINT to this process, handled in the main thread) once ``ready()`` is
    true and the main thread is blocked in a native call; records when. If the main thread has
    not got its ``KeyboardInterrupt`` ``failsafe`` seconds later, ``unstick()`` runs (releasing
    whatever the main thread waits for), so a broken Ctrl-C fails the test instead of hanging it.
    """

    def __init__(self, ready, *, in_code=None, unstick=None, failsafe: float = WAIT_S):
        assert threading.current_thread() is threading.main_thread(), "SIGINT goes to the main thread"
        self._main = threading.get_ident()
        self._ready, self._in_code, self._unstick, self._failsafe = ready, in_code, unstick, failsafe
        self.pressed_at: float | None = None
        self.blocked_in: str | None = None
        self.error: BaseException | None = None
        self.caught = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ctrl-c", daemon=True)

    def __enter__(self) -> "CtrlC":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            eventually(self._ready, what="the wait to begin")
            self.blocked_in = eventually(
                lambda: blocked_in_native(self._main, self._in_code),
                what="the main thread to block in the native call",
            )
            self.pressed_at = time.monotonic()
            os.kill(os.getpid(), signal.SIGINT)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
            if self._unstick is not None:
                self._unstick()
            return
        if not self.caught.wait(self._failsafe) and self._unstick is not None:
            self._unstick()

    def latency(self) -> float:
        """Seconds from the SIGINT to now (call it where ``KeyboardInterrupt`` was caught)."""
        now = time.monotonic()
        self.caught.set()
        assert self.error is None, f"the Ctrl-C thread failed: {self.error!r}"
        assert self.pressed_at is not None, "Ctrl-C was never pressed"
        return now - self.pressed_at

    def __exit__(self, *_exc) -> None:
        self.caught.set()
        self._thread.join(WAIT_S)


# --- a request whose answer never comes (asyncio) ---------------------------------------------


def test_an_async_request_without_an_answer_raises_request_timeout_error_without_blocking_the_loop(tmp_path):
    log = tmp_path / "received.log"

    async def main():
        async with AsyncCodex(recording_config(log, request_timeout_s=3.0)) as codex:
            started = time.monotonic()
            request = asyncio.create_task(codex.models())
            # The event loop runs other tasks while the request waits.
            while not received(log).count("model/list"):
                assert time.monotonic() - started < WAIT_S, "the request never reached the server"
                await asyncio.sleep(0.01)
            await asyncio.sleep(0)
            assert not request.done(), "the request ended before its timeout"
            with pytest.raises(RequestTimeoutError) as raised:
                await asyncio.wait_for(request, WAIT_S)
            return time.monotonic() - started, raised.value

    elapsed, exc = asyncio.run(main())
    assert isinstance(exc, TimeoutError)  # what an asyncio program catches
    assert 2.5 <= elapsed < WAIT_S / 2, elapsed
    assert received(log).count("model/list") == 1


# --- an app-server killed while a request waits ------------------------------------------------


def kill_once_received(log: Path, method: str, pid: int) -> threading.Thread:
    """SIGKILLs ``pid`` once the fake server logged ``method`` (the request is then waiting)."""
    done = threading.Event()

    def run() -> None:
        try:
            eventually(lambda: method in received(log), what=f"{method} to reach the server")
            os.kill(pid, signal.SIGKILL)
        finally:
            done.set()

    killer = threading.Thread(target=run, name="killer", daemon=True)
    killer.done = done  # type: ignore[attr-defined]
    killer.start()
    return killer


def test_a_killed_app_server_ends_a_waiting_request_with_transport_closed(tmp_path):
    log = tmp_path / "received.log"
    with Codex(recording_config(log, request_timeout_s=WAIT_S * 2)) as codex:
        pid = codex._client._native.pid()
        assert pid is not None
        killer = kill_once_received(log, "model/list", pid)
        started = time.monotonic()
        with pytest.raises(TransportClosedError):
            codex.models()
        elapsed = time.monotonic() - started
        killer.join(WAIT_S)
        assert killer.done.is_set()
        # Ended by the death (well before the request's own timeout), not by a timeout.
        assert elapsed < WAIT_S, elapsed
        # The connection says it is gone, and every later call fails the same way at once.
        assert codex._client._native.is_closed()
        started = time.monotonic()
        with pytest.raises(TransportClosedError):
            codex.models()
        assert time.monotonic() - started < 5


def test_a_killed_app_server_ends_a_waiting_async_request_with_transport_closed(tmp_path):
    log = tmp_path / "received.log"

    async def main():
        async with AsyncCodex(recording_config(log, request_timeout_s=WAIT_S * 2)) as codex:
            pid = codex._client._sync._native.pid()
            killer = kill_once_received(log, "model/list", pid)
            started = time.monotonic()
            with pytest.raises(TransportClosedError):
                await asyncio.wait_for(codex.models(), WAIT_S)
            elapsed = time.monotonic() - started
            await asyncio.to_thread(killer.join, WAIT_S)
            with pytest.raises(TransportClosedError):
                await asyncio.wait_for(codex.models(), 5)
            return elapsed

    assert asyncio.run(main()) < WAIT_S


# --- a launch program that does not exist ------------------------------------------------------

MISSING_PROGRAM = "/nonexistent/codex-client-tests/codex"


def test_a_missing_program_in_the_launch_args_raises_file_not_found_naming_it():
    started = time.monotonic()
    with pytest.raises(FileNotFoundError) as raised:
        Codex(CodexConfig(launch_args_override=(MISSING_PROGRAM, "app-server")))
    assert MISSING_PROGRAM in str(raised.value)
    assert time.monotonic() - started < 10


def test_a_missing_program_in_the_launch_args_raises_file_not_found_on_async_start():
    async def main():
        codex = AsyncCodex(CodexConfig(launch_args_override=(MISSING_PROGRAM, "app-server")))
        with pytest.raises(FileNotFoundError) as raised:
            async with codex:
                pass
        return raised.value

    assert MISSING_PROGRAM in str(asyncio.run(main()))


def test_a_launch_program_named_without_a_path_is_found_on_path_as_the_official_sdk_does(monkeypatch):
    bin_dir = os.path.dirname(sys.executable)
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ.get("PATH", ""))
    program = os.path.basename(sys.executable)
    fake = Path(__file__).with_name("fake_app_server.py")
    with Codex(CodexConfig(launch_args_override=(program, str(fake), "only-initialize"))) as codex:
        assert codex.metadata.serverInfo.name == "fake_app_server"


# --- the model fails the turn -----------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, message",
    [
        (MockResponse.http_error(400, "the mock model rejected the request"), "the mock model rejected the request"),
        (MockResponse.response_failed("the mock model failed on purpose"), "the mock model failed on purpose"),
    ],
    ids=["http_400", "response_failed"],
)
def test_a_model_error_fails_the_turn_with_turn_failed_error_carrying_it(codex, mock_model, answer, message):
    mock_model.push(answer)
    thread = codex.thread_start()

    with pytest.raises(TurnFailedError) as raised:
        thread.run("Fail, please")

    exc = raised.value
    assert isinstance(exc, RuntimeError)  # what the official SDK raises
    assert message in str(exc)
    assert exc.turn is not None and exc.turn.status == TurnStatus.failed
    assert exc.error is not None and message in exc.error.message
    assert [type(item.root) for item in exc.items] == [UserMessageThreadItem]
    assert mock_model.request_count() == 1  # the error was not retried
    # The thread goes on: the next turn completes.
    mock_model.push(MockResponse.message("Recovered."))
    assert thread.run("Again").final_response == "Recovered."


# --- Ctrl-C while a Python thread waits in a native call --------------------------------------


def turn_status(thread, turn_id: str):
    [turn] = [t for t in thread.read(include_turns=True).thread.turns if t.id == turn_id]
    return turn.status


def test_ctrl_c_while_a_request_waits_raises_keyboard_interrupt_promptly(tmp_path):
    log = tmp_path / "received.log"
    with Codex(recording_config(log, request_timeout_s=WAIT_S * 2)) as codex:
        with CtrlC(lambda: "model/list" in received(log)) as ctrl_c:
            with pytest.raises(KeyboardInterrupt):
                codex.models()
            latency = ctrl_c.latency()
        assert latency < PROMPT_S, f"KeyboardInterrupt {latency:.2f} s after Ctrl-C"
        # Giving up the request did not break the connection: the next one is sent and waits.
        with pytest.raises(RequestTimeoutError):
            codex._client.request(
                "model/list", {"includeHidden": False}, response_model=ModelListResponse, timeout_s=0.3
            )
        eventually(lambda: received(log).count("model/list") == 2, what="the second request to arrive")


def test_ctrl_c_while_run_waits_raises_promptly_and_interrupts_the_turn(codex, mock_model):
    gate = StallGate()
    mock_model.push(MockResponse.stalled(["Thinking "], gate))
    thread = codex.thread_start()
    turn = thread.turn("Take your time")
    try:
        with CtrlC(lambda: gate.stalled >= 1, unstick=gate.release) as ctrl_c:
            with pytest.raises(KeyboardInterrupt):
                turn.run()
            latency = ctrl_c.latency()
        assert latency < PROMPT_S, f"KeyboardInterrupt {latency:.2f} s after Ctrl-C (in {ctrl_c.blocked_in})"
        assert not gate.released, "run() only ended because the failsafe released the model"
        # The turn was interrupted on the server, and codex dropped the model's stream.
        eventually(
            lambda: turn_status(thread, turn.id) == TurnStatus.interrupted,
            interval=0.05,
            what="the turn to be interrupted",
        )
        assert gate.wait_disconnected(1, WAIT_S), "codex kept the model's stream open"
        # The connection goes on.
        mock_model.push(MockResponse.message("After the interrupt."))
        assert thread.run("Again").final_response == "After the interrupt."
    finally:
        gate.release()
