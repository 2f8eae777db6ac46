"""Slash commands, button presses and the sending side of the Discord adapter.

A slash command or a press must be answered within three seconds, but the answer is
produced by the pipeline like any other reply. So while an interaction's event goes
through the sink, it is kept in a context variable (asyncio gives each task its own
context, and the pipeline sends its replies from the same task); `send()` sees it and
answers through the interaction instead of the channel. A slow pipeline is covered by
deferring after two seconds.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from adapters import discord_events as dev
from adapters.base import Reply, Sent
from adapters.discord_ui import allowed_mentions, build_view, files_of, split_text
from storage.events import Event

if TYPE_CHECKING:
    from adapters.discord import DiscordAdapter

log = logging.getLogger(__name__)

#: Seconds before a still-unanswered slash command is deferred ("thinking…").
DEFER_AFTER = 2.0


@dataclass
class _Pending:
    interaction: discord.Interaction
    event: Event
    kind: str  # "slash" or "button"
    deferred: bool = False
    answered: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def owns(self, reply: Reply) -> bool:
        """Whether `reply` answers this interaction rather than going to a channel."""
        ev = self.event
        if reply.edit_message_id or reply.group_id != ev.group_id or reply.platform != ev.platform:
            return False
        if reply.private_to:
            return reply.private_to == ev.member_id
        if self.kind == "slash":
            return reply.reply_to_id == ev.message_id
        return reply.ephemeral


_CURRENT: contextvars.ContextVar[_Pending | None] = contextvars.ContextVar("discord_interaction", default=None)


def _slash_callback(adapter: DiscordAdapter, name: str):
    @app_commands.describe(args="what you would type after the command in chat")
    async def callback(interaction: discord.Interaction, args: str = "") -> None:
        await adapter._on_slash(interaction, name, args)

    return callback


class InteractionMixin:
    """Interaction handling and sending for `DiscordAdapter` (kept apart for size)."""

    def _add_slash_commands(self: DiscordAdapter) -> None:
        """One slash command per router command, each taking the rest of the line as `args`
        (commands already registered are kept, so calling it again adds only new ones)."""
        for name, description in self.options.commands:
            if self.tree.get_command(name) is not None:
                continue
            cmd = app_commands.Command(
                name=name,
                description=(description or name)[:100],
                callback=_slash_callback(self, name),
            )
            self.tree.add_command(cmd)

    async def _on_slash(self: DiscordAdapter, interaction: discord.Interaction, name: str, args: str) -> None:
        ev = dev.slash_to_event(interaction, name, args)
        if ev is None or not self.serves(ev.group_id):
            await interaction.response.send_message("This bot works inside its servers only.", ephemeral=True)
            return
        pending = _Pending(interaction, ev, "slash")
        token = _CURRENT.set(pending)
        timer = asyncio.create_task(_defer_later(pending, self.defer_after))
        try:
            await self.deliver(ev)
        finally:
            timer.cancel()
            _CURRENT.reset(token)
        async with pending.lock:
            try:
                if not interaction.response.is_done():
                    # Nothing to say (e.g. a duplicate): acknowledge quietly.
                    await interaction.response.send_message("✓", ephemeral=True)
                elif pending.deferred and not pending.answered:
                    await interaction.delete_original_response()
            except discord.HTTPException as exc:
                log.info("discord: closing interaction /%s failed: %s", name, exc)

    async def _on_button(self: DiscordAdapter, interaction: discord.Interaction, payload: str) -> None:
        ev = dev.button_to_event(interaction, payload)
        # A deferred update changes nothing visible and keeps the press alive for followups.
        try:
            await interaction.response.defer()
        except discord.HTTPException as exc:
            # Too late to answer (a slow network): the press still counts and acts.
            log.warning("discord: could not acknowledge a button press: %s", exc)
        if ev is None or not self.serves(ev.group_id):
            return
        pending = _Pending(interaction, ev, "button", deferred=True, answered=True)
        token = _CURRENT.set(pending)
        try:
            await self.deliver(ev)
        finally:
            _CURRENT.reset(token)

    # -- sending -------------------------------------------------------------------
    async def _send(self: DiscordAdapter, reply: Reply) -> Sent:
        pending = _CURRENT.get()
        if pending is not None and pending.owns(reply) and not pending.interaction.is_expired():
            return await self._answer(pending, reply)
        am = allowed_mentions(self.options.allow_mentions)
        view = build_view(reply.buttons)
        files = files_of(reply.image, reply.file)
        guild = self.client.get_guild(int(reply.group_id)) if reply.group_id.isdigit() else None
        if reply.private_to:
            return await self._send_dm(reply, view, files)
        if reply.group_id.startswith(dev.DM_PREFIX):
            # An answer in a member's direct messages with the bot (a command sent there).
            return await self._send_dm(replace(reply, private_to=reply.group_id[len(dev.DM_PREFIX):]), view, files)
        if guild is None:
            return Sent(None, ok=False, error=f"unknown server {reply.group_id}")
        channel = self.find_channel(guild, reply.channel_id) if reply.channel_id else _default_channel(guild)
        if channel is None:
            return Sent(None, ok=False, error=f"no channel {reply.channel_id!r} in {guild.name}")
        if reply.edit_message_id:
            msg = channel.get_partial_message(int(reply.edit_message_id))  # type: ignore[union-attr]
            await msg.edit(content=reply.text[:2000], view=view, allowed_mentions=am)
            return Sent(reply.edit_message_id)
        ref = None
        if reply.reply_to_id and reply.reply_to_id.isdigit():
            ref = discord.MessageReference(message_id=int(reply.reply_to_id), channel_id=channel.id, fail_if_not_exists=False)
        parts = split_text(reply.text)
        first_id = None
        for i, part in enumerate(parts):
            kw: dict = {"allowed_mentions": am}
            if i == 0 and ref is not None:
                kw["reference"] = ref
            if i == len(parts) - 1:
                if view is not None:
                    kw["view"] = view
                if files:
                    kw["files"] = files
            msg = await channel.send(part or None, **kw)
            first_id = first_id or str(msg.id)
        return Sent(first_id)

    async def _send_dm(self: DiscordAdapter, reply: Reply, view, files) -> Sent:
        uid = int(reply.private_to) if (reply.private_to or "").isdigit() else None
        user = self.client.get_user(uid) if uid else None
        if user is None and uid:
            user = await self.client.fetch_user(uid)
        if user is None:
            return Sent(None, ok=False, error=f"unknown member {reply.private_to}")
        kw: dict = {"allowed_mentions": discord.AllowedMentions.none()}
        if view is not None:
            kw["view"] = view
        if files:
            kw["files"] = files
        try:
            msg = await user.send(reply.text[:2000], **kw)
        except discord.Forbidden:
            log.info("discord: member %s does not accept direct messages", reply.private_to)
            return Sent(None, ok=False, error="member does not accept direct messages")
        return Sent(str(msg.id))

    async def _answer(self: DiscordAdapter, pending: _Pending, reply: Reply) -> Sent:
        """Answer through the interaction: its response first, then followups."""
        inter = pending.interaction
        private = reply.ephemeral or bool(reply.private_to)
        am = allowed_mentions(self.options.allow_mentions)
        view = build_view(reply.buttons)
        files = files_of(reply.image, reply.file)
        parts = split_text(reply.text)
        first_id = None
        async with pending.lock:
            for i, part in enumerate(parts):
                kw: dict = {"allowed_mentions": am, "ephemeral": private}
                if i == len(parts) - 1:
                    if view is not None:
                        kw["view"] = view
                    if files:
                        kw["files"] = files
                if not inter.response.is_done():
                    resp = await inter.response.send_message(part, **kw)
                    mid = resp.message_id
                else:
                    placeholder = pending.deferred and not pending.answered and private
                    if placeholder:
                        # The "thinking…" message is public and the first followup would
                        # take its place: fill it with a neutral mark first, send the
                        # private text as its own ephemeral message, then remove the mark.
                        await inter.edit_original_response(content="🔒")
                    msg = await inter.followup.send(part, wait=True, **kw)
                    mid = msg.id
                    if placeholder:
                        await inter.delete_original_response()
                pending.answered = True
                first_id = first_id or (str(mid) if mid else None)
        return Sent(first_id)


async def _defer_later(pending: _Pending, delay: float) -> None:
    await asyncio.sleep(delay)
    async with pending.lock:
        if not pending.interaction.response.is_done():
            await pending.interaction.response.defer(thinking=True)
            pending.deferred = True


def _default_channel(guild: discord.Guild):
    """Where group-wide messages go when no channel is named: the system channel, else
    the first text channel the bot may write in."""
    me = guild.me
    ch = guild.system_channel
    if ch is not None and (me is None or ch.permissions_for(me).send_messages):
        return ch
    for ch in guild.text_channels:
        if me is None or ch.permissions_for(me).send_messages:
            return ch
    return None
