"""One community on both real stacks at once: a Telegram chat over python-telegram-bot
against the fake Bot API, and a Discord server in simcord parsed by discord.py, served by
one app on one store. A member links her accounts with /link on Telegram and !link on
Discord; then both platforms show one leaderboard and one points balance."""

from __future__ import annotations

import re

import simcord
from discord_world import DISCORD, WorldClock
from telegram_harness import GROUP, PEOPLE, TgHarness, until

from bot.discord_setup import build_discord_adapter

GUILD = 424242424242424242

COMMUNITY = f"""
[onboarding]
welcome = false
intro = false
[points]
message_cooldown = 0.0
[[communities]]
id = "capstone"
title = "Capstone Cohort"
telegram = [{GROUP}]
discord = ["{GUILD}"]
"""


async def test_link_then_one_board_and_one_balance(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("TEST_TG_TOKEN", fake.token)
    tg = TgHarness(tmp_path, fake, DISCORD + COMMUNITY)
    from bot.app import App
    from bot.config import load_config_text

    tg.app = await App.create(load_config_text(tg.config_text()), tg.db_url, WorldClock())
    await tg.start()
    app = tg.app
    dc = build_discord_adapter(app, token="")
    await dc.start(app.handle)
    try:
        async with simcord.run(dc.client) as env:
            app.clock.env = env
            guild = env.create_guild("Capstone Cohort", id=GUILD)
            general = guild.create_text_channel("general")
            alice_d = guild.add_member(env.create_user("alice_dc"))
            bob_d = guild.add_member(env.create_user("bob_dc"))
            await env.settle()

            for i in range(3):
                await tg.say("alice", f"Telegram notes on the capstone, part {i}")
            await tg.say("chen", "Chen says hello on Telegram")
            await alice_d.send(general, "Alice on Discord, about the rubric")
            for i in range(2):
                await env.advance_time(5)
                await bob_d.send(general, f"Bob on Discord, message {i} about the data")

            # Before linking: four people on the community board, Telegram's Alice first.
            await env.advance_time(5)
            await bob_d.send(general, "!top points all")
            board = general.last_message.content
            assert "Capstone Cohort · Telegram + Discord" in board
            names = re.findall(r"^\d+\. (\S+)", board, re.M)
            assert names[:2] == ["Alice", "bob_dc"] and set(names[2:]) == {"Chen", "alice_dc"}  # 3, 2, then 1 each

            # /link on Telegram: the code comes privately (a message to Alice herself).
            await tg.say("alice", "/link")
            dm = [c.params["text"] for c in fake.called("sendMessage") if int(c.params["chat_id"]) == PEOPLE["alice"]["id"]]
            code = re.search(r"code is (\w{3}-\w{3})", dm[-1]).group(1)
            await env.advance_time(5)
            await alice_d.send(general, f"!link {code}")
            await until(lambda: app.services["links"].person_id("discord", str(alice_d.id)), "link stored")
            assert (await app.services["links"].person_id("discord", str(alice_d.id))).startswith("p")

            # One board: Alice's two accounts are one line with 4 points, shown by her
            # Discord name on Discord.
            await env.advance_time(5)
            await bob_d.send(general, "!top points all")
            board = general.last_message.content
            assert re.findall(r"^\d+\. (\S+) — (\d+)", board, re.M) == [("alice_dc", "4"), ("bob_dc", "2"), ("Chen", "1")]
            # The same board on Telegram names her as Telegram knows her.
            await tg.say("chen", "/top points all")
            assert re.findall(r"^\d+\. (\S+) — (\d+)", tg.sent_texts()[-1], re.M)[0] == ("Alice", "4")

            # One balance: /points on Telegram counts the Discord point too.
            await tg.say("alice", "/points")
            reply = tg.sent_texts()[-1]
            assert "4" in reply.split("\n")[0] and "Telegram 3 · Discord 1" in reply
    finally:
        await dc.stop()
        await tg.close()
