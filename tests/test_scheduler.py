"""The scheduler on a fake clock: exactly-once posts across restarts, missed jobs and
grace time, time zones, the monthly bonus, the digest, and the APScheduler wiring."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from adapters.fake import FakeAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.config import load_config, load_config_text
from bot.points import ledger_of
from bot.scheduler import scheduler_of
from bot.testing import BotHarness

SHANGHAI = '[[groups]]\nplatform = "fake"\nid = "g1"\ntimezone = "Asia/Shanghai"\n'


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def start_at(tmp_path, when: datetime, config: str | None = None) -> BotHarness:
    """A bot process on the shared database file, started at `when` (a "restart")."""
    clock = FakeClock(when)
    cfg = load_config_text(config) if config else load_config(None)
    app = await App.create(cfg, f"sqlite:///{tmp_path / 'bot.db'}", clock)
    adapter = FakeAdapter("fake")
    adapter.admins.add(("g1", "admin"))
    app.add_adapter(adapter)
    await app.start()  # the scheduler's catch-up run happens here, at `when`
    return BotHarness(app, adapter, clock)


def weekly_posts(*bots: BotHarness) -> list[str]:
    return [r.text for b in bots for r in b.adapter.sent if "top contributors (" in r.text]


async def run_at(bot: BotHarness, when: datetime):
    bot.clock.set(when)
    return await scheduler_of(bot.app).run_due()


async def test_weekly_board_once_across_a_mid_week_restart(tmp_path):
    b1 = await start_at(tmp_path, utc("2026-11-04T10:00"))
    await b1.say("alice", "a useful message for the group")
    await b1.say("chen", "another useful message for everyone")
    await b1.close()
    b2 = await start_at(tmp_path, utc("2026-11-06T12:00"))
    assert weekly_posts(b2) == []
    await run_at(b2, utc("2026-11-09T08:59"))
    assert weekly_posts(b2) == []
    await run_at(b2, utc("2026-11-09T09:00"))
    await run_at(b2, utc("2026-11-09T09:30"))
    await b2.close()
    b3 = await start_at(tmp_path, utc("2026-11-09T09:40"))
    await run_at(b3, utc("2026-11-09T09:50"))
    await b3.close()
    posts = weekly_posts(b1, b2, b3)
    assert len(posts) == 1
    assert "alice — 1" in posts[0] and "chen — 1" in posts[0]


async def test_weekly_board_once_across_a_restart_at_posting_time(tmp_path):
    b1 = await start_at(tmp_path, utc("2026-11-04T10:00"))
    await b1.say("alice", "a useful message for the group")
    await run_at(b1, utc("2026-11-09T09:00"))
    await b1.close()
    b2 = await start_at(tmp_path, utc("2026-11-09T09:00"))
    await run_at(b2, utc("2026-11-09T09:00:30"))
    await b2.close()
    assert len(weekly_posts(b1, b2)) == 1
    assert len(weekly_posts(b1)) == 1


async def test_a_crash_before_posting_is_caught_up_once_on_start(tmp_path):
    b1 = await start_at(tmp_path, utc("2026-11-04T10:00"))
    await b1.say("alice", "a useful message for the group")
    await b1.close()  # down over Monday 09:00
    b2 = await start_at(tmp_path, utc("2026-11-09T09:20"))
    assert len(weekly_posts(b2)) == 1
    await run_at(b2, utc("2026-11-09T09:25"))
    await b2.close()
    assert len(weekly_posts(b2)) == 1


async def test_a_job_missed_beyond_grace_is_skipped_with_a_log_line(tmp_path, caplog):
    b1 = await start_at(tmp_path, utc("2026-11-04T10:00"))
    await b1.say("alice", "a useful message for the group")
    await b1.close()
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        b2 = await start_at(tmp_path, utc("2026-11-09T11:00"))
    await b2.close()
    assert weekly_posts(b2) == []
    assert any("skipping weekly_board" in m and "late" in m for m in caplog.messages)
    runs = await scheduler_of(b2.app).agenda.runs("weekly_board:1")
    assert [r.status for r in runs] == ["skipped"]


async def test_two_instances_at_once_post_once(tmp_path):
    b1 = await start_at(tmp_path, utc("2026-11-04T10:00"))
    await b1.say("alice", "a useful message for the group")
    b2 = await start_at(tmp_path, utc("2026-11-04T10:00"))
    await run_at(b1, utc("2026-11-09T09:00"))
    await run_at(b2, utc("2026-11-09T09:00"))
    await b1.close()
    await b2.close()
    assert len(weekly_posts(b1, b2)) == 1


async def test_shanghai_monday_nine_is_one_utc(tmp_path):
    b = await start_at(tmp_path, utc("2026-11-08T12:00"), SHANGHAI)
    await b.say("alice", "大家好，今天的作业我做完了")
    await run_at(b, utc("2026-11-09T00:59"))
    assert weekly_posts(b) == []
    recs = await run_at(b, utc("2026-11-09T01:00"))
    assert [(r.kind, r.fire) for r in recs if r.status == "ran"] == [("weekly_board", utc("2026-11-09T01:00"))]
    assert len(weekly_posts(b)) == 1
    # APScheduler gets the same rule: its next run is a Monday 01:00 UTC.
    sched = scheduler_of(b.app)
    sched.start_apscheduler()
    try:
        assert await sched.load_jobs() >= 3
        job = sched.aps.get_job("weekly_board:1")
        nxt = job.next_run_time.astimezone(UTC)
        assert (nxt.weekday(), nxt.hour, nxt.minute) == (0, 1, 0)
        n = len(sched.aps.get_jobs())
        await sched.load_jobs()  # rebuilt with stable ids: replaced, not duplicated
        assert len(sched.aps.get_jobs()) == n
        # What APScheduler calls at the next Monday 01:00 UTC: posts once, however often.
        b.clock.set(utc("2026-11-16T01:00"))
        assert (await sched.fire("weekly_board:1")).status == "ran"
        assert await sched.fire("weekly_board:1") is None
        assert [r.text for r in b.adapter.sent if "11-09 – 11-16" in r.text] == [
            "No points were earned this week (11-09 – 11-16)."
        ]
    finally:
        await sched.stop()
        await b.close()


async def test_monthly_bonus_pays_last_months_top_once(tmp_path):
    b = await start_at(tmp_path, utc("2026-10-20T10:00"))
    await b.say("alice", "a useful message for the group")
    await b.say("chen", "another useful message for everyone")
    await b.ask("admin", "/award @chen 30 notes")
    await run_at(b, utc("2026-11-01T09:00"))
    await run_at(b, utc("2026-11-01T09:05"))
    led = ledger_of(b.app)
    assert await led.balance(b.group.pk, "chen") == 31 + 100
    assert await led.balance(b.group.pk, "alice") == 1 + 50
    posts = [r.text for r in b.adapter.sent if "2026-10" in r.text]
    assert len(posts) == 1 and "chen — 31 points, +100 bonus" in posts[0]
    await b.close()


async def test_daily_digest_goes_to_known_moderators(tmp_path):
    b = await start_at(tmp_path, utc("2026-11-01T10:00"))
    for day in range(3):
        await b.say("quietus", f"daily update number {day} from me", advance=86400)
    await b.say("admin", "admin message to register the admin")
    await b.app.store.set_role(b.group.pk, "admin", "admin")
    b.clock.set(utc("2026-11-12T10:00"))
    await b.join("newbie")
    await run_at(b, utc("2026-11-13T08:00"))
    dms = [r for r in b.adapter.sent if r.private_to == "admin" and "Daily digest" in r.text]
    assert len(dms) == 1
    assert "newbie" in dms[0].text and "quietus (3)" in dms[0].text
    await b.close()


async def test_weekly_board_settings_change_the_schedule(tmp_path):
    b = await start_at(tmp_path, utc("2026-11-04T10:00"), '[scheduler]\nweekly_day = "fri"\nweekly_hour = 18\n')
    await b.say("alice", "a useful message for the group")
    await run_at(b, utc("2026-11-06T17:59"))
    assert weekly_posts(b) == []
    await run_at(b, utc("2026-11-06T18:00"))
    assert len(weekly_posts(b)) == 1
    await b.close()


def test_bad_scheduler_settings_name_the_key():
    import pytest

    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="weekly_day"):
        load_config_text('[scheduler]\nweekly_day = "someday"\n')
    with pytest.raises(ConfigError, match="digest_hour"):
        load_config_text("[scheduler]\ndigest_hour = 25\n")


async def test_run_due_is_deterministic_on_the_fake_clock(bot):
    await bot.say("alice", "a useful message for the group")
    sched = scheduler_of(bot.app)
    first = await sched.run_due(bot.clock.now() + timedelta(days=7))
    again = await sched.run_due(bot.clock.now() + timedelta(days=7))
    assert [r.kind for r in first if r.status == "ran"] == ["weekly_board"]
    assert again == []


async def test_two_instances_on_each_backend_post_once(tmp_path, db_url):
    b1 = await BotHarness.create(tmp_path, db_url=db_url)
    b2 = await BotHarness.create(tmp_path, db_url=db_url)
    try:
        await b1.say("alice", "a useful message for the group")
        await b1.ask("admin", "/award @alice 5 notes")
        await run_at(b1, utc("2026-11-09T09:00"))
        await run_at(b2, utc("2026-11-09T09:00"))
        await run_at(b2, utc("2026-11-09T09:10"))
        posts = weekly_posts(b1, b2)
        assert len(posts) == 1 and "alice — 6" in posts[0]
    finally:
        await b1.close()
        await b2.close()


async def test_config_set_time_zone_moves_the_weekly_post(bot):
    await bot.say("alice", "a useful message for the group")
    assert "bot.timezone" in await bot.ask("admin", "/config set bot.timezone Asia/Shanghai")
    await run_at(bot, utc("2026-11-09T00:59"))
    assert weekly_posts(bot) == []
    await run_at(bot, utc("2026-11-09T01:00"))
    assert len(weekly_posts(bot)) == 1
    assert "Asia/Shanghai" in await bot.ask("admin", '/event add "AMA" 2026-11-12 20:00')


async def test_postgres_elects_one_scheduler_and_a_standby_takes_over(tmp_path, db_url):
    """On PostgreSQL one process holds the advisory lock and runs the jobs; the other
    stands by, and takes over once the first stops (its session ends)."""
    b1 = await BotHarness.create(tmp_path, db_url=db_url)
    b2 = await BotHarness.create(tmp_path, db_url=db_url)
    s1, s2 = scheduler_of(b1.app), scheduler_of(b2.app)
    if not db_url.startswith("postgresql"):
        # One machine, one file: every process leads, and the claims keep posts single.
        try:
            await b1.say("alice", "a useful message for the group")
            assert await s1.lead() and await s2.lead()
            await run_at(b1, utc("2026-11-09T09:00"))
            await run_at(b2, utc("2026-11-09T09:00"))
            assert len(weekly_posts(b1, b2)) == 1
        finally:
            await b1.close()
            await b2.close()
        return
    try:
        await b1.say("alice", "a useful message for the group")
        assert await s1.lead() and not await s2.lead()
        assert s1.leading and not s2.leading
        assert await run_at(b2, utc("2026-11-09T09:00")) == []  # the standby runs nothing
        await run_at(b1, utc("2026-11-09T09:00"))
        assert len(weekly_posts(b1)) == 1 and weekly_posts(b2) == []
        await b1.close()
        b2.clock.set(utc("2026-11-12T10:00"))
        b2._ids = iter(range(100, 200))  # b1 used message ids from 1 in the same chat
        await b2.say("chen", "a useful message in the second week")
        # The standby retries after standby_seconds (30 s by default) and leads.
        when = utc("2026-11-16T09:00")
        got = await run_at(b2, when)
        assert s2.leading and "weekly_board" in [r.kind for r in got if r.status == "ran"]
        assert len(weekly_posts(b2)) == 1, [r.text for r in b2.adapter.sent]
    finally:
        await b2.close()
        if s1.leading:
            await b1.close()


async def test_on_sqlite_the_scheduler_leads_from_the_start(bot):
    """The standby job has nothing to take over on SQLite: the process leads at start."""
    sched = scheduler_of(bot.app)
    assert sched.leading and not sched.lock.exclusive


async def test_a_new_groups_schedules_are_written_soon_after_its_first_message_not_during_it(tmp_path, monkeypatch):
    """Writing a group's schedules cost its first message 1.5 ms of the loop, and a bot's
    first second sees every group for the first time. The message only notes the group;
    the schedules follow `DELAY` later, starting from when the group was seen."""
    from bot import scheduler_sight

    monkeypatch.setattr(scheduler_sight, "DELAY", 0.05)
    b = await start_at(tmp_path, utc("2026-11-04T10:00"))
    sched = scheduler_of(b.app)
    await b.say("alice", "hello everyone")
    pk = (await b.app.store.ensure_group("fake", "g1")).pk
    assert await sched.agenda.schedules(enabled_only=False, group_pk=pk) == []  # not in the message's turn
    assert pk in sched.sights.noted
    b.clock.set(utc("2026-11-04T10:05"))
    for _ in range(200):
        if pk in sched.seen:
            break
        await asyncio.sleep(0.01)
    rows = await sched.agenda.schedules(enabled_only=False, group_pk=pk)
    assert "weekly_board" in {r.kind for r in rows} and not sched.sights.noted
    assert all(r.created_ts < utc("2026-11-04T10:01").timestamp() for r in rows)  # when it was seen, not 10:05
    await b.close()


async def test_a_group_noted_just_before_stop_gets_its_schedules_at_stop(tmp_path):
    b = await start_at(tmp_path, utc("2026-11-04T10:00"))
    await b.say("alice", "hello everyone")
    pk = (await b.app.store.ensure_group("fake", "g1")).pk
    assert pk in scheduler_of(b.app).sights.noted  # DELAY (1 s) has not passed
    await b.close()
    b2 = await start_at(tmp_path, utc("2026-11-04T10:01"))
    rows = await scheduler_of(b2.app).agenda.schedules(enabled_only=False, group_pk=pk)
    assert "weekly_board" in {r.kind for r in rows}
    await b2.close()
