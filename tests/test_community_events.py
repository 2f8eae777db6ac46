"""Community events on a fake clock: announcement with RSVP buttons and live counts,
reminders, private reminders, the start post, check-in points, cancel, planning hint."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.community import parse_duration
from bot.points import ledger_of
from bot.scheduler import scheduler_of
from bot.testing import BotHarness


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def run_at(bot, when: str) -> list[str]:
    bot.clock.set(utc(when))
    start = len(bot.adapter.sent)
    await scheduler_of(bot.app).run_due()
    return [f"{r.private_to or 'group'}: {r.text}" for r in bot.adapter.sent[start:]]


async def add_event(bot, text: str = '/event add "Capstone AMA" 2026-11-05 19:00 90m Bring your questions'):
    replies = await bot.replies_to("admin", text)
    return replies[-1]


async def test_announcement_reminders_and_checkin(bot):
    ann = await add_event(bot)
    assert "Capstone AMA" in ann.text and "Thu 11-05 19:00–20:30 (UTC)" in ann.text
    assert [b.data for b in ann.buttons[0]] == ["rsvp:1:going", "rsvp:1:maybe", "rsvp:1:no"]
    announce_id = bot.adapter.sent_ids[-1]

    out = await bot.press("alice", "rsvp:1:going")
    assert out[0].private_to == "alice" and "See you" in out[0].text
    assert out[1].edit_message_id == announce_id and "Going 1 · Maybe 0" in out[1].text
    await bot.press("bob", "rsvp:1:maybe")
    await bot.press("bob", "rsvp:1:remind")
    assert "going 1, maybe 1" in await bot.ask("chen", "/events")

    assert await run_at(bot, "2026-11-04T18:59") == []
    day = await run_at(bot, "2026-11-04T19:00")
    assert day[0].startswith("group: ⏰ Capstone AMA starts in 1 day")
    assert day[1].startswith("bob: ⏰")  # the private reminder
    assert await run_at(bot, "2026-11-04T19:30") == []
    hour = await run_at(bot, "2026-11-05T18:00")
    assert "starts in 1 hour" in hour[0] and len(hour) == 2

    assert "No event is running" in await bot.ask("alice", "/checkin")
    start = await run_at(bot, "2026-11-05T19:00")
    assert "starting now" in start[0]
    checkin_button = bot.adapter.sent[-1].buttons[0][0].data
    assert "+10 points" in await bot.ask("alice", "/checkin")
    assert "already checked in" in await bot.ask("alice", "/checkin")
    out = await bot.press("chen", checkin_button)
    assert "chen checked in" in out[0].text and out[0].private_to == "chen"
    assert await ledger_of(bot.app).balance(bot.group.pk, "chen") == 10
    bot.clock.set(utc("2026-11-05T21:00"))
    assert "No event is running" in await bot.ask("dora", "/checkin")


async def test_cancel_stops_reminders_and_closes_rsvp(bot):
    await add_event(bot)
    out = await bot.ask("admin", "/event cancel 1")
    assert "cancelled" in out
    assert bot.adapter.sent[-2].edit_message_id is not None  # the announcement was edited
    assert await run_at(bot, "2026-11-04T19:00") == []
    assert await run_at(bot, "2026-11-05T19:00") == []
    assert "over or cancelled" in (await bot.press("alice", "rsvp:1:going"))[0].text
    assert "No upcoming event #1" in await bot.ask("admin", "/event cancel 1")


async def test_event_in_a_group_time_zone(tmp_path):
    cfg = '[[groups]]\nplatform = "fake"\nid = "g1"\ntimezone = "Asia/Shanghai"\nlanguage = "zh-CN"\n'
    bot = await BotHarness.create(tmp_path, cfg)
    try:
        ann = await add_event(bot, '/event add “答疑课” 2026-11-05 20:00 1h')
        assert "答疑课" in ann.text and "周四 11-05 20:00" in ann.text and "Asia/Shanghai" in ann.text and "参加 0" in ann.text
        out = await run_at(bot, "2026-11-05T11:00")  # 19:00 in Shanghai: one hour before
        assert "1 小时后" in out[0]
        assert "现在开始" in (await run_at(bot, "2026-11-05T12:00"))[0]
    finally:
        await bot.close()


async def test_event_add_errors_name_the_problem(bot):
    assert "Only admins" in await bot.ask("alice", '/event add "X" 2026-12-01 19:00')
    assert "YYYY-MM-DD HH:MM" in await bot.ask("admin", '/event add "X" 2026-13-01 19:00')
    assert "need a title" in await bot.ask("admin", "/event add X")
    assert "in the past" in await bot.ask("admin", '/event add "X" 2026-10-01 19:00')
    assert "Usage" in await bot.ask("admin", "/event move 1")
    assert "No upcoming events" in await bot.ask("alice", "/events")


async def test_short_notice_event_only_schedules_future_reminders(bot):
    await add_event(bot, '/event add "Quick sync" 2026-11-02 11:00 30m')
    jobs = [s.job_id for s in await scheduler_of(bot.app).agenda.schedules() if s.job_id.startswith("event:")]
    assert jobs == ["event:1:remind:60", "event:1:start"]


def test_durations():
    assert parse_duration("90m") == 90 and parse_duration("2h") == 120 and parse_duration("1h30m") == 90
    assert parse_duration("soon") is None and parse_duration("") is None


async def test_planning_hint_names_busy_hours_and_shared_topics(bot):
    assert "Too few messages" in await bot.ask("admin", "/plan")
    bot.clock.set(utc("2026-11-03T20:00"))
    for i, member in enumerate(["alice", "bob", "chen", "dora"] * 3):
        await bot.say(member, f"working on the #capstone outline today, part {i}", advance=60)
    out = await bot.ask("admin", "/plan")
    assert "Suggested slot: Tue 20:00" in out and "Busiest hours: 20:00 (12)" in out
    # scoring's interest tags when installed ("capstone (4)"), else hashtags ("#capstone (4)")
    assert "capstone (4)" in out
    assert "Only admins" in await bot.ask("alice", "/plan")


async def test_upcoming_events_are_recommended_to_interested_members(bot):
    for i in range(3):
        await bot.say("chen", f"python code review number {i}", channel_id="code")
        await bot.say("dana", f"resume and interview practice {i}", channel_id="jobs")
    await bot.say("erin", "I want to learn python, my code is messy", channel_id="general")
    await add_event(bot, '/event add "Python code review clinic" 2026-11-05 19:00 60m bring your python code')
    replies = await bot.replies_to("erin", "/recommend", channel_id="general")
    assert "Python code review clinic" in replies[0].text
    assert "rec:event:1" in [b.data for row in replies[0].buttons for b in row]
