"""Spam confirmed by moderation takes back the points the message earned; a message
wrongly removed in enforce mode earns its points once a moderator says "not spam"."""

from __future__ import annotations

from bot.points import ledger_of
from bot.testing import BotHarness

SPAM = "Earn $500 a day from home, no experience needed! DM me now https://bit.ly/3xProfit"


def alert_of(replies):
    return next(r for r in replies if r.buttons and r.buttons[0][0].data.startswith("mod:"))


def flag_id(alert) -> str:
    return alert.buttons[0][0].data.split(":")[-1]


async def test_confirmed_spam_reverses_its_points(bot):
    await bot.say("alice", "Hi all, when is the capstone due?")
    replies = await bot.replies_to("spammer", SPAM)
    await bot.react("alice", -1)
    led = ledger_of(bot.app)
    assert await led.balance(bot.group.pk, "spammer") == 2  # message + reaction received
    await bot.press("admin", f"mod:spam:{flag_id(alert_of(replies))}")
    assert await led.balance(bot.group.pk, "spammer") == 0
    assert "reversed (spam)" in await bot.ask("spammer", "/history")
    assert await led.balance(bot.group.pk, "alice") == 1  # alice's own points stay


async def test_not_spam_after_enforcement_awards_the_message(tmp_path):
    bot = await BotHarness.create(tmp_path, config="[moderation]\nmode = 'enforce'\n")
    try:
        replies = await bot.replies_to("newbie", SPAM)
        led = ledger_of(bot.app)
        assert await led.balance(bot.group.pk, "newbie") == 0  # stopped before the points step
        await bot.press("admin", f"mod:ham:{flag_id(alert_of(replies))}")
        assert await led.balance(bot.group.pk, "newbie") == 1
        await bot.press("admin", f"mod:ham:{flag_id(alert_of(replies))}")
        assert await led.balance(bot.group.pk, "newbie") == 1
    finally:
        await bot.close()


async def test_daily_digest_counts_open_flags(bot):
    from datetime import timedelta

    from bot.scheduler import scheduler_of

    await bot.say("admin", "welcome to the course everyone")
    await bot.app.store.set_role(bot.group.pk, "admin", "admin")
    await bot.replies_to("spammer", SPAM)
    await scheduler_of(bot.app).run_due(bot.clock.now().replace(hour=8, minute=0) + timedelta(days=1))
    (digest,) = [r for r in bot.adapter.sent if r.private_to == "admin" and "Daily digest" in r.text]
    assert "Open moderation flags: 1" in digest.text and "New members" in digest.text
