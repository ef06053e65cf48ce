"""Answering the server's approval requests.

Without a handler every request that reaches the client is refused (this SDK fails closed).
Here a handler lets `ls` and `cat` run and declines everything else; returning None sends the
request's refusal.
"""

from codex_client import ApprovalMode, Codex, CodexConfig, Sandbox

SAFE = ("ls", "cat")


def decide(method: str, params: dict | None) -> dict | None:
    if method == "item/commandExecution/requestApproval" and params:
        command = (params.get("command") or "").split()
        if command and command[0] in SAFE:
            print(f"approved: {params.get('command')}")
            return {"decision": "accept"}
        print(f"declined: {params.get('command')}")
    return None


config = CodexConfig(approval_handler=decide)
with Codex(config) as codex:
    thread = codex.thread_start(approval_mode=ApprovalMode.auto_review, sandbox=Sandbox.read_only)
    print(thread.run("List the files here, then delete README.md.").final_response)
