"""The package against the real app-server, offline: the test kit's mock model on 127.0.0.1
and the runtime installed with the package. What users rely on: a turn's result, its stream,
many turns at once from threads and from asyncio, failures as values, approvals failing closed,
and the client's behaviour when the server misbehaves or dies."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

import codex_client
from _helpers import reviewed_thread
from codex_client import (
    AsyncCodex,
    Codex,
    CodexConfig,
    RequestTimeoutError,
    Thread,
    TransportClosedError,
    TurnFailedError,
)
from codex_client.generated.v2_all import (
    AgentMessageDeltaNotification,
    ModelListResponse,
    TurnCompletedNotification,
    TurnStatus,
)
from codex_client.models import LAGGED_METHOD
from codex_client.testing import Matcher, MockResponse, StallGate

FAKE = Path(__file__).with_name("fake_app_server.py")
WAIT_S = 60.0


def payload_turn_id(payload) -> str | None:
    turn_id = getattr(payload, "turn_id", None)
    if turn_id is None and isinstance(payload, TurnCompletedNotification):
        return payload.turn.id
    return turn_id


# --- one turn ---------------------------------------------------------------------------------


def test_run_collects_the_answer_items_and_usage(codex, mock_model):
    mock_model.push(MockResponse.deltas(["Two ", "crates."]))
    result = codex.thread_start().run("Summarise")
    assert result.final_response == "Two crates."
    assert result.status == TurnStatus.completed
    assert [item.root.type for item in result.items][-1] == "agentMessage"
    assert result.usage is not None and result.usage.total.total_tokens > 0
    assert mock_model.requests()[0].last_user_text() == "Summarise"


def test_stream_yields_the_turns_events_in_order_and_ends_at_its_completion(codex, mock_model):
    mock_model.push(MockResponse.deltas(["a", "b", "c"]))
    turn = codex.thread_start().turn("Stream it")
    events = list(turn.stream())
    methods = [e.method for e in events]
    assert methods[-1] == "turn/completed"
    assert methods.index("turn/started") < methods.index("item/agentMessage/delta")
    deltas = [e.payload.delta for e in events if isinstance(e.payload, AgentMessageDeltaNotification)]
    assert deltas == ["a", "b", "c"]
    assert all(payload_turn_id(e.payload) in (None, turn.id) for e in events)
    assert LAGGED_METHOD not in methods


def test_a_failed_turn_raises_turn_failed_error_which_is_a_runtime_error(codex, mock_model):
    mock_model.push(MockResponse.response_failed("boom from the mock model"))
    with pytest.raises(RuntimeError, match="boom from the mock model") as raised:
        codex.thread_start().run("Fail")
    assert isinstance(raised.value, TurnFailedError)
    assert raised.value.turn is not None and raised.value.turn.status == TurnStatus.failed


# --- many turns at once -----------------------------------------------------------------------

TURNS = 8
DELTAS = 20


def script_tagged_turns(mock_model) -> list[str]:
    """One route per turn: the prompt ``[tN]`` gets the deltas ``tN:0 .. tN:19``."""
    tags = [f"t{i}" for i in range(TURNS)]
    for tag in tags:
        mock_model.route(
            Matcher.user_text_contains(f"[{tag}]"),
            MockResponse.deltas([f"{tag}:{k} " for k in range(DELTAS)]),
        )
    return tags


def check_own_events(tag: str, turn_id: str, events) -> None:
    deltas = [e.payload.delta for e in events if isinstance(e.payload, AgentMessageDeltaNotification)]
    assert deltas == [f"{tag}:{k} " for k in range(DELTAS)], tag
    for e in events:
        assert payload_turn_id(e.payload) in (None, turn_id), (tag, e.method)
    assert events[-1].method == "turn/completed"


def test_eight_turns_streamed_from_python_threads_each_get_exactly_their_events(codex, mock_model):
    tags = script_tagged_turns(mock_model)
    results: dict[str, tuple[str, list]] = {}
    errors: list[BaseException] = []

    def one(tag: str) -> None:
        try:
            turn = codex.thread_start().turn(f"[{tag}] go")
            results[tag] = (turn.id, list(turn.stream()))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=one, args=(tag,)) for tag in tags]
    for w in workers:
        w.start()
    for w in workers:
        w.join(WAIT_S)
    assert not errors, errors
    assert sorted(results) == sorted(tags)
    for tag, (turn_id, events) in results.items():
        check_own_events(tag, turn_id, events)


def test_eight_turns_streamed_from_asyncio_tasks_each_get_exactly_their_events(codex_harness):
    tags = script_tagged_turns(codex_harness.mock)

    async def main():
        async with codex_harness.async_codex() as codex:

            async def one(tag: str):
                thread = await codex.thread_start()
                turn = await thread.turn(f"[{tag}] go")
                return tag, turn.id, [e async for e in turn.stream()]

            return await asyncio.wait_for(asyncio.gather(*(one(t) for t in tags)), WAIT_S)

    for tag, turn_id, events in asyncio.run(main()):
        check_own_events(tag, turn_id, events)


# --- approvals --------------------------------------------------------------------------------


def untrusted_thread(codex: Codex, workdir: Path) -> Thread:
    return reviewed_thread(codex, workdir, "untrusted")


def command_items(result):
    return [item.root for item in result.items if item.root.type == "commandExecution"]


def script_command(mock_model, cmd: str, reply: str) -> None:
    mock_model.route(Matcher.any(), MockResponse.exec_command(cmd), MockResponse.message(reply))


def test_without_a_handler_a_command_approval_is_declined(codex_harness):
    script_command(codex_harness.mock, "touch declined.txt && echo ran", "Understood.")
    with codex_harness.codex() as codex:
        result = untrusted_thread(codex, codex_harness.workdir).run("Create the marker file")
    [command] = command_items(result)
    assert command.status.value == "declined"
    assert not (codex_harness.workdir / "declined.txt").exists()
    assert result.final_response == "Understood."


def test_accept_approvals_is_the_official_behaviour_as_a_choice(codex_harness):
    script_command(codex_harness.mock, "touch accepted.txt && echo ran", "Done.")
    with codex_harness.codex(approval_handler=codex_client.accept_approvals) as codex:
        result = untrusted_thread(codex, codex_harness.workdir).run("Create the marker file")
    [command] = command_items(result)
    assert command.status.value == "completed"
    assert (codex_harness.workdir / "accepted.txt").exists()


def test_a_handler_that_raises_fails_closed(codex_harness):
    script_command(codex_harness.mock, "touch raised.txt && echo ran", "Understood.")
    asked: list[str] = []

    def broken(method, params):
        asked.append(method)
        raise ValueError("handler bug")

    with codex_harness.codex(approval_handler=broken) as codex:
        result = untrusted_thread(codex, codex_harness.workdir).run("Create the marker file")
    assert asked == ["item/commandExecution/requestApproval"]
    [command] = command_items(result)
    assert command.status.value == "declined"
    assert not (codex_harness.workdir / "raised.txt").exists()


def test_a_decision_the_protocol_does_not_name_fails_closed(codex_harness):
    # An answer that parses but whose decision is not one the protocol names is refused: it
    # would reach the server as sent, and an unread decision must not become an accept.
    script_command(codex_harness.mock, "touch maybe.txt && echo ran", "Understood.")
    asked: list[str] = []

    def undecided(method, params):
        asked.append(method)
        return {"decision": "maybe"}

    with codex_harness.codex(approval_handler=undecided) as codex:
        result = untrusted_thread(codex, codex_harness.workdir).run("Create the marker file")
    assert asked == ["item/commandExecution/requestApproval"]
    [command] = command_items(result)
    assert command.status.value == "declined"
    assert not (codex_harness.workdir / "maybe.txt").exists()


# --- a consumer that stops -------------------------------------------------------------------


def test_a_consumer_that_stops_loses_only_a_counted_gap_and_still_gets_its_end(codex, mock_model):
    # One turn streams 2,000 deltas (the app-server sends them in a few milliseconds) while its
    # consumer takes nothing for three seconds, three times the reader's grace: the stop is the
    # scenario. Its queue (128 events) fills, the reader waits the grace, then goes on without
    # it; what it missed is a gap with its count, at its place, before its turn/completed.
    total = 2_000
    mock_model.route(Matcher.any(), MockResponse.deltas([f"<{i}>" for i in range(total)]))
    handle = codex.thread_start().turn("flood")
    mock_model.wait_for_requests(1, WAIT_S)
    time.sleep(3.0)
    events = list(handle.stream())
    received = [e for e in events if e.method != LAGGED_METHOD]
    gaps = [e.payload.count for e in events if e.method == LAGGED_METHOD]
    assert events[-1].method == "turn/completed" and payload_turn_id(events[-1].payload) == handle.id
    assert gaps and all(count > 0 for count in gaps)
    deltas = [int(e.payload.delta.strip("<>")) for e in received if e.method == "item/agentMessage/delta"]
    # Never silent: every delta it did not get is counted (a gap may count other events too);
    # what it got is in order, none twice.
    assert len(deltas) < total and len(deltas) + sum(gaps) >= total
    assert deltas == sorted(set(deltas))


# --- cancellation -----------------------------------------------------------------------------


def interrupted_status(codex_harness, turn_id: str, thread_id: str, client) -> str:
    read = client.thread_read(thread_id, include_turns=True)
    [turn] = [t for t in read.thread.turns if t.id == turn_id]
    return turn.status.value


def test_cancelling_the_task_that_runs_a_turn_interrupts_it(codex_harness):
    gate = StallGate()
    codex_harness.mock.push(MockResponse.stalled(["partial "], gate))

    async def main():
        async with codex_harness.async_codex() as codex:
            thread = await codex.thread_start()
            turn = await thread.turn("Hold on")
            task = asyncio.create_task(turn.run())
            assert await asyncio.to_thread(gate.wait_stalled, 1, WAIT_S)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            completed = await asyncio.wait_for(codex._client.wait_for_turn_completed(turn.id), WAIT_S)
            return completed.turn.status

    try:
        assert asyncio.run(main()) == TurnStatus.interrupted
    finally:
        gate.release()


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals")
def test_ctrl_c_while_waiting_for_a_turn_interrupts_it(codex, mock_model):
    gate = StallGate()
    mock_model.push(MockResponse.stalled(["partial "], gate))
    turn = codex.thread_start().turn("Hold on")
    assert gate.wait_stalled(1, WAIT_S)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            turn.run()
        completed = codex._client.wait_for_turn_completed(turn.id)
        assert completed.turn.status == TurnStatus.interrupted
    finally:
        timer.cancel()
        gate.release()


# --- a server that misbehaves -----------------------------------------------------------------


def fake(mode: str, **fields) -> CodexConfig:
    return CodexConfig(launch_args_override=(sys.executable, str(FAKE), mode), **fields)


def test_a_request_without_an_answer_times_out():
    with Codex(fake("only-initialize", request_timeout_s=0.5)) as codex:
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError):
            codex.models()
        assert time.monotonic() - started < 10
        assert isinstance(RequestTimeoutError("x"), TimeoutError)


def test_close_kills_an_app_server_that_does_not_exit_within_the_official_clients_bound():
    # stdin closed, 1 s; SIGTERM (ignored), 1 s; SIGKILL: about 2 s, as the official client
    # (SIGTERM, 2 s, SIGKILL), not the core's 5 s a step. The bound leaves room for a loaded
    # machine; it fails at the core's default.
    codex = Codex(fake("linger"))
    pid = codex._client._native.pid()
    started = time.monotonic()
    codex.close()
    elapsed = time.monotonic() - started
    assert 1.9 < elapsed < 4.5, elapsed
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: gone, not a zombie


def test_malformed_server_output_loses_nothing_else():
    with Codex(fake("garbage")) as codex:
        for _ in range(3):
            assert isinstance(codex.models(), ModelListResponse)


def test_a_missing_binary_is_a_file_not_found_error():
    with pytest.raises(FileNotFoundError, match="/nonexistent/codex"):
        Codex(CodexConfig(codex_bin="/nonexistent/codex"))


def test_a_dead_app_server_ends_a_waiting_stream_with_transport_closed(codex, mock_model):
    gate = StallGate()
    mock_model.push(MockResponse.stalled(["partial "], gate))
    turn = codex.thread_start().turn("Hold on")
    assert gate.wait_stalled(1, WAIT_S)
    threading.Timer(0.2, os.kill, (codex._client._native.pid(), signal.SIGKILL)).start()
    try:
        with pytest.raises(TransportClosedError):
            for _ in turn.stream():
                pass
        with pytest.raises(TransportClosedError):
            codex.models()
    finally:
        gate.release()
