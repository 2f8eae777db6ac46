"""The recommendations log on every backend (SQLite always, PostgreSQL when set)."""

from __future__ import annotations

from storage.scoring_log import RecommendationLog
from storage.store import EventStore


async def test_shown_engaged_and_ignored_counts(db_url):
    store = await EventStore.open(db_url)
    try:
        g = await store.ensure_group("fake", "g1", "Course")
        log = RecommendationLog(store.engine)
        await log.shown(g.pk, "erin", [("code", "channel"), ("topic:data", "topic")], 100.0)
        await log.shown(g.pk, "erin", [("code", "channel")], 200.0)
        assert await log.pending_channels(g.pk) == {("erin", "code")}
        assert await log.engaged(g.pk, "erin", "code", 250.0)
        assert not await log.engaged(g.pk, "erin", "nothing-shown", 260.0)
        assert not await log.engaged(g.pk, "bob", "code", 260.0)  # not shown to bob
        engaged, ignored = await log.counts(g.pk, "erin")
        assert engaged == {"code": 2} and ignored == {"topic:data": 1}
        assert await log.pending_channels(g.pk) == set()
    finally:
        await store.close()


async def test_scores_load_from_every_backend(db_url, tmp_path):
    from bot.testing import BotHarness
    from storage.events import EventKind

    bot = await BotHarness.create(tmp_path, db_url=db_url)
    try:
        await bot.say("alice", "How do I start the capstone?")
        await bot.say("chen", "Start from the rubric.", reply_to=-1)
        await bot.react("alice", 1)
        for i in range(8):
            await bot.say("spammer", f"buy now {i}")
        # chen answered alice and alice liked it: both are responded to, nobody else.
        board = (await bot.ask("bob", "/top influence")).splitlines()[1:]
        assert {line.split()[1] for line in board[:2]} == {"alice", "chen"}
        assert (await bot.ask("bob", "/top all")).splitlines()[1].startswith("1. spammer")
        # A moderator deletes the spam: it no longer counts.
        for m in bot.messages[2:]:
            await bot.adapter.inject(bot._event("admin", EventKind.DELETE, message_id=m.message_id))
        assert "spammer" not in await bot.ask("bob", "/top all")
    finally:
        await bot.close()
