"""Introductions suggest upcoming community events that match a newcomer's interests
(when the points feature's events calendar is installed)."""

from __future__ import annotations

import pytest

pytest.importorskip("storage.agenda", reason="the community events calendar is not on this branch yet")


async def test_an_upcoming_event_on_the_topic_is_suggested(bot):
    await bot.say("admin", "/config set onboarding.intro_tags python, career")
    out = await bot.ask("admin", '/event add "Career clinic: resume review" 2026-11-20 18:00 90m bring your resume')
    assert "Career clinic" in out
    assert "Python office hours" in await bot.ask("admin", '/event add "Python office hours" 2026-11-21 18:00 60m')
    await bot.join("dana")
    welcome_id = bot.adapter.sent_ids[-1]
    await bot.press("dana", "intro:w:dana:career", message_id=welcome_id)
    replies = await bot.press("dana", "intro:w:dana:=done", message_id=welcome_id)
    text = next(r.text for r in replies if "Career clinic" in r.text or "Nobody" in r.text)
    assert "event “Career clinic: resume review” on 2026-11-20 18:00 UTC" in text
    assert "Python office hours" not in text  # upcoming, but not what dana picked
