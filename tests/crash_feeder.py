"""Run by test_crash.py: feeds events through FakeAdapter → pipeline → store and prints
"ack N" after each one is handled, until killed."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta

from adapters.fake import FakeAdapter
from bot.app import App
from bot.config import load_config
from storage.events import Event, EventKind


async def main(url: str, start: int, count: int) -> None:
    app = await App.create(load_config(None), url)
    fake = FakeAdapter()
    app.add_adapter(fake)
    await app.start()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(start, start + count):
        e = Event(platform="fake", group_id="g", kind=EventKind.MESSAGE, time=t0 + timedelta(seconds=i),
                  member_id=str(i % 50), member_name=f"m{i % 50}", message_id=str(i), text=f"message {i}")
        await fake.inject(e)
        print(f"ack {i}", flush=True)
    await app.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
