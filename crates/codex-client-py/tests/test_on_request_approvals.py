"""Approvals of escalated commands fail closed. The mock model asks to run a command *outside*
the sandbox (``exec_command`` with ``sandbox_permissions: require_escalated`` and a
justification) on a thread whose policy is ``on-request``, reviewed by the user: codex then asks
this client. Without a handler, with a handler that raises, or with one that answers a decision
the protocol does not name, the command is declined and never runs; ``accept_approvals`` (the
official SDK's behaviour, as an explicit choice) runs it. Each test also checks what codex told
the model the command did (the follow-up request's tool output), and the marker file the
command would create.

(The ``untrusted`` policy, where codex asks for every command, is covered in
``test_app_server.py``; ``ApprovalMode``'s presets are ``never`` and the server's automatic
reviewer, so the thread is started with the raw params.)"""

from __future__ import annotations

from pathlib import Path

import codex_client
from _helpers import reviewed_thread
from codex_client import Codex, Thread
from codex_client.generated.v2_all import (
    AgentMessageThreadItem,
    CommandExecutionStatus,
    CommandExecutionThreadItem,
    TurnStatus,
)
from codex_client.testing import Matcher, MockResponse

APPROVAL = "item/commandExecution/requestApproval"
JUSTIFICATION = "The mock model writes a marker outside the sandbox."
COMMAND = "touch marker.txt && echo marker-made"
WAIT_S = 60.0


def on_request_thread(codex: Codex, workdir: Path) -> Thread:
    return reviewed_thread(codex, workdir, "on-request")


def script(mock) -> None:
    mock.route(
        Matcher.user_text_contains("[marker]"),
        MockResponse.exec_command(COMMAND, escalated=JUSTIFICATION),
        MockResponse.message("Done."),
    )


def command_of(result) -> CommandExecutionThreadItem:
    [command] = [i.root for i in result.items if isinstance(i.root, CommandExecutionThreadItem)]
    return command


def tool_output(mock) -> str:
    """What codex told the model the command did (the follow-up request's tool output)."""
    follow_up = mock.wait_for_requests(2, timeout=WAIT_S)[1]
    assert follow_up.ends_with_tool_output()
    [(_, output)] = follow_up.function_call_outputs()
    return output


def assert_declined(result, harness) -> None:
    assert result.status == TurnStatus.completed
    command = command_of(result)
    assert command.status == CommandExecutionStatus.declined
    assert "marker-made" not in (command.aggregated_output or "")
    assert not (harness.workdir / "marker.txt").exists()
    output = tool_output(harness.mock)
    assert "marker-made" not in output
    assert "rejected" in output.lower(), output
    # The model was told, and the turn went on to its answer.
    assert isinstance(result.items[-1].root, AgentMessageThreadItem)
    assert result.final_response == "Done."


def test_an_escalation_without_a_handler_is_declined_and_the_command_does_not_run(codex_harness):
    script(codex_harness.mock)
    with codex_harness.codex() as codex:
        result = on_request_thread(codex, codex_harness.workdir).run("[marker] make the marker")
    assert_declined(result, codex_harness)


def test_accept_approvals_accepts_the_escalation_and_the_command_runs(codex_harness):
    script(codex_harness.mock)
    asked: list[tuple[str, dict | None]] = []

    def handler(method, params):
        asked.append((method, params))
        return codex_client.accept_approvals(method, params)

    with codex_harness.codex(approval_handler=handler) as codex:
        thread = on_request_thread(codex, codex_harness.workdir)
        result = thread.run("[marker] make the marker")

    # The handler was asked once, with what it needs to decide.
    [(method, params)] = asked
    assert method == APPROVAL
    assert params is not None
    assert params["threadId"] == thread.id
    assert params["turnId"] == result.id
    assert "touch marker.txt" in params["command"]
    assert params["reason"] == JUSTIFICATION
    command = command_of(result)
    assert command.status == CommandExecutionStatus.completed
    assert "marker-made" in (command.aggregated_output or "")
    assert (codex_harness.workdir / "marker.txt").is_file()
    assert "marker-made" in tool_output(codex_harness.mock)
    assert result.final_response == "Done."


def test_a_handler_that_raises_fails_closed_and_says_so(codex_harness, capsys):
    script(codex_harness.mock)
    asked: list[str] = []

    def handler(method, params):
        asked.append(method)
        raise ValueError("the handler broke")

    with codex_harness.codex(approval_handler=handler) as codex:
        result = on_request_thread(codex, codex_harness.workdir).run("[marker] make the marker")

    assert asked == [APPROVAL]
    assert_declined(result, codex_harness)
    # Not silent: the handler's exception is printed.
    assert "the handler broke" in capsys.readouterr().err


def test_a_handler_answering_an_unknown_decision_fails_closed(codex_harness):
    script(codex_harness.mock)
    asked: list[str] = []

    def handler(method, params):
        asked.append(method)
        return {"decision": "maybe"}

    with codex_harness.codex(approval_handler=handler) as codex:
        result = on_request_thread(codex, codex_harness.workdir).run("[marker] make the marker")

    assert asked == [APPROVAL]
    assert_declined(result, codex_harness)


def test_a_handler_returning_none_refuses(codex_harness):
    script(codex_harness.mock)
    asked: list[str] = []

    def handler(method, params):
        asked.append(method)
        return None

    with codex_harness.codex(approval_handler=handler) as codex:
        result = on_request_thread(codex, codex_harness.workdir).run("[marker] make the marker")

    assert asked == [APPROVAL]
    assert_declined(result, codex_harness)
