"""Onboarding with the moderation feature: a member who passed the gate stays under the
newcomer check for their first messages after it (warm-up), edits included."""

from __future__ import annotations

import pytest

pytest.importorskip("bot.moderation", reason="the moderation feature is not on this branch yet")

from bot.testing import BotHarness  # noqa: E402

NOTES = "Here are my notes from lecture 3: https://docs.python.org/3/tutorial/"


def config(warmup: int, hours: float) -> str:
    # Moderation alone would call a member new for their first message or hour only.
    return f"""
[onboarding]
gate = "button"
warmup_messages = {warmup}
[check_newcomer]
first_messages = 1
first_hours = {hours}
link_severity = "medium"
"""


async def passed_gate(tmp_path, warmup: int, hours: float = 1.0) -> BotHarness:
    bot = await BotHarness.create(tmp_path, config=config(warmup, hours))
    await bot.say("alice", "hello, I have been here for a while")
    await bot.later(3600)
    await bot.join("dana")
    gate = next(r for r in reversed(bot.adapter.sent) if r.buttons and r.buttons[0][0].data.startswith("gate:"))
    await bot.press("dana", gate.buttons[0][0].data)
    return bot


async def newcomer_verdicts(bot) -> list[str]:
    """Newcomer-check hits moderation recorded with its alerts (links alert here:
    link_severity is raised to medium above)."""
    import json

    out = []
    for entry in reversed(await bot.app.store.audit_log(bot.group.pk)):
        if entry["actor"] == "moderation" and entry["action"] in ("noted", "flagged", "acted"):
            out += [v for v in json.loads(entry["detail"])["verdicts"] if v.startswith("newcomer: new member")]
    return out


async def test_first_messages_after_the_gate_stay_under_the_newcomer_check(tmp_path):
    bot = await passed_gate(tmp_path, warmup=3)
    try:
        await bot.say("dana", "hello everyone")
        await bot.later(2 * 86400)  # long after joining: moderation alone would not call them new
        await bot.say("dana", "glad to be here")
        await bot.say("dana", NOTES)
        (verdict,) = await newcomer_verdicts(bot)
        assert "message 3" in verdict and "link" in verdict
        await bot.say("dana", NOTES.replace("3", "4"))  # warm-up is over: no newcomer flag
        assert len(await newcomer_verdicts(bot)) == 1
    finally:
        await bot.close()


async def test_without_warm_up_the_same_messages_pass(tmp_path):
    bot = await passed_gate(tmp_path, warmup=0)
    try:
        await bot.say("dana", "hello everyone")
        await bot.later(2 * 86400)
        await bot.say("dana", "glad to be here")
        await bot.say("dana", NOTES)
        assert await newcomer_verdicts(bot) == []
    finally:
        await bot.close()


@pytest.mark.parametrize("hours", [1.0, 0.0])
async def test_an_edit_that_adds_a_link_during_warm_up_is_rechecked(tmp_path, hours):
    bot = await passed_gate(tmp_path, warmup=3, hours=hours)
    try:
        await bot.say("dana", "hello everyone")
        await bot.later(2 * 86400)
        await bot.say("dana", "glad to be here")
        assert await newcomer_verdicts(bot) == []
        await bot.edit(-2, "hello everyone, join us at https://t.me/+AbCdEf123")
        (verdict,) = await newcomer_verdicts(bot)
        assert "invite link" in verdict
        # An invite is serious enough to reach the moderators as an alert.
        assert any("invite link" in r.text for r in bot.adapter.sent if r.buttons)
    finally:
        await bot.close()
