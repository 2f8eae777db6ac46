"""A group's first turn in the process that creates it skips the group's first-sight
reads (`storage.fresh`): nothing about the group can be committed yet. A group that
already existed (created by another process, or an earlier run) is read as before, and
the mark ends with the turn, also for tasks the turn started."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import event as sa_event

from adapters.fake import FakeAdapter
from bot.app import App
from bot.config import load_config
from storage import fresh
from storage.events import Event, EventKind
from storage.store import EventStore

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def msg(i: int, member: str, group: str) -> Event:
    return Event(platform="fake", group_id=group, group_title="G", kind=EventKind.MESSAGE, time=T0 + timedelta(seconds=i),
                 member_id=member, member_name=f"user {member}", message_id=str(i), text=f"message number {i} about pandas")


async def _app(url: str) -> App:
    app = await App.create(load_config(None), url)
    app.add_adapter(FakeAdapter())
    await app.start()
    return app


def _reads_of(app: App) -> list[str]:
    """Every statement the app's direct reader runs from now on (the group's settings
    were read at start, for its schedules)."""
    seen: list[str] = []
    sa_event.listen(app.store.reads._engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


async def test_the_turn_that_creates_a_group_reads_nothing_about_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    app = await _app(url)
    try:
        reads = _reads_of(app)
        turn = await app.handle(msg(1, "ann", "brand-new"))
        assert turn.new and not turn.errors
        assert reads == []  # settings, trust, history, onboarding, points: all known empty
        # The group's data is there for the next turn, which reads as usual.
        assert await app.store.count_events() == 1
        assert not fresh.unread(app.store.engine, turn.group.pk)
    finally:
        await app.stop()


async def test_a_group_created_elsewhere_is_read_on_first_sight(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    other = await EventStore.open(url)  # another process (or an earlier run) made the group
    g = await other.ensure_group("fake", "existing", "G")
    await other.set_setting(g.pk, "moderation.mode", "enforce")
    await other.close()
    app = await _app(url)
    try:
        reads = _reads_of(app)
        turn = await app.handle(msg(1, "ann", "existing"))
        assert not turn.errors
        read = {t for sql in reads for t in ("onb_gates", "onb_members", "mod_trust", "points_ledger", "FROM events") if t in sql}
        assert read == {"onb_gates", "onb_members", "mod_trust", "points_ledger", "FROM events"}
        assert (await app.services["moderation"].settings(turn.group)).mod.mode == "enforce"
    finally:
        await app.stop()


async def test_the_mark_ends_with_the_turn_also_for_tasks_it_started():
    engine = object()
    token = fresh.begin(engine, 7)
    assert fresh.unread(engine, 7)
    assert not fresh.unread(engine, 8) and not fresh.unread(object(), 7)

    async def later(started: asyncio.Event, go: asyncio.Event) -> bool:
        started.set()
        await go.wait()
        return fresh.unread(engine, 7)

    started, go = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(later(started, go))  # inherits the turn's context
    await started.wait()
    fresh.end(engine, 7)
    fresh.reset(token)
    go.set()
    assert await task is False
    assert not fresh.unread(engine, 7)


async def test_a_group_an_import_created_in_this_process_is_read(tmp_path):
    """Only the pipeline's own first sight marks a group: one that an import in the same
    process created and filled is read on its first live event."""
    app = await _app(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        g = await app.store.ensure_group("fake", "imported", "G")  # as an import makes it
        assert await app.store.append(msg(0, "bob", "imported"))  # and writes its history
        reads = _reads_of(app)
        turn = await app.handle(msg(1, "ann", "imported"))
        assert not turn.errors and any("FROM events" in sql for sql in reads)
        bob = app.services["moderation"].trust.get((g.pk, "bob"))
        assert bob is not None and bob.messages == 1  # his imported message counts
    finally:
        await app.stop()
