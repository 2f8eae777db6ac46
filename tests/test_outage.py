"""The database goes away mid-run: events are held in the local spool, moderators are
told once, and everything is written through exactly once when it returns."""

from __future__ import annotations

import uuid

import pytest

from bot.testing import BotHarness
from storage.events import EventKind
from tests.conftest import POSTGRES_URL


async def count_messages(h) -> int:
    return await h.app.store.count_events(h.group.pk, EventKind.MESSAGE)


async def _outage_roundtrip(h, break_db, fix_db):
    seen: list[str] = []

    async def listener(app, state, detail):
        seen.append(state)

    h.app.pipeline.spool.listeners.append(listener)
    for i in range(5):
        await h.say("alice", f"before {i}")
    assert await count_messages(h) == 5
    await break_db()
    for i in range(20):
        await h.say("bob", f"during {i}")
    e = h.messages[-1]
    await h.adapter.inject(e)  # a redelivery while down
    assert seen == ["down"]  # told once, not 21 times
    assert len(h.app.pipeline.spool) == 21
    assert await h.app.pipeline.spool.drain() == 0  # still down: nothing lost, nothing done
    await fix_db()
    assert await h.app.pipeline.spool.drain() == 21
    assert seen == ["down", "up"]
    assert await count_messages(h) == 25  # every message once, the redelivery not twice
    await h.say("carol", "after")
    assert await count_messages(h) == 26


async def test_sqlite_outage(tmp_path):
    h = await BotHarness.create(tmp_path, config='[database]\nretry_seconds = 0\n[moderation]\nalerts_chat = "mods"\n')
    db = tmp_path / "bot.db"
    saved = {}

    async def break_db():
        await h.app.store.engine.dispose()
        saved["bytes"] = db.read_bytes()
        for suffix in ("-wal", "-shm"):
            (tmp_path / f"bot.db{suffix}").unlink(missing_ok=True)
        db.write_bytes(b"garbage!" * 512)

    async def fix_db():
        await h.app.store.engine.dispose()
        db.write_bytes(saved["bytes"])

    try:
        await _outage_roundtrip(h, break_db, fix_db)
        notices = [r.text for r in h.adapter.sent if r.group_id == "mods" and "database" in r.text]
        assert len(notices) == 2 and "unreachable" in notices[0] and "back" in notices[1]
    finally:
        await h.close()


@pytest.mark.skipif(not POSTGRES_URL, reason="set COMMUNITYBOT_TEST_POSTGRES_URL to run against PostgreSQL")
async def test_postgresql_outage(tmp_path):
    import asyncpg

    name = "cbt_outage_" + uuid.uuid4().hex[:8]
    admin = await asyncpg.connect(POSTGRES_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    h = await BotHarness.create(tmp_path, db_url=url,
                                config=f'[database]\nretry_seconds = 0\nspool_path = "{tmp_path / "spool.db"}"\n')

    async def break_db():
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)

    async def fix_db():
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    try:
        await _outage_roundtrip(h, break_db, fix_db)
    finally:
        await h.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_spool_left_by_a_crash_is_written_through_at_start(tmp_path):
    from storage.spool import Spool

    h = await BotHarness.create(tmp_path)
    e = await h.say("alice", "stored")
    await h.close()
    spool = Spool(tmp_path / "bot.spool.db")
    spool.put(e.with_(message_id="77", text="held when the process died"))
    spool.put(e)  # already stored: must not count twice
    spool.close()
    h = await BotHarness.create(tmp_path)
    try:
        assert await count_messages(h) == 2
        assert len(h.app.pipeline.spool) == 0
    finally:
        await h.close()
