"""What routing an event to a shard worker costs (`bot.shard_channel`): the parent's
send, the worker's receive and acknowledgement, the parent's receive, over a real
socketpair, in one process so both ends' CPU is counted. Events are the load
benchmark's. The reference is pickling and unpickling the same events and answers in
memory (no socket), so the ratio shows what the framing and the system calls add.

    python bench/shard_ipc.py
"""

from __future__ import annotations

import asyncio
import pickle
import random
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import make_event  # noqa: E402
from bot.shard_channel import Channel  # noqa: E402

DONE = {"worker": 0, "seq": 0, "new": True, "replies": 0, "actions": 0, "errors": []}


async def round_trips(events: list, per_turn: int) -> tuple[float, int]:
    """CPU seconds per message for event → worker → "done" → parent; frames sent."""
    a, b = socket.socketpair()
    parent, worker = await Channel.open(a), await Channel.open(b)
    loop = asyncio.get_running_loop()
    pending: dict[int, asyncio.Future] = {}

    async def serve() -> None:
        async for m in worker.messages_in():
            worker.send(("done", m[1], DONE))

    async def acks() -> None:
        async for m in parent.messages_in():
            pending.pop(m[1]).set_result(m[2])

    tasks = [asyncio.create_task(serve()), asyncio.create_task(acks())]
    c0 = time.process_time()
    futs = []
    for i, e in enumerate(events):
        fut = pending[i] = loop.create_future()
        futs.append(fut)
        parent.send(("event", i, e))
        if i % per_turn == per_turn - 1:
            await asyncio.sleep(0)  # a new loop turn, as when the next update arrives later
    await asyncio.gather(*futs)
    cpu = time.process_time() - c0
    frames = parent.frames
    await parent.close()
    await worker.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    return cpu / len(events), frames


def reference(events: list, per_turn: int) -> float:
    """Pickle and unpickle the same frames and answers in memory."""
    c0 = time.process_time()
    for k in range(0, len(events), per_turn):
        batch = [("event", k + j, e) for j, e in enumerate(events[k:k + per_turn])]
        pickle.loads(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
        answers = [("done", k + j, DONE) for j in range(len(batch))]
        pickle.loads(pickle.dumps(answers, protocol=pickle.HIGHEST_PROTOCOL))
    return (time.process_time() - c0) / len(events)


def main() -> None:
    rng = random.Random(1)
    t0 = datetime(2026, 3, 2, tzinfo=UTC)
    events = [make_event(i, 1000, rng, t0) for i in range(20_000)]
    for per_turn in (1, 10, 100):
        cpu, frames = asyncio.run(round_trips(events, per_turn))
        ref = reference(events, per_turn)
        print(f"{per_turn:>3} events per loop turn: {cpu * 1e6:.1f} µs CPU per event round trip, both ends "
              f"({frames:,} frames); pickling alone {ref * 1e6:.1f} µs → {cpu / ref:.1f}×")


if __name__ == "__main__":
    main()
