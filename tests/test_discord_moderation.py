"""Moderation, leaderboards and level rewards on a simulated Discord (simcord): a spam
message raises an alert with buttons in the moderators' channel; a moderator's press
deletes and bans; a member's press is refused; buttons on an alert survive a restart;
/top answers; a level reward gives a role."""

from __future__ import annotations

import discord
import simcord
from discord_world import CONFIG, attach, build_world, make_app

SPAM = "Earn $500 a day from home, no experience needed! DM me now https://bit.ly/3xProfit"
#: Alerts go to #moderators (by name: the adapter resolves channel names and ids).
MOD_CONFIG = CONFIG + '\n[moderation]\nalerts_channel = "moderators"\n'


def bot_messages(channel) -> list[discord.Message]:
    return [m for m in channel.history() if m.author.bot]


async def alert_in_mods(app, world) -> discord.Message:
    """A newcomer posts spam; return (spammer, spam message, the alert in #moderators)."""
    await world.alice.send(world.general, "Hi all, when is the capstone due?")
    spammer = world.guild.add_member(world.env.create_user("spammer"))
    await world.env.settle()
    spam = await spammer.send(world.general, SPAM)
    (alert,) = bot_messages(world.mods)
    return spammer, spam, alert


def labels(message: discord.Message) -> list[str]:
    return [c.label for row in message.components for c in row.children]


async def test_spam_alert_press_refused_then_moderator_bans(tmp_path):
    app, adapter = await make_app(tmp_path / "bot.db", MOD_CONFIG)
    async with simcord.run(adapter.client) as env:
        world = build_world(env, app)
        await env.settle()
        spammer, spam, alert = await alert_in_mods(app, world)
        assert "spammer" in alert.content and "Earn $500" in alert.content
        assert len(labels(alert)) == 3 and all(c.custom_id.startswith("cb:mod:") for row in alert.components for c in row.children)
        # A member who is no moderator presses "Spam": told privately, nothing happens.
        refused = await world.bob.click(alert, custom_id=alert.components[0].children[0].custom_id)
        assert refused.followups and refused.followups[0].ephemeral and "moderators" in refused.followups[0].content
        assert world.guild.get_ban(spammer) is None
        assert any(m.id == spam.id for m in world.general.history())
        # A moderator presses it: the message goes, the spammer is banned, the alert says so.
        await world.mod.click(alert, custom_id=alert.components[0].children[0].custom_id)
        assert world.guild.get_ban(spammer) is not None
        assert all(m.id != spam.id for m in world.general.history())
        (edited,) = bot_messages(world.mods)
        assert "Decision: spam" in edited.content and not edited.components
    await app.stop()


async def test_alert_buttons_work_after_restart(tmp_path):
    db = tmp_path / "bot.db"
    app, adapter = await make_app(db, MOD_CONFIG)
    async with simcord.run(adapter.client) as env:
        world = build_world(env, app)
        await env.settle()
        spammer, spam, alert = await alert_in_mods(app, world)
        await app.stop()
        app2, adapter2 = await make_app(db, MOD_CONFIG)
        attach(app2, env)
        await env.restart_bot(adapter2.client)
        await world.mentor.click(alert, custom_id=alert.components[0].children[0].custom_id)  # "Mentors" role
        assert world.guild.get_ban(spammer) is not None
        assert all(m.id != spam.id for m in world.general.history())
        await app2.stop()


async def test_top_lists_the_members_who_talk(tmp_path):
    app, adapter = await make_app(tmp_path / "bot.db")
    async with simcord.run(adapter.client) as env:
        world = build_world(env, app)
        await env.settle()
        q = await world.alice.send(world.general, "How do I start the capstone?")
        for text in ("Start from the rubric.", "Then the data section.", "Ask me if stuck."):
            await env.advance_time(60)
            await world.bob.send(world.general, text, reply_to=q)
        await env.advance_time(60)
        await world.alice.send(world.general, "Thanks, that helps a lot!")
        await env.advance_time(60)
        res = await world.alice.slash(world.general, "top")
        assert "bob" in res.response.content and "alice" in res.response.content
        await world.alice.send(world.general, "!top")
        assert "bob" in world.general.last_message.content
    await app.stop()


async def test_a_press_acknowledged_too_late_still_acts(tmp_path):
    app, adapter = await make_app(tmp_path / "bot.db", MOD_CONFIG)
    async with simcord.run(adapter.client, check_errors=False) as env:
        world = build_world(env, app)
        await env.settle()
        spammer, spam, alert = await alert_in_mods(app, world)
        # Discord answers "Unknown interaction" when the three seconds have passed.
        env.inject_error("POST", "/interactions/*/callback", status=404, code=10062, message="Unknown interaction")
        await world.mod.click(alert, custom_id=alert.components[0].children[0].custom_id)
        assert world.guild.get_ban(spammer) is not None
        assert all(m.id != spam.id for m in world.general.history())
    await app.stop()


async def test_level_reward_gives_a_discord_role(tmp_path):
    config = CONFIG + (
        '\n[points]\nmessage_cooldown = 0.0\nlevel_curve = [0, 0, 2]\n'
        'level_rewards = { "1" = "role:Mentors" }\n'
    )
    app, adapter = await make_app(tmp_path / "bot.db", config)
    async with simcord.run(adapter.client) as env:
        world = build_world(env, app)
        await env.settle()
        await world.alice.send(world.general, "Here is my capstone outline for review.")
        assert "Mentors" not in [r.name for r in world.alice.member.roles]
        await env.advance_time(5)
        await world.alice.send(world.general, "And the data sources I plan to use.")
        assert "Mentors" in [r.name for r in world.alice.member.roles]
    await app.stop()


async def test_commands_sent_to_the_bot_privately_are_answered_privately(tmp_path):
    """A member DMs the bot `!feedback …`: it lands in the server's inbox (the community
    she last wrote in) and the thanks comes back in the DM; other DM chatter is ignored."""
    from storage.dashboard import DashboardStore

    app, adapter = await make_app(tmp_path / "bot.db")
    async with simcord.run(adapter.client) as env:
        world = build_world(env, app)
        await env.settle()
        await world.alice.send(world.general, "Hi all, when is the capstone due?")
        await world.alice.send_dm("just saying hi to the bot")
        await world.alice.send_dm("!feedback the lesson 4 video stops halfway")
        dm = [m for m in world.alice.user.dm_channel.history() if m.author.bot]
        assert len(dm) == 1 and "Capstone Cohort" in dm[0].content
        g = await app.store.group("discord", world.gid)
        items = await DashboardStore(app.store.engine).feedback_items(g.pk)
        assert [i["text"] for i in items] == ["the lesson 4 video stops halfway"]
        stored = await app.store.events(g.pk)
        assert all("saying hi" not in (e.text or "") for e in stored)
    await app.stop()
