"""The Discord adapter: discord.py 2.7 in the shared event loop.

A guild is a group; its text channels and threads are channels. Gateway events are
translated by the pure functions in `adapters/discord_events.py` and handed to the
sink one at a time (in arrival order). Replies and actions come back as neutral
`Reply`/`Action` objects and are carried out here; slash commands and button presses
are answered through their interaction (see `adapters/discord_interactions.py`).

This module is named like the library it uses. With absolute imports (the default in
Python 3) `import discord` below is the discord.py package, not this file, because this
file's own name is `adapters.discord`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import discord
from discord import app_commands

from adapters import discord_events as dev
from adapters.base import EventSink, Reply, Sent
from adapters.discord_actions import ActionMixin
from adapters.discord_interactions import DEFER_AFTER, InteractionMixin
from adapters.discord_ui import CommunityClient, allowed_mentions
from storage.events import Event, EventKind

log = logging.getLogger(__name__)

PLATFORM = dev.PLATFORM
#: Messages remembered for reply/reaction authors and delete channels.
_CACHE = 20000


def intents() -> discord.Intents:
    """Guilds, members, messages (in servers and to the bot), message content and
    reactions (two are privileged)."""
    i = discord.Intents.none()
    i.guilds = True
    i.members = True  # privileged: joins, leaves, member lookups for moderator checks
    i.guild_messages = True
    i.message_content = True  # privileged: the text of members' messages
    i.guild_reactions = True
    i.dm_messages = True  # commands sent to the bot privately (/feedback, /mydata, /link)
    return i


@dataclass
class DiscordOptions:
    """What the adapter needs from the configuration (built by `bot/discord_setup.py`)."""

    token: str | None = None
    prefix: str = "!"
    #: Role names or ids whose holders count as moderators, besides permissions.
    moderator_roles: tuple[str, ...] = ()
    #: Channel (name or id) for notices to moderators, such as missing permissions.
    moderator_channel: str = "moderators"
    #: Guilds to serve; empty serves every guild the bot is in.
    guild_ids: tuple[str, ...] = ()
    allow_mentions: tuple[str, ...] = ("users",)
    sync_commands: bool = True
    #: At most this many messages per channel are fetched after a reconnect.
    backfill_limit: int = 500
    #: (name, description) of the slash commands to register.
    commands: tuple[tuple[str, str], ...] = ()
    #: Returns {channel_id: last stored message id} so a restart can backfill.
    resume_points: Callable[[], Awaitable[dict[str, str]]] | None = None
    #: Returns the text telling moderators a permission is missing, in their language.
    describe_problem: Callable[[str, str], Awaitable[str]] | None = None


class DiscordAdapter(ActionMixin, InteractionMixin):
    """The `Adapter` for Discord. `client` is a real `discord.Client`; `start()` connects
    it when a token is configured (tests attach it to simcord instead)."""

    platform = PLATFORM

    def __init__(self, options: DiscordOptions | None = None, now: Callable[[], datetime] | None = None) -> None:
        self.options = options or DiscordOptions()
        self.now = now or (lambda: datetime.now(UTC))
        self.client = CommunityClient(
            self,
            intents=intents(),
            allowed_mentions=allowed_mentions(self.options.allow_mentions),
        )
        self.tree = app_commands.CommandTree(self.client)
        self.client.tree = self.tree  # type: ignore[attr-defined]
        self._sink: EventSink | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._authors: OrderedDict[str, str] = OrderedDict()
        self._channels_of: OrderedDict[str, str] = OrderedDict()
        #: channel id → newest message id seen there (the resume point for backfill).
        self._last_seen: dict[str, int] = {}
        self._synced: set[int] = set()
        self._reported: set[tuple[str, str]] = set()
        #: Seconds before an unanswered slash command shows "thinking…" (Discord allows 3).
        self.defer_after = DEFER_AFTER
        self._gap = True  # nothing seen yet: the first READY backfills from resume points
        for name in (
            "on_ready", "on_resumed", "on_disconnect", "on_guild_available", "on_guild_join",
            "on_message", "on_raw_message_edit", "on_raw_message_delete",
            "on_raw_reaction_add", "on_raw_reaction_remove", "on_member_join", "on_raw_member_remove",
        ):
            setattr(self.client, name, getattr(self, "_" + name))
        self._add_slash_commands()

    # -- lifecycle ---------------------------------------------------------------
    async def start(self, sink: EventSink) -> None:
        """Remember the sink and, with a token, connect in the background."""
        self._sink = sink
        if self.options.token:
            self._task = asyncio.create_task(self.client.start(self.options.token), name="discord")
            self._task.add_done_callback(_report_exit)

    async def stop(self) -> None:
        """Close the gateway connection; events being handled finish first."""
        async with self._lock:
            if not self.client.is_closed():
                await self.client.close()
        if self._task is not None:
            self._task.cancel()

    def serves(self, guild_id: int | str | None) -> bool:
        """Whether events from this guild are handled (config `guild_ids`)."""
        if guild_id is None:
            return False
        return not self.options.guild_ids or str(guild_id) in self.options.guild_ids

    # -- incoming ----------------------------------------------------------------
    async def deliver(self, event: Event | None) -> None:
        """Remember what the event tells about messages, then hand it to the sink."""
        if event is None or not self.serves(event.group_id):
            return
        # A slash command's id is the interaction's: no message to remember or resume after.
        talk = event.is_message or event.kind is EventKind.SERVICE
        if talk and event.message_id and event.member_id and event.data.get("via") != "slash":
            _remember(self._authors, event.message_id, event.member_id)
            _remember(self._channels_of, event.message_id, event.channel_id)
            if event.channel_id and event.message_id.isdigit():
                mid = int(event.message_id)
                if mid > self._last_seen.get(event.channel_id, 0):
                    self._last_seen[event.channel_id] = mid
        if self._sink is None:
            log.warning("discord event %s before start(); dropped", event.key)
            return
        async with self._lock:
            try:
                await self._sink(event)
            except Exception:
                # The gateway must keep flowing whatever one event does.
                log.exception("handling discord event %s failed", event.key)

    async def _on_message(self, message: discord.Message) -> None:
        await self.deliver(dev.message_to_event(message, self.options.prefix, self._authors))

    async def _on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        await self.deliver(dev.edit_to_event(payload))

    async def _on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.deliver(dev.delete_to_event(payload, self.now()))

    async def _on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.deliver(dev.reaction_to_event(payload, self.now(), self._authors))

    async def _on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.deliver(dev.reaction_to_event(payload, self.now(), self._authors))

    async def _on_member_join(self, member: discord.Member) -> None:
        await self.deliver(dev.join_to_event(member, self.now()))

    async def _on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        await self.deliver(dev.leave_to_event(payload, self.now()))

    # -- connection state and backfill ---------------------------------------------
    async def _on_ready(self) -> None:
        log.info("discord: logged in as %s in %d guilds", self.client.user, len(self.client.guilds))
        for guild in self.client.guilds:
            await self._sync_guild(guild)
        await self._backfill()

    async def _on_resumed(self) -> None:
        await self._backfill()

    async def _on_disconnect(self) -> None:
        self._gap = True

    async def _on_guild_available(self, guild: discord.Guild) -> None:
        await self._sync_guild(guild)

    async def _on_guild_join(self, guild: discord.Guild) -> None:
        await self._sync_guild(guild)

    async def _sync_guild(self, guild: discord.Guild) -> None:
        """Register the slash commands in one guild (instant, unlike global commands)."""
        if not self.options.sync_commands or guild.id in self._synced or not self.serves(guild.id):
            return
        self._synced.add(guild.id)
        self.tree.copy_global_to(guild=guild)
        try:
            await self.tree.sync(guild=guild)
        except discord.Forbidden as exc:
            await self.permission_problem(
                str(guild.id), "register slash commands (invite the bot with the applications.commands scope)", exc
            )
        except discord.HTTPException as exc:
            log.error("discord: syncing slash commands in %s failed: %s", guild.name, exc)

    async def _backfill(self) -> None:
        """Fetch what was said while disconnected and deliver it (stored idempotently)."""
        if not self._gap:
            return
        self._gap = False
        if self.options.resume_points is not None:
            try:
                stored = await self.options.resume_points()
            except Exception:
                log.exception("discord: reading resume points failed; no backfill")
                stored = {}
            for cid, mid in stored.items():
                if mid.isdigit() and int(mid) > self._last_seen.get(cid, 0):
                    self._last_seen[cid] = int(mid)
        total = 0
        for cid, last in list(self._last_seen.items()):
            channel = self.client.get_channel(int(cid)) if cid.isdigit() else None
            if channel is None or not self.serves(getattr(getattr(channel, "guild", None), "id", None)):
                continue
            try:
                async for m in channel.history(after=discord.Object(last), limit=self.options.backfill_limit, oldest_first=True):
                    ev = dev.message_to_event(m, self.options.prefix, self._authors)
                    if ev is not None:
                        ev.data["backfill"] = True
                    await self.deliver(ev)
                    total += 1
            except discord.Forbidden as exc:
                await self.permission_problem(str(channel.guild.id), f"read message history in #{channel.name}", exc)
            except discord.HTTPException as exc:
                log.warning("discord: backfill of channel %s failed: %s", cid, exc)
        if total:
            log.info("discord: backfilled %d messages after reconnect", total)

    # -- moderators ----------------------------------------------------------------
    async def is_admin(self, group_id: str, member_id: str) -> bool:
        """Moderators: manage messages, moderate members or administrator, or a configured role."""
        guild = self.client.get_guild(int(group_id)) if group_id.isdigit() else None
        if guild is None or not member_id.isdigit():
            return False
        member = guild.get_member(int(member_id))
        if member is None:
            try:
                member = await guild.fetch_member(int(member_id))
            except discord.HTTPException:
                return False
        perms = member.guild_permissions
        if perms.administrator or perms.manage_messages or perms.moderate_members:
            return True
        wanted = {r.casefold() for r in self.options.moderator_roles}
        return any(r.name.casefold() in wanted or str(r.id) in wanted for r in member.roles)

    def find_channel(self, guild: discord.Guild, ref: str) -> discord.abc.Messageable | None:
        """A text channel or thread by id or name ("#mods" or "mods")."""
        ref = (ref or "").lstrip("#").strip()
        if not ref:
            return None
        if ref.isdigit():
            ch = guild.get_channel_or_thread(int(ref))
            if ch is not None:
                return ch  # type: ignore[return-value]
        for ch in guild.text_channels:
            if ch.name.casefold() == ref.casefold():
                return ch
        return None

    async def permission_problem(self, group_id: str, what: str, exc: Exception) -> None:
        """Log a missing permission and tell the moderators once (per guild and kind)."""
        guild = self.client.get_guild(int(group_id)) if group_id.isdigit() else None
        name = guild.name if guild else group_id
        log.error(
            "discord: the bot lacks permission to %s in server %r (%s): %s. Give the bot's role "
            "that permission in Server Settings → Roles (see docs/discord.md).",
            what, name, group_id, exc,
        )
        key = (group_id, what)
        if key in self._reported or guild is None:
            return
        self._reported.add(key)
        channel = self.find_channel(guild, self.options.moderator_channel)
        if channel is None:
            log.error("discord: no moderators' channel %r in %r to report it to", self.options.moderator_channel, name)
            return
        text = f"⚠️ I lack the permission to {what}. Please grant it to my role."
        if self.options.describe_problem is not None:
            try:
                text = await self.options.describe_problem(group_id, what)
            except Exception:
                log.exception("describing a permission problem failed")
        try:
            await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc2:
            log.error("discord: could not tell the moderators either: %s", exc2)

    async def send(self, reply: Reply) -> Sent:
        """Send, edit or answer privately; a refused send is reported, never raised."""
        try:
            return await self._send(reply)
        except discord.Forbidden as exc:
            await self.permission_problem(reply.group_id, "send messages here", exc)
            return Sent(None, ok=False, error=f"forbidden: {exc}")
        except (discord.HTTPException, ValueError) as exc:
            log.error("discord: sending to %s/%s failed: %s", reply.group_id, reply.channel_id, exc)
            return Sent(None, ok=False, error=str(exc))


def _remember(cache: OrderedDict[str, str], key: str, value: str) -> None:
    cache[key] = value
    if len(cache) > _CACHE:
        cache.popitem(last=False)


def _report_exit(task: asyncio.Task) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        log.critical(
            "discord: the Server Members and Message Content intents are off. Turn them on in "
            "the Developer Portal → your application → Bot → Privileged Gateway Intents."
        )
    elif isinstance(exc, discord.LoginFailure):
        log.critical("discord: the token was refused (%s); check the variable [discord] token_env names", exc)
    elif exc is not None:
        log.critical("discord: the connection stopped: %r", exc)
