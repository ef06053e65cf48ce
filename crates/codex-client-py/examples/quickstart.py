"""Run one turn and print its answer — the README's quickstart.

Needs the runtime (`pip install codex-client` brings it) and a login (`codex login`).
"""

from codex_client import Codex, NotLoggedInError, Sandbox

try:
    with Codex() as codex:
        thread = codex.thread_start(sandbox=Sandbox.read_only)
        result = thread.run("In one sentence: what is in the current directory?")
        print(result.final_response)
        if result.usage is not None:
            print(f"tokens: {result.usage.total.total_tokens}")
except NotLoggedInError as exc:
    print(exc)
