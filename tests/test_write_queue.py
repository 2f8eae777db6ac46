"""Group commit (`storage.batch.WriteQueue`): concurrent appends and queued writes share
transactions, yet every event is stored exactly once, every caller learns whether its
event was new, deferred writes are durable before the pipeline acknowledges an event, a
bad write fails alone, and closing the store flushes what is queued. Both backends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from adapters.fake import FakeAdapter
from bot.app import App
from bot.config import load_config
from storage.batch import DEFERRING, TurnWrites
from storage.events import Event, EventKind
from storage.models import AuditEntry
from storage.moderation import ModerationStore, ModFlag
from storage.store import EventStore

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def msg(i: int, member: str = "1", group: str = "g1") -> Event:
    return Event(platform="fake", group_id=group, group_title="G", kind=EventKind.MESSAGE, time=T0 + timedelta(seconds=i),
                 member_id=member, member_name=f"user{member}", message_id=str(i), text=f"message {i}")


@pytest.fixture
async def store(db_url):
    s = await EventStore.open(db_url)
    yield s
    await s.close()


async def count(store: EventStore, sql: str) -> int:
    async with store.engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar() or 0)


async def test_concurrent_appends_share_rounds_and_count_once(store):
    events = [msg(i, member=str(i % 7), group=f"g{i % 3}") for i in range(300)]
    # Every event twice, at once: the duplicates land in the same rounds as the originals.
    results = await asyncio.gather(*(store.append(e) for e in events + events))
    assert results[:300] == [True] * 300  # the first of two equal keys wins
    assert results[300:] == [False] * 300
    assert await store.count_events() == 300
    assert await count(store, "SELECT count(DISTINCT group_pk || ':' || key) FROM events") == 300
    assert store.writes.rounds < 300  # shared transactions, not one per event


async def test_same_counts_as_the_unbuffered_import_path(db_url, tmp_path):
    events = [msg(i, member=str(i % 11), group=f"g{i % 4}") for i in range(200)]
    live = await EventStore.open(db_url)
    try:
        await asyncio.gather(*(live.append(e) for e in events))
        res = await live.append_many(events)  # the import path: everything already there
        assert (res.new, res.duplicate) == (0, 200)
        live_counts = [await count(live, f"SELECT count(*) FROM {t}") for t in ("events", "members", "group_members", "groups")]
    finally:
        await live.close()
    other = await EventStore.open(f"sqlite:///{tmp_path / 'import.db'}")
    try:
        res = await other.append_many(events)
        assert (res.new, res.duplicate) == (200, 0)
        assert [await count(other, f"SELECT count(*) FROM {t}") for t in ("events", "members", "group_members", "groups")] == live_counts
    finally:
        await other.close()


async def test_deferred_writes_are_flushed_on_close(db_url):
    s = await EventStore.open(db_url)
    g = await s.ensure_group("fake", "g1", "G")
    token = DEFERRING.set(True)
    try:
        for i in range(25):
            await s.audit(g.pk, "test", "deferred", {"i": i})
    finally:
        DEFERRING.reset(token)
    assert s.writes.pending == 25  # queued, not yet written
    await s.close()
    s2 = await EventStore.open(db_url)
    try:
        assert len(await s2.audit_log(g.pk)) == 25
    finally:
        await s2.close()


async def test_updates_of_one_row_fold_into_the_latest_values(store):
    g = await store.ensure_group("fake", "g1", "G")
    mod = ModerationStore(store.engine, store._insert, store.writes)
    flag, created = await mod.create_flag(g.pk, "msg:1", 1.0, kind="auto", member_id="1", members=[["1", "1"]])
    assert created
    token = DEFERRING.set(True)
    try:
        for n in range(2, 6):
            await mod.update_flag(flag["id"], members=[["1", str(i)] for i in range(1, n + 1)], count=1, updated_ts=float(n))
        await mod.update_flag(flag["id"], status="acted", action="delete")
    finally:
        DEFERRING.reset(token)
    await store.writes.barrier()
    got = await mod.flag(flag["id"])
    assert got["members"] == [("1", str(i)) for i in range(1, 6)]
    assert (got["updated_ts"], got["status"], got["action"]) == (5.0, "acted", "delete")


async def test_a_failing_write_fails_alone(store):
    g = await store.ensure_group("fake", "g1", "G")

    async def bad(conn):
        await conn.execute(text("INSERT INTO no_such_table VALUES (1)"))

    async def good(conn):
        await conn.execute(AuditEntry.__table__.insert().values(group_pk=g.pk, ts=1.0, actor="t", action="good", detail=""))
        return "ok"

    store.writes.defer(bad)  # a deferred write's failure is logged, not raised
    results = await asyncio.gather(store.append(msg(1)), store.writes.run(bad), store.writes.run(good), return_exceptions=True)
    assert results[0] is True
    assert isinstance(results[1], Exception)
    assert results[2] == "ok"
    assert await store.count_events() == 1
    assert [r["action"] for r in await store.audit_log(g.pk)] == ["good"]


async def test_acknowledged_means_durable_with_its_derived_writes(db_url):
    """What a turn queued (audit rows, flags) is committed before `handle` returns, so
    a crash right after the acknowledgement loses nothing: another connection sees it."""
    app = await App.create(load_config(None), db_url)
    fake = FakeAdapter()
    app.add_adapter(fake)
    await app.start()
    try:
        for i in range(12):  # one member, twelve messages in twelve seconds: a flood
            await fake.inject(msg(i))
        assert app.store.writes.pending == 0
        probe = await EventStore.open(db_url, migrate=False)
        try:
            assert await probe.count_events() == 12
            async with probe.engine.connect() as conn:
                flags = (await conn.execute(select(ModFlag.members, ModFlag.count))).all()
                audits = (await conn.execute(select(func.count()).select_from(AuditEntry))).scalar()
            # One flag for the member's whole flood, holding every flagged message.
            assert len(flags) == 1 and flags[0].count == 1
            assert '"11"' in flags[0].members
            assert audits >= 6
        finally:
            await probe.close()
    finally:
        await app.stop()


async def test_a_turns_barrier_waits_for_its_own_writes_only(store):
    g = await store.ensure_group("fake", "g1", "G")
    mine, other = TurnWrites(), TurnWrites()

    async def audit_in(turn: TurnWrites, action: str) -> None:
        token = DEFERRING.set(turn)
        try:
            await store.audit(g.pk, "test", action, {})
        finally:
            DEFERRING.reset(token)

    await store.writes.barrier(mine)  # nothing queued by the turn: returns at once
    await audit_in(other, "other turn's write")
    # A turn that queued nothing does not wait for another turn's pending write...
    await store.writes.barrier(mine)
    assert store.writes.pending == 1
    await audit_in(mine, "my write")
    # ...and once it queued one, its barrier returns only when that write is committed.
    await store.writes.barrier(mine)
    assert store.writes.pending == 0
    assert {e["action"] for e in await store.audit_log(g.pk)} >= {"other turn's write", "my write"}


async def test_ledger_rows_of_concurrent_turns_share_one_statement(store):
    from storage.ledger import Ledger, LedgerEntry

    g = await store.ensure_group("fake", "g1", "G")
    led = Ledger(store.engine, store.writes)
    statements = []
    from sqlalchemy import event as sa_event

    def count(conn, cursor, statement, params, context, executemany):
        if "points_ledger" in statement and statement.lstrip().upper().startswith("INSERT"):
            statements.append(statement)

    # On a SQLite file the rounds run on the writer thread's own engine.
    engines = [store.engine.sync_engine] + ([store.writes._sync.engine] if store.writes._sync else [])
    for e in engines:
        sa_event.listen(e, "before_cursor_execute", count)
    rows = lambda m, keys: [{"member_id": m, "amount": 1, "reason": "message", "key": k, "ref_message_id": None, "actor": None, "note": ""} for k in keys]  # noqa: E731
    got = await asyncio.gather(
        led.add_many(g.pk, rows("a", ["k1", "k2"]), 1.0),
        led.add_many(g.pk, rows("b", ["k3"]), 1.0),
        led.add_many(g.pk, rows("c", ["k2", "k4"]), 1.0),  # k2: the earlier turn's row wins
    )
    for e in engines:
        sa_event.remove(e, "before_cursor_execute", count)
    assert got == [{"k1", "k2"}, {"k3"}, {"k4"}]
    assert len(statements) == 1, statements
    # Written once, and a later turn finds its keys already there.
    assert await led.add_many(g.pk, rows("a", ["k1", "k5"]), 2.0) == {"k5"}
    async with store.engine.connect() as conn:
        owners = dict((await conn.execute(select(LedgerEntry.key, LedgerEntry.member_id))).all())
    assert owners == {"k1": "a", "k2": "a", "k3": "b", "k4": "c", "k5": "a"}


async def test_rounds_commit_whole_and_sqlite_files_use_the_writer_thread(db_url):
    s = await EventStore.open(db_url)
    try:
        assert (s.writes._sync is not None) == db_url.startswith("sqlite")
        got = await asyncio.gather(*(s.append(msg(i)) for i in range(60)))
        assert got == [True] * 60
        await s.append(msg(0))  # a later round on the same connection
        assert s.writes.rounds >= 2 and s.writes.fallbacks == 0  # no round fell back to one by one
        assert await count(s, "SELECT count(*) FROM events") == 60
    finally:
        await s.close()


async def test_the_background_checkpoint_makes_a_long_wal_start_over(tmp_path, monkeypatch):
    """The writer's own commits never checkpoint (that stalled the event loop); past
    RESTART_FRAMES the checkpoint thread restarts the WAL, so it stays bounded."""
    import sqlite3

    from storage import sync_writer

    monkeypatch.setattr(sync_writer, "CHECKPOINT_EVERY", 0.0)
    monkeypatch.setattr(sync_writer, "RESTART_FRAMES", 60)
    path = tmp_path / "r.db"
    s = await EventStore.open(f"sqlite:///{path}")
    try:
        sync = s.writes._sync
        assert sync.engine.connect().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        i = 0
        while not sync.restarts and i < 2000:
            await s.append(msg(i))
            i += 1
            await asyncio.sleep(0)
        assert sync.restarts >= 1, "no RESTART checkpoint ran"
        await s.append(msg(i + 1))  # this commit starts the WAL over
        with sqlite3.connect(path) as con:
            frames = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
        assert frames < 60  # the last commit's pages, not every commit's since the start
        assert await count(s, "SELECT count(*) FROM events") == i + 1
    finally:
        await s.close()


async def test_a_busy_sqlite_writer_checkpoints_in_the_background(tmp_path, monkeypatch):
    from storage import sync_writer

    monkeypatch.setattr(sync_writer, "CHECKPOINT_EVERY", 0.0)
    s = await EventStore.open(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        for i in range(5):
            await s.append(msg(i))
        for _ in range(100):  # the checkpoint runs on its own thread; wait for it
            if s.writes._sync.checkpoints:
                break
            await asyncio.sleep(0.01)
        assert s.writes._sync.checkpoints >= 1
        assert await count(s, "SELECT count(*) FROM events") == 5
    finally:
        await s.close()


async def test_connections_outlast_short_gaps_and_close_once_idle(tmp_path):
    """Under load the queue runs dry between rounds for a millisecond or two; closing and
    reopening the writer's and the fast reader's connections then cost a quarter of the
    loop's time. They linger `IDLE_LINGER`, and go once the bot is really idle."""
    from sqlalchemy import event as sa_event

    from storage.batch import IDLE_LINGER

    s = await EventStore.open(f"sqlite:///{tmp_path / 'linger.db'}")
    opened = {"writer": 0, "reader": 0}
    sa_event.listen(s.writes._sync.engine, "connect", lambda *_: opened.__setitem__("writer", opened["writer"] + 1))
    sa_event.listen(s.reads._engine, "connect", lambda *_: opened.__setitem__("reader", opened["reader"] + 1))
    try:
        g = await s.ensure_group("fake", "g1", "G")
        for i in range(6):
            assert await s.append(msg(i))
            assert await s.reads.stored(g.pk, msg(i).key)
            await asyncio.sleep(IDLE_LINGER / 5)
        assert opened == {"writer": 1, "reader": 1}
        await asyncio.sleep(IDLE_LINGER * 4)
        assert s.writes._sync._conn is None and s.reads._conn is None
    finally:
        await s.close()


async def test_small_rounds_run_on_the_loop_and_large_ones_on_the_writer_thread(tmp_path):
    """A live bot's rounds (a few messages and their writes) run on the loop's thread: on
    the writer thread each SQLite call waited for the GIL behind the loop, and the round
    held the shard workers' file lock 13–15 ms at p99. A bulk round still goes to the thread."""
    import threading

    from sqlalchemy import event as sa_event

    from storage.sync_writer import INLINE_MAX

    s = await EventStore.open(f"sqlite:///{tmp_path / 'inline.db'}")
    threads: set[str] = set()
    try:
        sa_event.listen(s.writes._sync.engine, "before_cursor_execute", lambda *_: threads.add(threading.current_thread().name))
        assert await s.append(msg(0))
        assert threads == {threading.current_thread().name} and s.writes._sync.inline == 1
        threads.clear()
        got = await asyncio.gather(*(s.append(msg(i)) for i in range(1, 3 * INLINE_MAX)))
        assert got == [True] * (3 * INLINE_MAX - 1)
        assert any(t.startswith("communitybot-writer") for t in threads)
        assert await count(s, "SELECT count(*) FROM events") == 3 * INLINE_MAX and s.writes.fallbacks == 0
    finally:
        await s.close()


async def test_a_round_that_finds_the_file_locked_waits_on_the_writer_thread(tmp_path):
    """Another connection holds SQLite's write lock (a write outside the queue): the inline
    round gives up at once and the writer thread waits for the lock, so the loop goes on
    and the event is stored once, when the lock is released."""
    import sqlite3

    path = tmp_path / "busy.db"
    s = await EventStore.open(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        assert await s.append(msg(0))
        raw = s.writes._sync._conn.connection.dbapi_connection
        assert raw.execute("PRAGMA busy_timeout").fetchone()[0] == 0  # an inline round never blocks the loop
        other.execute("BEGIN IMMEDIATE")
        pending = asyncio.create_task(s.append(msg(1)))
        for _ in range(20):  # the loop is free while the round waits
            await asyncio.sleep(0.01)
        assert not pending.done() and s.writes._sync.busy == 1
        other.execute("COMMIT")
        assert await pending is True
        assert await count(s, "SELECT count(*) FROM events") == 2
        assert s.writes.fallbacks == 0
        assert await s.append(msg(2)) and s.writes._sync.inline == 2  # inline again, with no wait
    finally:
        other.close()
        await s.close()


async def test_no_garbage_collection_while_holding_the_shared_write_lock(tmp_path):
    """Shard workers share one SQLite file under a file lock: a collection during a round
    would hold up the other workers' rounds too, so rounds under that lock run with the
    collector paused; it is back on after the round, and a lone process never pauses it."""
    import gc

    seen: list[bool] = []

    async def probe(conn):
        seen.append(gc.isenabled())

    for shared in (False, True):
        s = await EventStore.open(f"sqlite:///{tmp_path / f'g{shared}.db'}")
        try:
            if shared:
                s.writes.share_with_processes(str(tmp_path / "writer.lock"))
            await s.writes.run(probe)
            assert gc.isenabled()
        finally:
            await s.close()
    assert seen == [True, False]
