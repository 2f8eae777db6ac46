"""A Discord server in simcord with the whole bot attached, for the integration tests.

The app (real pipeline, real SQLite file) gets a real `DiscordAdapter`; its discord.py
client runs against simcord's in-memory Discord, so gateway parsing, interactions and
REST calls are discord.py's own code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import discord
import simcord

import bot.discord_setup  # noqa: F401  - registers the [discord] section before parsing
from adapters.discord import DiscordAdapter
from bot.app import App
from bot.clock import Clock
from bot.config import load_config_text
from bot.discord_setup import build_discord_adapter

DISCORD = """
[discord]
prefix = "!"
moderator_roles = ["Mentors"]
moderator_channel = "moderators"
"""
#: The world's members join as it is built; these tests are about the adapter and other
#: features, so onboarding's welcomes stay quiet here (tests/test_onboarding_discord.py
#: starts from DISCORD instead).
CONFIG = DISCORD + """
[onboarding]
welcome = false
intro = false
"""


class WorldClock(Clock):
    """The simulated Discord's clock (simcord runs its own time), once a world is attached;
    message times and the bot's "now" then agree, as they do on the real Discord."""

    env: simcord.Env | None = None

    def now(self):
        """simcord's current time, or the system clock before a world is attached."""
        return self.env.now() if self.env is not None else super().now()


async def make_app(db_path: Path, config: str = CONFIG) -> tuple[App, DiscordAdapter]:
    """An app on `db_path` with a Discord adapter, started (not connected: simcord does that)."""
    app = await App.create(load_config_text(config, require_secrets=False), f"sqlite:///{db_path}", WorldClock())
    adapter = build_discord_adapter(app, token="")
    await app.start()
    return app, adapter


@dataclass
class World:
    """One guild: #general, #moderators, a member, a moderator and a mentor."""

    env: simcord.Env
    guild: simcord.GuildHandle
    general: simcord.ChannelHandle
    mods: simcord.ChannelHandle
    alice: simcord.MemberActor
    bob: simcord.MemberActor
    mod: simcord.MemberActor
    mentor: simcord.MemberActor

    @property
    def gid(self) -> str:
        """The guild id as the bot stores it."""
        return str(self.guild.id)


def attach(app: App, env: simcord.Env) -> None:
    """Let the app's clock follow the simulated world's time."""
    if isinstance(app.clock, WorldClock):
        app.clock.env = env


def build_world(env: simcord.Env, *apps: App) -> World:
    """Create the guild, its channels, roles and members (and attach the apps' clocks)."""
    for app in apps:
        attach(app, env)
    guild = env.create_guild("Capstone Cohort")
    general = guild.create_text_channel("general")
    mods = guild.create_text_channel("moderators")
    moderators = guild.create_role("Moderators", permissions=discord.Permissions(manage_messages=True, moderate_members=True))
    mentors = guild.create_role("Mentors")
    return World(
        env=env,
        guild=guild,
        general=general,
        mods=mods,
        alice=guild.add_member(env.create_user("alice")),
        bob=guild.add_member(env.create_user("bob")),
        mod=guild.add_member(env.create_user("mod"), roles=[moderators]),
        mentor=guild.add_member(env.create_user("mentor"), roles=[mentors]),
    )
