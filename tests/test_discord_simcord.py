"""The whole bot on a simulated Discord (simcord): what members and moderators see."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import discord
import pytest
import simcord
from discord_world import build_world, make_app

from adapters.base import Action, ActionKind, Button, Reply
from adapters.fake import FakeAdapter
from bot.links import person_ids
from storage.events import Event, EventKind


@pytest.fixture
async def dapp(tmp_path):
    app, adapter = await make_app(tmp_path / "bot.db")
    yield app, adapter
    await app.stop()


@pytest.fixture
def simcord_bot(dapp):
    return dapp[1].client


@pytest.fixture
async def world(simcord_env):
    w = build_world(simcord_env)
    await simcord_env.settle()  # let the bot see the guild and sync its slash commands
    return w


async def stored(app, world, kinds=None):
    group = await app.store.group("discord", world.gid)
    return await app.store.events(group.pk, kinds=kinds)


async def test_member_message_reply_and_reaction_are_stored(dapp, world):
    app, _ = dapp
    q = await world.alice.send(world.general, "How do I start the capstone? https://example.org")
    a = await world.bob.send(world.general, f"Start from the rubric, {world.alice.mention}", reply_to=q)
    await world.alice.react(a, "👍")
    evs = await stored(app, world, [EventKind.MESSAGE, EventKind.REACTION, EventKind.JOIN])
    msgs = [e for e in evs if e.kind is EventKind.MESSAGE and not e.is_bot]
    assert [e.text[:12] for e in msgs] == ["How do I sta", "Start from t"]
    question, answer = msgs
    assert question.member_id == str(world.alice.id) and question.link_count == 1
    assert answer.reply_to_id == str(q.id) and answer.target_member_id == str(world.alice.id)
    assert answer.mentions == (str(world.alice.id),) and answer.channel_id == str(world.general.id)
    react = next(e for e in evs if e.kind is EventKind.REACTION)
    assert react.target_member_id == str(world.bob.id) and react.emoji == "👍"
    assert {e.member_id for e in evs if e.kind is EventKind.JOIN} >= {str(world.alice.id), str(world.bob.id)}
    group = await app.store.group("discord", world.gid)
    assert group.title == "Capstone Cohort"


async def test_prefix_command_answers_and_bot_message_is_stored_as_bot(dapp, world):
    app, _ = dapp
    cmd = await world.alice.send(world.general, "!ping")
    answer = world.general.last_message
    assert answer.content == "pong" and answer.author.bot
    assert answer.reference is not None and answer.reference.message_id == cmd.id
    evs = await stored(app, world, [EventKind.COMMAND, EventKind.MESSAGE])
    assert [(e.kind, e.is_bot, e.text) for e in evs] == [
        (EventKind.COMMAND, False, "/ping"),
        (EventKind.MESSAGE, True, "pong"),
    ]


async def test_slash_commands_are_synced_and_routed(dapp, world):
    assert {"ping", "help", "link"} <= set(world.alice.available_commands(world.general))
    res = await world.alice.slash(world.general, "ping")
    assert res.response.content == "pong" and not res.ephemeral
    res = await world.alice.slash(world.general, "help", args="ping")
    assert res.response.content.startswith("/ping")


async def test_link_code_is_shown_only_to_the_member(dapp, world):
    res = await world.alice.slash(world.general, "link")
    assert res.ephemeral and "/link " in res.response.content
    # Nobody else sees it: no channel message carries the code.
    assert all("link code" not in m.content for m in world.general.history())


async def test_moderators_are_told_by_permissions_and_roles(dapp, world):
    _, adapter = dapp
    assert await adapter.is_admin(world.gid, str(world.mod.id))  # Manage Messages
    assert await adapter.is_admin(world.gid, str(world.mentor.id))  # configured role "Mentors"
    assert not await adapter.is_admin(world.gid, str(world.alice.id))
    assert not await adapter.is_admin(world.gid, "123")


async def test_mentions_are_sanitised(dapp, world):
    app, _ = dapp
    await world.alice.send(world.general, "hi")
    await app.send(Reply("discord", world.gid, "@everyone look", channel_id=str(world.general.id)))
    sent = world.general.last_message
    assert sent.content == "@everyone look" and not sent.mention_everyone


async def test_buttons_files_and_long_text(dapp, world):
    app, _ = dapp
    await world.alice.send(world.general, "hi")
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    reply = Reply(
        "discord", world.gid, "line\n" * 500, channel_id="general",
        buttons=[[Button("Yes", "vote:1"), Button("No", "vote:0")]], image=png,
    )
    sent = await app.send(reply)
    assert sent.ok
    last = world.general.last_message
    assert len(last.attachments) == 1 and last.attachments[0].filename == "chart.png"
    assert [c.custom_id for c in last.components[0].children] == ["cb:vote:1", "cb:vote:0"]
    parts = [m for m in world.general.history() if m.author.bot]
    assert len(parts) == 2 and sum(len(m.content) for m in parts) >= 2000


async def test_actions_delete_timeout_ban_unban(dapp, world):
    app, _ = dapp
    spam = await world.bob.send(world.general, "buy followers")
    gid, bob = world.gid, str(world.bob.id)
    assert await app.act(Action(ActionKind.DELETE, "discord", gid, message_id=str(spam.id)))
    assert world.general.last_message is None or world.general.last_message.id != spam.id
    assert await app.act(Action(ActionKind.MUTE, "discord", gid, member_id=bob, reason="spam"))
    assert world.bob.member.timed_out_until is not None
    assert await app.act(Action(ActionKind.UNMUTE, "discord", gid, member_id=bob))
    assert await app.act(Action(ActionKind.ADD_ROLE, "discord", gid, member_id=bob, value="Mentors"))
    assert "Mentors" in [r.name for r in world.bob.member.roles]
    assert await app.act(Action(ActionKind.BAN, "discord", gid, member_id=bob, reason="spam"))
    assert world.guild.get_ban(world.bob) is not None
    assert await app.act(Action(ActionKind.UNBAN, "discord", gid, member_id=bob))
    assert world.guild.get_ban(world.bob) is None


async def test_missing_permission_is_logged_and_told_once(dapp, world, caplog):
    app, _ = dapp
    world.env.inject_error("PUT", "/guilds/*/bans/*", status=403, code=50013, message="Missing Permissions", times=None)
    ban = Action(ActionKind.BAN, "discord", world.gid, member_id=str(world.bob.id))
    assert not await app.act(ban)
    assert not await app.act(ban)
    notices = [m for m in world.mods.history() if m.author.bot]
    assert len(notices) == 1 and "ban members" in notices[0].content
    assert "lacks permission to ban members" in caplog.text
    # A channel the bot may not write in: the real permission check refuses it.
    quiet = world.guild.create_text_channel(
        "announcements", overwrites={world.guild.me: discord.PermissionOverwrite(send_messages=False)}
    )
    sent = await app.send(Reply("discord", world.gid, "hello", channel_id=str(quiet.id)))
    assert not sent.ok and "forbidden" in sent.error
    assert len([m for m in world.mods.history() if m.author.bot]) == 2
    world.env.errors.clear()


async def test_backfill_after_downtime_stores_missed_messages_once(tmp_path):
    db = tmp_path / "bot.db"
    app, adapter = await make_app(db)
    async with simcord.run(adapter.client) as env:
        world = build_world(env)
        await world.alice.send(world.general, "before the outage")
        await app.stop()
        # The bot process is down: Discord keeps the conversation without it.
        await env.restart_bot(discord.Client(intents=discord.Intents.none()))
        await world.alice.send(world.general, "while the bot was away")
        await world.bob.send(world.general, "!ping")
        # Restart: a new process on the same database resumes from what it stored.
        app2, adapter2 = await make_app(db)
        await env.restart_bot(adapter2.client)
        evs = await stored(app2, world, [EventKind.MESSAGE, EventKind.COMMAND])
        # The missed command is answered late rather than never.
        assert [e.text for e in evs] == ["before the outage", "while the bot was away", "/ping", "pong"]
        assert evs[1].data.get("backfill") and not evs[0].data.get("backfill")
        # A second resume finds nothing new and stores nothing twice.
        adapter2._gap = True
        await adapter2._backfill()
        assert len(await stored(app2, world, [EventKind.MESSAGE, EventKind.COMMAND])) == 4
        await app2.stop()


def _install_vote(app):
    """A small button route on the real router (the moderation feature's own buttons are
    tested in test_discord_moderation.py)."""

    @app.router.button("vote")
    async def vote(ctx):
        return ctx.reply(f"{ctx.event.member_name} voted {ctx.args[0]}", ephemeral=True, private_to=ctx.event.member_id)


async def test_old_buttons_answer_after_restart(tmp_path):
    db = tmp_path / "bot.db"
    app, adapter = await make_app(db)
    _install_vote(app)
    async with simcord.run(adapter.client) as env:
        world = build_world(env)
        await env.settle()
        await world.alice.send(world.general, "hi")
        await app.send(Reply("discord", world.gid, "Come to the meetup?", channel_id="general",
                             buttons=[[Button("Yes", "vote:yes"), Button("No", "vote:no")]]))
        poll = world.general.last_message
        res = await world.bob.click(poll, label="Yes")
        assert [f.content for f in res.followups] == ["bob voted yes"] and res.followups[0].ephemeral
        await app.stop()
        # A new process: new app, new adapter, new client; the message is a week old.
        app2, adapter2 = await make_app(db)
        _install_vote(app2)
        await env.restart_bot(adapter2.client)
        await env.advance_time(7 * 24 * 3600)
        res = await world.alice.click(poll, label="No")
        assert [f.content for f in res.followups] == ["alice voted no"]
        presses = await stored(app2, world, [EventKind.BUTTON])
        assert [e.data["payload"] for e in presses] == ["vote:yes", "vote:no"]
        assert presses[1].message_id == str(poll.id)
        await app2.stop()


async def test_unknown_button_is_answered_privately(dapp, world):
    app, _ = dapp
    await world.alice.send(world.general, "hi")
    await app.send(Reply("discord", world.gid, "old feature", channel_id="general", buttons=[[Button("Go", "gone:1")]]))
    res = await world.bob.click(world.general.last_message, label="Go")
    assert res.followups[0].ephemeral and res.followups[0].content == "This button no longer works."


async def test_slow_command_is_deferred_then_answered(tmp_path):
    app, adapter = await make_app(tmp_path / "bot.db")

    @app.router.command("slow", usage="/slow", help_key="cmd.help.ping")
    async def slow(ctx):
        await asyncio.to_thread(time.sleep, 0.3)  # slow work, longer than the adapter waits to defer
        return ctx.private("done privately", ephemeral=True)

    adapter.options.commands += (("slow", "a slow command"),)
    adapter._add_slash_commands()
    adapter.defer_after = 0  # 2 s in production; here it defers while the command works
    async with simcord.run(adapter.client) as env:
        world = build_world(env)
        await env.settle()
        res = await world.alice.slash(world.general, "slow")
        assert [f.content for f in res.followups] == ["done privately"] and res.followups[0].ephemeral
        # The public "thinking…" message was removed rather than filled with private text.
        assert res.response is None or "done privately" not in res.response.content
        assert all("done privately" not in m.content for m in world.general.history())
    await app.stop()


async def test_link_code_from_discord_typed_on_telegram(dapp, world):
    app, _ = dapp
    telegram = FakeAdapter("telegram")
    app.add_adapter(telegram)
    await telegram.start(app.handle)
    res = await world.alice.slash(world.general, "link")
    code = res.response.content.split("/link ")[1].split(" ")[0]
    await telegram.inject(Event(platform="telegram", group_id="-100123", kind=EventKind.COMMAND,
                                time=datetime.now(UTC), member_id="42", member_name="Alice T",
                                message_id="7", text=f"/link {code}"))
    assert "Discord account now count as one person" in telegram.sent[-1].text
    alice = str(world.alice.id)
    assert (await person_ids(app, "discord", [alice]))[alice] == (await person_ids(app, "telegram", ["42"]))["42"]
