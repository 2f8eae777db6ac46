"""Spam confirmed by moderation takes back the points the message earned; "not spam"
gives them back."""

from __future__ import annotations

import pytest

from bot.points import ledger_of

# Runs once the moderation feature is in the tree (checked on a trial merge).
pytest.importorskip("bot.moderation", reason="moderation feature not merged into this tree yet")

SPAM = "Earn $500 a day from home, no experience needed! DM me now https://bit.ly/3xProfit"


def alert_of(replies):
    return next(r for r in replies if r.buttons and r.buttons[0][0].data.startswith("mod:"))


async def test_confirmed_spam_reverses_its_points(bot):
    await bot.say("alice", "Hi all, when is the capstone due?")
    replies = await bot.replies_to("spammer", SPAM)
    await bot.react("alice", -1)
    led = ledger_of(bot.app)
    assert await led.balance(bot.group.pk, "spammer") == 2  # message + reaction received
    fid = alert_of(replies).buttons[0][0].data.split(":")[-1]
    await bot.press("admin", f"mod:spam:{fid}")
    assert await led.balance(bot.group.pk, "spammer") == 0
    assert "reversed (spam)" in await bot.ask("spammer", "/history")
    assert await led.balance(bot.group.pk, "alice") == 1  # alice's own points stay
