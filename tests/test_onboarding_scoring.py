"""Introductions with scoring installed: members are matched by what they write, not
only by what they picked; channels are suggested; /profile moves from the picks to
behaviour."""

from __future__ import annotations

import pytest

pytest.importorskip("bot.scoring_feature", reason="the scoring feature is not on this branch yet")


async def chat(bot, who: str, texts: list[str], channel: str = "") -> None:
    for t in texts:
        await bot.say(who, t, channel_id=channel, advance=120)  # a conversation, not a flood


PYTHON = ["my python code has a bug in the api call", "git rebase broke my python script",
          "the javascript api returns 500", "code review: python typing question"]
CAREER = ["my resume needs work before the interview", "any tips for a salary negotiation at the job offer?"]


async def test_members_are_matched_by_what_they_write(bot):
    await chat(bot, "chen", PYTHON, channel="dev")
    await chat(bot, "olga", PYTHON[:3], channel="dev")
    await chat(bot, "zoe", CAREER * 2)
    await bot.say("omar", "/intro off")
    await chat(bot, "omar", PYTHON * 2, channel="dev")
    await bot.join("dana")
    welcome_id = bot.adapter.sent_ids[-1]
    await bot.press("dana", "intro:w:dana:programming", message_id=welcome_id)
    replies = await bot.press("dana", "intro:w:dana:=done", message_id=welcome_id)
    text = next(r.text for r in replies if "match" in r.text)
    assert "chen" in text and "olga" in text
    assert "omar" not in text and "zoe" not in text
    assert "channel" in text and "dev" in text  # the channel where programming is talked about


async def test_profile_starts_from_the_picks_then_follows_behaviour(bot):
    await bot.join("dana")
    welcome_id = bot.adapter.sent_ids[-1]
    for t in ("data", "career"):
        await bot.press("dana", f"intro:w:dana:{t}", message_id=welcome_id)
    await bot.press("dana", "intro:w:dana:=done", message_id=welcome_id)
    first = (await bot.ask("dana", "/profile")).split("\n")
    assert first[1].startswith("Interests: data 50%, career 50%") or first[1].startswith("Interests: career 50%, data 50%")
    await chat(bot, "dana", PYTHON * 5)
    later = (await bot.ask("dana", "/profile")).split("\n")
    assert later[1].startswith("Interests: programming"), later
    assert "data" in later[1] and "career" in later[1]  # the picks still count, less
