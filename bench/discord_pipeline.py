"""Messages through the whole bot: simulated Discord (simcord → discord.py → adapter →
pipeline → SQLite) against the same pipeline fed directly by the in-memory FakeAdapter.

The difference is what the Discord edge costs per message (simcord's own simulation is
included, so the real adapter is cheaper than this shows).

    /work/venv/bin/python -m bench.discord_pipeline [N]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import simcord

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from discord_world import build_world, make_app  # noqa: E402

from adapters.fake import FakeAdapter  # noqa: E402
from bot.app import App  # noqa: E402
from bot.config import load_config  # noqa: E402
from storage.events import Event, EventKind  # noqa: E402

#: Ordinary course chat, the same on both paths (moderation has nothing to flag).
TEXTS = [
    "Has anyone finished lesson {i} yet?",
    "Yes, the rubric for part {i} is in the pinned message.",
    "I am stuck on the data cleaning step, any hints?",
    "Try dropping the duplicate rows first, then check the types.",
    "Thanks, that worked for me too.",
    "When is the next live session?",
    "Thursday at 18:00 UTC, I think.",
]


async def fake_rate(db: Path, n: int) -> float:
    app = await App.create(load_config(None, require_secrets=False), f"sqlite:///{db}")
    fake = FakeAdapter("fake")
    app.add_adapter(fake)
    await app.start()
    t0 = datetime(2026, 11, 20, tzinfo=UTC)
    start = time.perf_counter()
    for i in range(n):
        await fake.inject(Event(platform="fake", group_id="g", kind=EventKind.MESSAGE, time=t0 + timedelta(seconds=i),
                                member_id=f"m{i % 4}", member_name=f"m{i % 4}", message_id=str(i), text=TEXTS[i % len(TEXTS)].format(i=i)))
    took = time.perf_counter() - start
    await app.stop()
    return n / took


async def discord_rate(db: Path, n: int) -> float:
    app, adapter = await make_app(db)
    async with simcord.run(adapter.client) as env:
        world = build_world(env)
        await env.settle()
        members = [world.alice, world.bob, world.mod, world.mentor]
        start = time.perf_counter()
        for i in range(n):
            await members[i % 4].send(world.general, TEXTS[i % len(TEXTS)].format(i=i))
        took = time.perf_counter() - start
    group = await app.store.group("discord", world.gid)
    stored = await app.store.events(group.pk, kinds=[EventKind.MESSAGE])
    assert len([e for e in stored if not e.is_bot]) == n  # every member message, once
    await app.stop()
    return n / took


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fake = await fake_rate(Path(tmp) / "fake.db", n)
        disc = await discord_rate(Path(tmp) / "discord.db", n)
    print(f"messages: {n}")
    print(f"FakeAdapter → pipeline → SQLite (reference): {fake:,.0f} msg/s")
    print(f"simcord → discord.py → DiscordAdapter → pipeline → SQLite: {disc:,.0f} msg/s")
    print(f"Discord path / reference throughput: {disc / fake:.2f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 500))
