"""/report, /flags and /warn, and trust earned by tenure, as conversations."""

from __future__ import annotations

from datetime import timedelta

from adapters.base import ActionKind
from bot.testing import BotHarness


async def test_report_becomes_an_alert_and_enough_reports_hide_the_message(bot):
    await bot.say("alice", "hi")
    await bot.say("troll", "this course is garbage and so are you all")
    target = 1  # the troll's message (later /reports are messages too)
    out = await bot.replies_to("bob", "/report", reply_to=target)
    assert out[-1].private_to == "bob" and "moderators will look" in out[-1].text
    alert = next(r for r in bot.adapter.sent if r.buttons)
    assert "Reported by 1 member" in alert.text and "troll" in alert.text and "Reporters: bob" in alert.text
    await bot.say("carol", "/report", reply_to=target)
    out = await bot.replies_to("dave", "/report", reply_to=target)
    assert "hidden" in out[-1].text
    (delete,) = [a for a in bot.adapter.actions if a.kind is ActionKind.DELETE]
    assert delete.member_id == "troll"
    edits = [r for r in bot.adapter.sent if r.edit_message_id]
    assert "Reported by 3 member(s)" in edits[-1].text
    assert len([r for r in bot.adapter.sent if r.buttons and not r.edit_message_id]) == 1


async def test_report_needs_a_reply_and_counts_once_per_member(bot):
    assert "Reply to the message" in await bot.ask("bob", "/report")
    await bot.say("troll", "rude words here")
    await bot.say("bob", "/report", reply_to=-1)
    assert "already reported" in await bot.ask("bob", "/report", reply_to=-2)


async def test_frequent_reporter_is_rate_limited(bot):
    for i in range(6):
        await bot.say(f"m{i}", f"message number {i} from member {i}")
    answers = []
    for i in range(6):
        answers.append(await bot.ask("eager", "/report", reply_to=i))
    assert all("moderators will look" in a for a in answers[:5])
    assert "reported 5 messages in the last hour" in answers[5]


async def test_flags_lists_open_flags_for_moderators_only(bot):
    await bot.say("spammer", "Earn $500 a day from home, DM me now https://bit.ly/3xProfit")
    out = await bot.ask("admin", "/flags")
    assert "Open flags (1)" in out and "spammer" in out and "Earn $500" in out
    assert "/flags" in await bot.ask("bob", "/flags") and "Open flags" not in await bot.ask("bob", "/flags")


async def test_warn_ladder_mutes_on_the_third(bot):
    await bot.say("rude", "whatever, you are all idiots")
    first = await bot.ask("admin", "/warn be kind", reply_to=-1)
    assert "rude warned (1/3): be kind" in first
    await bot.ask("admin", "/warn @rude second time")
    third = await bot.ask("admin", "/warn @rude last one")
    assert "(3/3)" in third and "muted for 24 h" in third
    (mute,) = [a for a in bot.adapter.actions if a.kind is ActionKind.MUTE]
    assert mute.member_id == "rude" and mute.until - bot.clock.now() == timedelta(hours=24)
    assert "unknown" not in await bot.ask("admin", "/warn @rude")
    assert "don't know a member called @ghost" in await bot.ask("admin", "/warn @ghost spam")
    assert "admin" in (await bot.ask("bob", "/warn @rude")).lower()


async def test_tenure_and_clean_history_earn_trust(tmp_path):
    bot = await BotHarness.create(tmp_path, config="[moderation]\ntrust_days = 1.0\ntrust_messages = 5\n")
    try:
        for i in range(6):
            await bot.say("regular", f"Question {i} about the SQL module and joins", advance=6 * 3600)
        await bot.say("regular", "Join my study group t.me/+AbCdEfGh for SQL")
        assert not [r for r in bot.adapter.sent if r.buttons]
        await bot.say("newbie", "Join my study group t.me/+AbCdEfGh for SQL")
        assert [r for r in bot.adapter.sent if r.buttons]
    finally:
        await bot.close()
