"""Groups sharded over worker processes (`bot.shards`): real workers, a real database,
the FakeAdapter in the parent."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from adapters.fake import FakeAdapter
from bot.config import load_config
from bot.shards import Shards, WorkerDied, shard_of
from storage.events import Event, EventKind
from storage.store import EventStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: A hang guard only: the assertions never depend on how long anything takes.
GUARD = 120


def message(group: str, i: int, member: str = "u1", text_: str | None = None) -> Event:
    kind = EventKind.COMMAND if text_ and text_.startswith("/") else EventKind.MESSAGE
    return Event(platform="fake", group_id=group, group_title=f"Group {group}", kind=kind,
                 time=T0 + timedelta(seconds=i), member_id=member, member_name=member,
                 message_id=f"{group}-{i}", text=text_ or f"message {i} about the capstone rubric")


def groups_on_both(count: int = 6) -> list[str]:
    """Group ids that land on both of two workers (so the test exercises both)."""
    groups = [f"g{i}" for i in range(count)]
    assert {shard_of("fake", g, 2) for g in groups} == {0, 1}
    return groups


async def start(url: str) -> tuple[Shards, FakeAdapter]:
    shards = Shards(load_config(None), url, 2)
    fake = FakeAdapter()
    shards.add_adapter(fake)
    await asyncio.wait_for(shards.start(), GUARD)
    return shards, fake


async def stored_keys(url: str) -> list[tuple[str, str]]:
    store = await EventStore.open(url)
    try:
        async with store.engine.connect() as conn:
            rows = await conn.execute(text("SELECT g.group_id, e.key FROM events e JOIN groups g ON g.id = e.group_pk ORDER BY e.id"))
            return [(r[0], r[1]) for r in rows]
    finally:
        await store.close()


async def test_groups_are_sharded_stored_once_and_answered(db_url):
    shards, fake = await start(db_url)
    try:
        groups = groups_on_both()
        events = [message(g, i, member=f"u{i % 7}") for i in range(10) for g in groups]
        results = await asyncio.wait_for(asyncio.gather(*(fake.inject(e) for e in events)), GUARD)
        assert all(r.new for r in results)

        # One group, one worker, in the order the platform delivered its events.
        for g in groups:
            mine = [r for e, r in zip(events, results, strict=True) if e.group_id == g]
            assert {r.worker for r in mine} == {shard_of("fake", g, 2)}
            assert [r.seq for r in mine] == sorted(r.seq for r in mine)

        # A command's reply goes out through the parent's (real) adapter.
        before = len(fake.sent)
        r = await asyncio.wait_for(fake.inject(message(groups[1], 100, text_="/help")), GUARD)
        assert r.replies == 1 and r.worker == shard_of("fake", groups[1], 2)
        help_reply = fake.sent[before:]
        assert [s.group_id for s in help_reply] == [groups[1]]
        assert "/points" in help_reply[0].text

        # A redelivery is stored once and acted on once.
        again = await asyncio.wait_for(fake.inject(events[0]), GUARD)
        assert not again.new

        # Only the primary worker runs the scheduled jobs.
        stats = sorted(await asyncio.wait_for(shards.stats(), GUARD), key=lambda s: s["worker"])
        assert [s["leads_scheduler"] for s in stats] == [True, False]
    finally:
        await asyncio.wait_for(shards.stop(), GUARD)
    assert shards.error is None
    assert all(s.proc.returncode == 0 for s in shards.shards)
    assert len(shards.final_stats()) == 2

    keys = await stored_keys(db_url)
    assert len(keys) == len(set(keys)) == len(events) + 1
    for g in groups:  # and stored in each group's delivery order
        assert [k for gid, k in keys if gid == g and k.startswith("msg:")][:10] == [f"msg:{g}-{i}" for i in range(10)]


async def test_stop_finishes_events_in_flight_and_flushes(tmp_path):
    url = f"sqlite:///{tmp_path / 'stop.db'}"
    shards, fake = await start(url)
    groups = groups_on_both()
    events = [message(g, i) for i in range(20) for g in groups]
    # Commands too: their replies need the parent while the workers are stopping.
    events += [message(g, 100, text_="/help") for g in groups]
    tasks = [asyncio.create_task(fake.inject(e)) for e in events]
    await asyncio.sleep(0)  # all sent to the workers, none handled yet, as the parent stops
    await asyncio.wait_for(shards.stop(), GUARD)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert shards.error is None
    assert all(s.proc.returncode == 0 for s in shards.shards)
    assert all(not isinstance(r, BaseException) and r.new for r in results)  # every one acknowledged
    assert [r.replies for r in results[-len(groups):]] == [1] * len(groups)
    assert sorted(r.group_id for r in fake.sent if r.text.startswith("Commands")) == sorted(groups)
    stored = [k for _, k in await stored_keys(url)]
    assert sorted(stored) == sorted(e.key for e in events)


async def test_a_killed_worker_is_reported_and_the_others_go_on(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    shards, fake = await start(url)
    try:
        groups = groups_on_both()
        on0 = next(g for g in groups if shard_of("fake", g, 2) == 0)
        on1 = next(g for g in groups if shard_of("fake", g, 2) == 1)
        await asyncio.wait_for(fake.inject(message(on1, 1)), GUARD)
        os.kill(shards.shards[1].proc.pid, signal.SIGKILL)
        await asyncio.wait_for(shards.failed.wait(), GUARD)
        assert "shard worker 1" in shards.error and "status -9" in shards.error
        assert "shard worker 1" in caplog.text
        with pytest.raises(WorkerDied):
            await asyncio.wait_for(fake.inject(message(on1, 2)), GUARD)
        r = await asyncio.wait_for(fake.inject(message(on0, 1)), GUARD)
        assert r.new and r.worker == 0
    finally:
        await asyncio.wait_for(shards.stop(), GUARD)
    assert shards.shards[0].proc.returncode == 0
    keys = {k for _, k in await stored_keys(url)}
    assert {f"msg:{on1}-1", f"msg:{on0}-1"} <= keys and f"msg:{on1}-2" not in keys


def test_a_communitys_chats_share_one_worker():
    from bot.config import load_config_text

    cfg = load_config_text('[[communities]]\nid = "course"\ntelegram = [-1001, -1002, -1003, -1004]\ndiscord = ["77"]\n',
                           require_secrets=False)
    shards = Shards(cfg, "sqlite:///unused.db", 4)
    members = [("telegram", "-1001"), ("telegram", "-1002"), ("telegram", "-1003"), ("telegram", "-1004"), ("discord", "77")]
    assert len({shards.shard_for(p, g) for p, g in members}) == 1
    # Chats outside any community spread by their own ids, the same in every process.
    assert {shards.shard_for("telegram", str(-2000 - i)) for i in range(40)} == {0, 1, 2, 3}
    assert shards.shard_for("telegram", "-2001") == shard_of("telegram", "-2001", 4)
