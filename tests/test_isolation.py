"""Group data is isolated: whatever any command answers in one group never names the
members of another group on the same bot."""

from __future__ import annotations

import pytest

from tests.test_permissions import ROUTER


@pytest.mark.parametrize("name", sorted(ROUTER.commands))
async def test_no_command_leaks_another_group(bot, name):
    # Group g2 has its own members with unmistakable names and busy history.
    for i in range(6):
        await bot.say("zed_other", f"Zedekiah Otherguild asks about regression models {i}?", group_id="g2",
                      name="Zedekiah Otherguild")
        await bot.say("yan_other", "Yannick Elsewhere answers: start with the rubric", group_id="g2",
                      name="Yannick Elsewhere", reply_to=-1)
    bot.adapter.admins.add(("g2", "zed_other"))
    for i in range(3):
        await bot.say("alice", f"How do I start the capstone {i}?")
        await bot.say("admin", "Start from the rubric.", reply_to=-1)
    start = len(bot.adapter.sent)
    for member in ("alice", "admin"):
        # Arguments that name nobody from g2, so any mention of g2 is a leak, not an echo.
        for args in ("", " @alice", " all", " show", " regression models"):
            await bot.say(member, f"/{name}{args}")
            await bot.later(120)
    out = [r for r in bot.adapter.sent[start:]]
    for r in out:
        assert r.group_id == "g1", f"/{name} answered into {r.group_id}"
        blob = r.text + (r.file[1].decode("utf-8", "replace") if r.file else "")
        for leak in ("Zedekiah", "Otherguild", "Yannick", "Elsewhere", "zed_other", "yan_other"):
            assert leak not in blob, f"/{name} in g1 mentioned {leak!r} of g2: {blob[:300]!r}"
