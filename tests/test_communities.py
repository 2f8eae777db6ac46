"""A community spanning a Telegram chat and a Discord server: one leaderboard, one points
balance per person once they `/link`, settings from the `[[communities]]` entry.

Both chats run through the real pipeline of one app on one store; the platforms are
FakeAdapters named "telegram" and "discord" (the real-stack version of the same story
is in test_communities_live.py).
"""

from __future__ import annotations

import re

import pytest

from bot.config import ConfigError, load_config_text
from bot.testing import BotHarness

CONFIG = """
[[communities]]
id = "course"
title = "Course 101"
telegram = ["g1"]
discord = ["srv1"]
moderators = { discord = "srv1#mods" }
timezone = "Asia/Shanghai"
[communities.points]
message_cooldown = 0
rewards = { mug = 5 }
[communities.moderation]
mode = "alert"

[[groups]]
platform = "discord"
id = "srv1"
language = "zh-CN"
"""


@pytest.fixture
async def pair(tmp_path):
    """(telegram chat g1, discord server srv1) of community "course", one app."""
    tg = await BotHarness.create(tmp_path, CONFIG, platform="telegram")
    dc = await tg.other("discord", "srv1", "Course 101 Discord")
    yield tg, dc
    await tg.close()


@pytest.fixture
async def pair_on(tmp_path, db_url):
    """`pair` on each backend (SQLite, and PostgreSQL when configured)."""
    tg = await BotHarness.create(tmp_path, CONFIG, db_url=db_url, platform="telegram")
    dc = await tg.other("discord", "srv1", "Course 101 Discord")
    yield tg, dc
    await tg.close()


async def chat(tg, dc):
    for i in range(6):
        await tg.say("t_ann", f"Telegram message number {i} about the capstone")
    for i in range(4):
        await dc.say("d_ann", f"Discord message number {i} about the rubric")
    for i in range(5):
        await dc.say("d_bob", f"Bob writes on Discord, message {i}, at length")
    await tg.say("t_cy", "A single message from Cy on Telegram")


async def link(tg, dc, tg_member, dc_member):
    out = await tg.ask(tg_member, "/link")
    code = re.search(r"code is (\w{3}-\w{3})", out).group(1)
    assert "关联成功" in await dc.ask(dc_member, f"/link {code}")


def lines(text):
    return [ln for ln in text.splitlines() if re.match(r"\d+\. ", ln)]


async def test_one_leaderboard_across_platforms_after_link(pair_on):
    tg, dc = pair_on
    await chat(tg, dc)
    before = await tg.ask("t_cy", "/top all")
    assert "Course 101 · Telegram + Discord" in before
    names = [ln.split(". ", 1)[1].split(" — ")[0] for ln in lines(before)]
    assert set(names) == {"t_ann", "d_ann", "d_bob", "t_cy"}  # both chats, accounts apart
    await link(tg, dc, "t_ann", "d_ann")
    after = lines(await tg.ask("t_cy", "/top all"))
    assert len(after) == 3 and after[0].startswith("1. t_ann")  # 10 messages beat Bob's 5
    # The same board from the Discord side names the person by their Discord account.
    assert lines(await dc.ask("d_bob", "/top all"))[0].startswith("1. d_ann")


async def test_per_platform_and_here_scopes(pair):
    tg, dc = pair
    await chat(tg, dc)
    here = await tg.ask("t_cy", "/top here all")
    assert "Course 101 ·" not in here and "d_bob" not in here and "t_ann" in here
    only_discord = await tg.ask("t_cy", "/top discord all")
    assert "Course 101 · Discord" in only_discord and "d_bob" in only_discord and "t_ann" not in only_discord
    influence = await dc.ask("d_bob", "/top influence community")
    assert "Course 101 · Telegram + Discord" in influence


async def test_scope_errors_name_the_problem(pair, tmp_path):
    tg, dc = pair
    await chat(tg, dc)
    out = await tg.ask("t_cy", "/top console")
    assert "“console”" in out and "telegram|discord" in out
    lone = await tg.other("telegram", "g9", "Not in a community")
    await lone.say("x", "hello there, anyone around")
    out = await lone.ask("x", "/top discord")
    assert "not part of a community" in out
    assert "x" in await lone.ask("x", "/top")  # outside a community: this chat, as before


async def test_one_points_balance_and_redeem_across_platforms(pair_on):
    tg, dc = pair_on
    for i in range(6):
        await tg.say("t_ann", f"Telegram message number {i} about the capstone")
    await dc.say("d_ann", "One message on Discord, long enough")
    assert "7" not in (await dc.ask("d_ann", "/points")).split("\n")[0]
    await link(tg, dc, "t_ann", "d_ann")
    out = await dc.ask("d_ann", "/points")
    assert "7" in out.split("\n")[0]
    assert "Telegram 6" in out and "Discord 1" in out
    # The mug costs 5: Discord alone has 1 point, the person has 7.
    replies = await dc.replies_to("d_ann", "/redeem mug")
    request = next(r for r in replies if r.buttons)
    payload = request.buttons[0][0].data
    assert payload.startswith("redeem:approve:")
    decided = await dc.press("admin", payload)
    assert any("mug" in r.text for r in decided)
    assert "2" in (await tg.ask("t_ann", "/points")).split("\n")[0]
    board = await tg.ask("t_cy", "/top points all")
    assert "Course 101 · Telegram + Discord" in board and lines(board)[0] == "1. t_ann — 7"


async def test_deduct_uses_the_whole_balance(pair):
    tg, dc = pair
    for i in range(4):
        await tg.say("t_ann", f"Telegram message number {i} about the capstone")
    await link(tg, dc, "t_ann", "d_ann")
    await dc.say("d_ann", "I am here on Discord now, hello")
    out = await dc.ask("admin", "/deduct @d_ann 3 spam")
    assert "3" in out
    assert "2" in (await tg.ask("t_ann", "/points")).split("\n")[0]


async def test_opt_out_on_one_platform_hides_the_person_everywhere(pair):
    tg, dc = pair
    await chat(tg, dc)
    await link(tg, dc, "t_ann", "d_ann")
    await dc.say("d_ann", "/optout")
    board = await tg.ask("t_cy", "/top all")
    assert "t_ann" not in board and "d_ann" not in board and "d_bob" in board


async def test_settings_come_from_the_community_then_the_group(pair):
    tg, dc = pair
    await chat(tg, dc)
    app = tg.app
    t_mod = await app.settings("moderation", tg.group)
    d_mod = await app.settings("moderation", dc.group)
    assert (d_mod.alerts_chat, d_mod.alerts_channel, d_mod.mode) == ("srv1", "mods", "alert")
    assert (t_mod.alerts_chat, t_mod.mode) == ("", "alert")  # no Telegram moderators' chat set
    assert (await app.settings("bot", tg.group)).timezone == "Asia/Shanghai"
    assert await app.language(tg.group) == "en" and await app.language(dc.group) == "zh-CN"
    assert (await app.settings("points", dc.group)).rewards == {"mug": 5}
    # /config set in chat still wins over the community.
    await dc.ask("admin", "/config set moderation.mode observe")
    assert (await app.settings("moderation", dc.group)).mode == "observe"
    assert (await app.settings("moderation", tg.group)).mode == "alert"


@pytest.mark.parametrize("text, message", [
    ('[[communities]]\nid = "a"\ntelegram = ["1"]\n[[communities]]\nid = "b"\ntelegram = ["1"]',
     "telegram 1 is already in community 'a'"),
    ('[[communities]]\nid = "a"\ntitle = "x"', "lists no chats"),
    ('[[communities]]\nid = "two words"\ntelegram = ["1"]', "must be one word"),
    ('[[communities]]\nid = "a"\ntelegram = ["1"]\n[[communities]]\nid = "a"\ndiscord = ["2"]', "same id"),
    ('[[communities]]\nid = "a"\ntelegram = ["1"]\nslack = ["2"]', "unknown key 'slack'"),
    ('[[communities]]\nid = "a"\ntelegram = [true]', "expected a list of chat or server ids"),
    ('[[communities]]\nid = "a"\ntelegram = ["1"]\nmoderators = { matrix = "x" }', "unknown platform 'matrix'"),
    ('[[communities]]\nid = "a"\ntelegram = ["1"]\n[communities.moderation]\nmode = "loud"', "[[communities]] 'a' [moderation]"),
    ('[[communities]]\nid = "a"\ntelegram = ["1"]\ntimezone = "Mars/Base"', "not a known time zone"),
    ('communities = 3', "must be an array of tables"),
])
def test_bad_community_tables_are_named(text, message):
    with pytest.raises(ConfigError) as err:
        load_config_text(text)
    assert message in str(err.value)


def test_numeric_telegram_ids_and_moderators_per_platform():
    cfg = load_config_text(
        '[[communities]]\nid = "dc"\ntelegram = [-1001234567890]\ndiscord = ["11"]\n'
        'moderators = { telegram = -1009999, discord = "11#22" }\nlanguage = "zh-CN"\n'
    )
    c = cfg.community_of("telegram", "-1001234567890")
    assert c is not None and c.platforms() == ["telegram", "discord"]
    assert cfg.for_group("moderation", "telegram", "-1001234567890").alerts_chat == "-1009999"
    d = cfg.for_group("moderation", "discord", "11")
    assert (d.alerts_chat, d.alerts_channel) == ("11", "22")
    assert cfg.for_group("bot", "discord", "11").language == "zh-CN"
    assert cfg.for_group("bot", "discord", "12").language == "en"


async def test_weekly_board_posts_the_community_board_in_each_chat(pair):
    from datetime import timedelta

    from bot.jobs import weekly_board

    tg, dc = pair
    for i in range(3):
        await tg.say("t_ann", f"Telegram message number {i} about the capstone")
    await dc.say("d_ann", "One message on Discord, long enough")
    await dc.say("d_bob", "Bob's only message on Discord today")
    await link(tg, dc, "t_ann", "d_ann")
    fire = tg.clock.now() + timedelta(minutes=1)
    await weekly_board(tg.app, dc.group, None, fire)
    post = dc.adapter.sent[-1].text
    assert lines(post) == ["1. d_ann — 4", "2. d_bob — 1"]
    await weekly_board(tg.app, tg.group, None, fire)
    assert lines(tg.adapter.sent[-1].text)[0] == "1. t_ann — 4"


def test_environment_overrides_a_communitys_setting(monkeypatch):
    text = '[[communities]]\nid = "DataCourse"\ntelegram = ["1"]\n[communities.moderation]\nmode = "alert"\n'
    monkeypatch.setenv("COMMUNITYBOT_COMMUNITIES__DATACOURSE__MODERATION__MODE", "observe")
    monkeypatch.setenv("COMMUNITYBOT_COMMUNITIES__DATACOURSE__POINTS__MESSAGE", "3")
    cfg = load_config_text(text)
    assert cfg.for_group("moderation", "telegram", "1").mode == "observe"
    assert cfg.for_group("points", "telegram", "1").message == 3
    monkeypatch.setenv("COMMUNITYBOT_COMMUNITIES__NOPE__MODERATION__MODE", "observe")
    with pytest.raises(ConfigError, match="no \\[\\[communities\\]\\] entry has the id 'nope'"):
        load_config_text(text)
    monkeypatch.delenv("COMMUNITYBOT_COMMUNITIES__NOPE__MODERATION__MODE")
    monkeypatch.setenv("COMMUNITYBOT_COMMUNITIES__DATACOURSE__MODERATION__MODE", "loud")
    with pytest.raises(ConfigError, match=r"\[\[communities\]\] .DataCourse. \[moderation\]: mode must be one of"):
        load_config_text(text)


def test_language_key_and_bot_table_both_apply():
    cfg = load_config_text('[[communities]]\nid = "a"\ntelegram = ["1"]\nlanguage = "zh-CN"\n[communities.bot]\ntimezone = "Asia/Shanghai"\n')
    bot = cfg.for_group("bot", "telegram", "1")
    assert (bot.language, bot.timezone) == ("zh-CN", "Asia/Shanghai")


def test_the_example_configs_community_loads():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "config.example.toml").read_text(encoding="utf-8")
    block = text[text.index("# [[communities]]"):text.index("# Per-group overrides")]
    cfg = load_config_text("\n".join(ln[2:] for ln in block.splitlines() if ln.startswith("# ")))
    (c,) = cfg.communities
    assert c.platforms() == ["telegram", "discord"]
    assert cfg.for_group("moderation", "discord", "1122334455667788990").alerts_channel == "2233445566778899001"


async def test_a_level_up_counts_the_whole_person(tmp_path):
    config = CONFIG.replace("message_cooldown = 0\n", "message_cooldown = 0\nlevel_curve = [0, 0, 5]\n")
    tg = await BotHarness.create(tmp_path, config, platform="telegram")
    dc = await tg.other("discord", "srv1", "Course 101 Discord")
    try:
        for i in range(4):
            await tg.say("t_ann", f"Telegram message number {i} about the capstone")
        await link(tg, dc, "t_ann", "d_ann")
        # 4 XP on Telegram; the first point on Discord makes 5: level 1, announced there.
        out = await dc.ask("d_ann", "My first message on Discord, long enough")
        assert "d_ann 升到了 1 级" in out, out  # the Discord server speaks Chinese
        assert "1" in (await tg.ask("t_ann", "/level")).split("\n")[0]
    finally:
        await tg.close()
