"""Moderation and membership actions on Discord: delete, timeout, ban, unban, kick,
add a role, set a nickname. A refusal is logged and reported, never raised."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import discord

from adapters.base import Action, ActionKind

if TYPE_CHECKING:
    from adapters.discord import DiscordAdapter

log = logging.getLogger(__name__)

#: Discord's longest timeout.
MAX_TIMEOUT = timedelta(days=28)


class ActionMixin:
    """`act()` for `DiscordAdapter` (kept apart for size)."""

    async def act(self: DiscordAdapter, action: Action) -> bool:
        """Delete, timeout, ban, unban, kick or add a role; False (and a log line) if refused."""
        guild = self.client.get_guild(int(action.group_id)) if action.group_id.isdigit() else None
        if guild is None:
            log.warning("discord: %s in unknown server %s skipped", action.kind, action.group_id)
            return False
        target = discord.Object(int(action.member_id)) if (action.member_id or "").isdigit() else None
        reason = action.reason[:512] or None
        k = action.kind
        try:
            if k is ActionKind.DELETE:
                cid = action.channel_id or self._channels_of.get(action.message_id or "", "")
                channel = self.find_channel(guild, cid)
                if channel is None or not (action.message_id or "").isdigit():
                    log.warning("discord: cannot delete message %s: channel unknown", action.message_id)
                    return False
                await channel.get_partial_message(int(action.message_id)).delete()  # type: ignore[union-attr]
            elif target is None:
                log.warning("discord: %s needs a member id, got %r", k, action.member_id)
                return False
            elif k in (ActionKind.MUTE, ActionKind.UNMUTE, ActionKind.ADD_ROLE, ActionKind.SET_TITLE):
                member = guild.get_member(target.id) or await guild.fetch_member(target.id)
                if k is ActionKind.MUTE:
                    now = self.now()
                    until = min(action.until or now + timedelta(hours=1), now + MAX_TIMEOUT)
                    await member.timeout(until, reason=reason)
                elif k is ActionKind.UNMUTE:
                    await member.timeout(None, reason=reason)
                elif k is ActionKind.SET_TITLE:
                    await member.edit(nick=action.value[:32] or None, reason=reason)
                else:
                    role = guild.get_role(int(action.value)) if action.value.isdigit() else discord.utils.get(guild.roles, name=action.value)
                    if role is None:
                        log.warning("discord: role %r not found in %r", action.value, guild.name)
                        return False
                    await member.add_roles(role, reason=reason)
            elif k is ActionKind.BAN:
                await guild.ban(target, reason=reason, delete_message_seconds=0)
            elif k is ActionKind.UNBAN:
                await guild.unban(target, reason=reason)
            elif k is ActionKind.KICK:
                await guild.kick(target, reason=reason)
            else:
                log.warning("discord: action %s is not supported", k)
                return False
        except discord.Forbidden as exc:
            await self.permission_problem(action.group_id, _ACTION_WORDS.get(k, str(k)), exc)
            return False
        except discord.NotFound as exc:
            log.info("discord: %s target gone (%s)", k, exc)
            return False
        except discord.HTTPException as exc:
            log.error("discord: %s failed: %s", k, exc)
            return False
        return True


_ACTION_WORDS = {
    ActionKind.DELETE: "delete messages (Manage Messages)",
    ActionKind.MUTE: "time members out (Moderate Members)",
    ActionKind.UNMUTE: "time members out (Moderate Members)",
    ActionKind.BAN: "ban members (Ban Members)",
    ActionKind.UNBAN: "ban members (Ban Members)",
    ActionKind.KICK: "kick members (Kick Members)",
    ActionKind.ADD_ROLE: "give roles (Manage Roles, and the bot's role above the role given)",
    ActionKind.SET_TITLE: "change nicknames (Manage Nicknames)",
}
