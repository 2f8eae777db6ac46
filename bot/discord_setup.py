"""The `[discord]` config section and `build_discord_adapter(app, config)`, which the
`run` command uses to put a Discord server next to the other platforms.

    [discord]
    enabled = true
    token_env = "DISCORD_TOKEN"      # the token itself stays in the environment
    prefix = "!"
    moderator_roles = ["Mods"]
    moderator_channel = "moderators"
    guild_ids = []                   # empty: every server the bot is in
    allow_mentions = ["users"]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from adapters.discord import DiscordAdapter, DiscordOptions
from bot import i18n
from bot.config import Config, register_section, setting
from storage.models import EventRow, Group

if TYPE_CHECKING:
    from bot.app import App

_MENTIONS = ("users", "roles", "everyone", "replied_user")


@dataclass
class DiscordSettings:
    """Connecting to Discord (one bot account serving any number of servers)."""

    enabled: bool = setting(False, "Connect to Discord when `communitybot run` starts.")
    token_env: str = setting("DISCORD_TOKEN", "Environment variable holding the bot token.", secret_env=True)
    prefix: str = setting("!", "Prefix for text commands (\"!top\"); slash commands work too.")
    moderator_roles: list[str] = setting([], "Role names or ids whose members count as moderators.")
    moderator_channel: str = setting("moderators", "Channel (name or id) for notices to moderators.")
    guild_ids: list[str] = setting([], "Server ids to serve; empty serves every server the bot is in.")
    allow_mentions: list[str] = setting(["users"], "What the bot's messages may ping: users, roles, everyone, replied_user.")
    sync_commands: bool = setting(True, "Register slash commands in each server at start.")
    backfill_limit: int = setting(500, "At most this many missed messages per channel are fetched after a reconnect.")

    def check(self) -> str | None:
        """Reject values Discord cannot use, naming the key."""
        if not self.prefix or len(self.prefix) > 5 or " " in self.prefix:
            return f"key 'prefix' must be 1-5 characters without spaces, got {self.prefix!r}"
        bad = [m for m in self.allow_mentions if m not in _MENTIONS]
        if bad:
            return f"key 'allow_mentions' has unknown {bad} (known: {', '.join(_MENTIONS)})"
        bad = [g for g in self.guild_ids if not re.fullmatch(r"[0-9]{15,21}", g)]
        if bad:
            return f"key 'guild_ids' must hold server ids (digits), got {bad}"
        if self.backfill_limit < 0:
            return "key 'backfill_limit' must be 0 or more"
        return None


register_section("discord", DiscordSettings, per_group=False)

i18n.add(
    {
        "en": {"discord.missing_permission": "⚠️ I lack the permission to {what}. Please grant it to my role (Server Settings → Roles)."},
        "zh-CN": {"discord.missing_permission": "⚠️ 我缺少权限：{what}。请在服务器设置 → 身份组中为我的身份组授予该权限。"},
    }
)


def slash_commands(app: App) -> tuple[tuple[str, str], ...]:
    """(name, English description) of every visible router command, valid as slash names."""
    out = []
    for cmd in sorted(app.router.commands.values(), key=lambda c: c.name):
        if cmd.hidden or not re.fullmatch(r"[a-z0-9_-]{1,32}", cmd.name):
            continue
        out.append((cmd.name, i18n.t("en", cmd.help_key)[:100] or cmd.name))
    return tuple(out)


async def resume_points(app: App) -> dict[str, str]:
    """{channel id: newest stored message id} over every Discord group, for backfill."""
    e = EventRow.__table__
    g = Group.__table__
    # Snowflakes grow with time; as text, ids compare correctly only at equal length, so
    # take the largest id per (channel, length) and then the longest.
    length = func.length(e.c.message_id)
    q = (
        select(e.c.channel_id, length, func.max(e.c.message_id))
        .join(g, g.c.id == e.c.group_pk)
        .where(g.c.platform == "discord", e.c.kind.in_(["message", "command", "service"]), e.c.channel_id != "")
        # A slash command's id is the interaction's, not a message in the channel history.
        .where(~e.c.data.contains('"via": "slash"'))
        .group_by(e.c.channel_id, length)
    )
    async with app.store.engine.connect() as conn:
        rows = (await conn.execute(q)).all()
    best: dict[str, str] = {}
    for cid, _n, mid in rows:
        if mid and mid.isdigit() and int(mid) > int(best.get(cid, "0")):
            best[cid] = mid
    return best


def build_discord_adapter(app: App, config: Config | None = None, token: str | None = None) -> DiscordAdapter:
    """A `DiscordAdapter` configured from `[discord]`, with the app's commands as slash commands.

    The token comes from the environment variable `token_env` names (the config loader
    already refused to start if it is unset while `enabled = true`); pass `token` to
    override (tests pass none and attach the client to simcord).
    """
    config = config or app.config
    s: DiscordSettings = config.section("discord")

    async def describe_problem(group_id: str, what: str) -> str:
        group = await app.store.ensure_group("discord", group_id)
        return i18n.t(await app.language(group), "discord.missing_permission", what=what)

    async def points() -> dict[str, str]:
        return await resume_points(app)

    options = DiscordOptions(
        token=token if token is not None else config.secret("discord", "token_env"),
        prefix=s.prefix,
        moderator_roles=tuple(s.moderator_roles),
        moderator_channel=s.moderator_channel,
        guild_ids=tuple(s.guild_ids),
        allow_mentions=tuple(s.allow_mentions),
        sync_commands=s.sync_commands,
        backfill_limit=s.backfill_limit,
        commands=slash_commands(app),
        resume_points=points,
        describe_problem=describe_problem,
    )
    adapter = DiscordAdapter(options)
    app.add_adapter(adapter)
    return adapter


def install(app: App) -> None:
    """Nothing to wire per app: the section registers at import, the adapter at `run`."""


async def check_online(config: Config) -> str:
    """`check-config --online`: log in to Discord's HTTP API with the token (no gateway)."""
    import discord

    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(config.secret("discord", "token_env") or "")
        user = client.user
        return f"token valid: {user} (id {user.id})" if user else "token valid"
    except discord.LoginFailure as exc:
        raise RuntimeError(f"Discord rejected the token in ${config.section('discord').token_env}") from exc
    finally:
        await client.close()
