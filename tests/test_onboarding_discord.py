"""Onboarding on a simulated Discord (simcord): the newcomer is timed out until they
press the gate button; one who never presses is kicked when the (virtual) time is up;
an admin bypasses; a join burst raises the gate and tells the moderators once; the
welcome is in Chinese for a zh-CN group."""

from __future__ import annotations

import pytest

pytest.importorskip("discord_world", reason="the Discord adapter and its simcord world are not on this branch yet")

import simcord  # noqa: E402
from discord_world import DISCORD, build_world, make_app  # noqa: E402

from bot.clock import Clock  # noqa: E402

GATED = DISCORD + """
[onboarding]
gate = "button"
gate_minutes = 3.0
intro_tags = ["python", "career"]
raid_joins = 6
raid_seconds = 60.0
"""


class EnvClock(Clock):
    """The bot's clock reads simcord's virtual clock, so `advance_time` moves both."""

    def __init__(self, env: simcord.Env) -> None:
        self.env = env

    def now(self):
        return self.env.now()


async def world_with(tmp_path, config: str):
    from bot.config import SECTIONS, register_all

    register_all()
    if "check_raid" in SECTIONS:  # moderation installed: its raid thresholds count
        config += "[check_raid]\njoins = 6\njoin_seconds = 60.0\n"
    app, adapter = await make_app(tmp_path / "bot.db", config)
    return app, adapter


def bot_messages(channel) -> list:
    return [m for m in channel.history() if m.author.bot]


async def newcomer(env, world, name: str):
    m = world.guild.add_member(env.create_user(name))
    await env.settle()
    return m


def gate_message(channel, member):
    return next(m for m in reversed(bot_messages(channel))
                if m.components and m.components[0].children[0].custom_id.startswith("cb:gate:") and member.name in m.content)


async def run(tmp_path, config, body):
    app, adapter = await world_with(tmp_path, config)
    try:
        async with simcord.run(adapter.client) as env:
            world = build_world(env)
            await env.settle()
            app.clock = EnvClock(env)
            await env.advance_time(120)  # the world's own members joined well before the tests' newcomers
            await body(app, env, world)
    finally:
        await app.stop()


async def test_newcomer_is_timed_out_presses_and_is_released(tmp_path):
    async def body(app, env, world):
        dana = await newcomer(env, world, "dana")
        assert dana.member.timed_out_until is not None
        gate = gate_message(world.general, dana)
        res = await dana.click(gate, label="✅ I am not a bot")
        assert res.followups and res.followups[0].ephemeral and "write now" in res.followups[0].content
        assert dana.member.timed_out_until is None
        assert all(m.id != gate.id for m in world.general.history())  # the gate message is gone
        assert any("Welcome to Capstone Cohort" in m.content for m in bot_messages(world.general))

    await run(tmp_path, GATED, body)


async def test_silent_newcomer_is_kicked_after_the_time_limit(tmp_path):
    async def body(app, env, world):
        moon = await newcomer(env, world, "moon")
        gate = gate_message(world.general, moon)
        await env.advance_time(120)
        await app.services["onboarding"].run_due()
        assert moon.id in world.guild.member_ids()
        await env.advance_time(61)
        await app.services["onboarding"].run_due()
        await env.settle()
        assert moon.id not in world.guild.member_ids()
        assert world.guild.get_ban(moon) is None  # kicked, not banned: they may come back
        assert all(m.id != gate.id for m in world.general.history())

    await run(tmp_path, GATED, body)


async def test_someone_else_cannot_press_for_the_newcomer(tmp_path):
    async def body(app, env, world):
        dana = await newcomer(env, world, "dana")
        gate = gate_message(world.general, dana)
        res = await world.alice.click(gate, label="✅ I am not a bot")
        assert res.followups[0].ephemeral and "for dana" in res.followups[0].content
        assert dana.member.timed_out_until is not None
        res = await world.mod.click(gate, label="✅ I am not a bot")  # a moderator may let them in
        assert dana.member.timed_out_until is None

    await run(tmp_path, GATED, body)


async def test_join_burst_raises_the_gate_and_tells_moderators_once(tmp_path):
    async def body(app, env, world):
        accounts = [await newcomer(env, world, f"moon{i}") for i in range(7)]
        raid = [m for m in bot_messages(world.general) + bot_messages(world.mods) if "Join gate switched on" in m.content]
        assert len(raid) == 1 and "6 joins within 60s" in raid[0].content
        assert all(a.member.timed_out_until is not None for a in accounts)

    await run(tmp_path, GATED.replace('gate = "button"', 'gate = "off"'), body)


async def test_welcome_is_in_chinese(tmp_path):
    async def body(app, env, world):
        await newcomer(env, world, "xiaoming")
        (welcome,) = [m for m in bot_messages(world.general) if "欢迎" in m.content and "xiaoming" in m.content]
        assert "xiaoming" in welcome.content and "你对什么感兴趣" in welcome.content
        labels = [c.label for row in welcome.components for c in row.children]
        assert labels[-1] == "完成"

    await run(tmp_path, DISCORD + '[bot]\nlanguage = "zh-CN"\n[onboarding]\nintro_tags = ["python"]\n', body)
