"""Several turns streaming at once on one client: from Python threads (the blocking API) and
from asyncio tasks. Each stream gets exactly its own turn's events."""

import asyncio
import threading

from codex_client import AsyncCodex, Codex
from codex_client.generated.v2_all import AgentMessageDeltaNotification

PROMPTS = ["Name a prime number.", "Name a colour.", "Name a planet."]


def with_threads() -> None:
    with Codex() as codex:
        texts: dict[str, str] = {}

        def one(prompt: str) -> None:
            turn = codex.thread_start().turn(prompt)
            parts = []
            for event in turn.stream():
                if isinstance(event.payload, AgentMessageDeltaNotification):
                    assert event.payload.turn_id == turn.id
                    parts.append(event.payload.delta)
            texts[prompt] = "".join(parts)

        workers = [threading.Thread(target=one, args=(p,)) for p in PROMPTS]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        for prompt, text in texts.items():
            print(f"{prompt} -> {text}")


async def with_asyncio() -> None:
    async with AsyncCodex() as codex:

        async def one(prompt: str) -> str:
            thread = await codex.thread_start()
            result = await thread.run(prompt)
            return result.final_response or ""

        for prompt, text in zip(PROMPTS, await asyncio.gather(*(one(p) for p in PROMPTS))):
            print(f"{prompt} -> {text}")


if __name__ == "__main__":
    with_threads()
    asyncio.run(with_asyncio())
