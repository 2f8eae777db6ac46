"""Check reasons in Chinese groups: every reason the checks actually write (flagged or
not) has a translation, in alerts and in /flags."""

from __future__ import annotations

import re

from bot.importer import import_files
from bot.mod_reasons import reason_text
from bot.mod_scan import scan
from bot.sample import write_sample_export
from bot.testing import BotHarness

CONFIG = """
[bot]
language = "zh-CN"
[check_blocklist]
words = ["casino"]
"""


def untranslated(check: str, reason: str) -> str | None:
    """The English left in a zh-CN reason (quoted text and numbers aside), if any."""
    text = reason_text(check, reason, "zh-CN")
    bare = re.sub(r"'[^']*'|\"[^\"]*\"", "", text)
    words = re.findall(r"[A-Za-z]{3,}", bare)
    return text if words else None


async def verdicts_of(app, group) -> list[dict]:
    flags = []
    for status in ("open", "hidden", "spam", "ham", "muted"):
        flags += await app.services["moderation"].store.flags(group.pk, status, limit=1000)
    return [v for f in flags for v in f["verdicts"]]


async def test_every_reason_the_checks_write_is_translated(tmp_path):
    bot = await BotHarness.create(tmp_path, CONFIG)
    try:
        await bot.join("newbie")
        await bot.say("newbie", "join here https://t.me/+AbCdEf and https://bit.ly/x")
        await bot.say("newbie", "@a @b @c @d @e @f @g @h look at this")
        await bot.say("shouter", "THIS IS ALL CAPS SHOUTING AT EVERYONE IN THE GROUP")
        await bot.say("emoji", "🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥 z̷̢̛a̶̡l̸g̵o̴")
        await bot.say("gambler", "best casino bonus here")
        await bot.say("gambler2", "c a s i n o tonight")
        for i in range(9):
            await bot.say("flooder", f"words number {i} again and again", advance=0.2)
        for _ in range(4):
            await bot.say("repeater", "the very same words again and again", advance=3)
        for who in ("r1", "r2", "r3", "r4", "r5", "r6"):
            await bot.say(who, "Free crypto airdrop, claim now before it ends", advance=0.5)
        seen = await verdicts_of(bot.app, bot.group)
        # The sample community's history adds the spam model's and anomaly's reasons.
        export = tmp_path / "result.json"
        write_sample_export(export, 101)
        await import_files(bot.app.store, [export])
        sample = next(g for g in await bot.app.store.groups() if g.group_id != bot.group_id)
        result = await scan(bot.app, sample)
        seen += [{"name": v.check, "reason": v.reason, "flagged": v.flagged} for s in result.flagged for v in s.verdicts]
    finally:
        await bot.close()
    checks = {v["name"] for v in seen}
    assert {"flood", "repeat", "raid", "newcomer", "mentions", "shouting", "symbols", "blocklist", "spam", "anomaly"} <= checks
    flagged = {v["name"] for v in seen if v["flagged"]}
    assert {"flood", "newcomer", "symbols", "blocklist", "spam"} <= flagged  # shouting is "low": no flag
    left = sorted({u for v in seen if (u := untranslated(v["name"], v["reason"]))})
    assert left == []


async def test_alert_and_flags_speak_the_groups_language(tmp_path):
    bot = await BotHarness.create(tmp_path, CONFIG)
    try:
        out = await bot.ask("gambler", "best casino bonus here")
        assert "屏蔽词：命中屏蔽词 'casino'" in out
        flags = await bot.ask("admin", "/flags")
        assert "命中屏蔽词 'casino'" in flags
    finally:
        await bot.close()
    # English groups see the reasons as the checks wrote them.
    assert reason_text("flood", "messages 7/5 in 10s", "en") == "flood: messages 7/5 in 10s"
    assert reason_text("flood", "messages 7/5 in 10s", "zh-CN") == "刷屏：10 秒内 7 条消息（上限 5）"
    assert reason_text("future_check", "something new", "zh-CN") == "future_check：something new"
