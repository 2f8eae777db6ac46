"""Pure translation of discord.py objects into neutral `Event`s.

Every function here takes objects discord.py has already parsed (a `Message`, a raw
gateway payload model, an `Interaction`) and returns an `Event` or None; nothing does
I/O or reads a clock (times that the platform does not give come in as `now`). The
adapter in `adapters/discord.py` calls these from its gateway handlers; the tests feed
them objects parsed by discord.py's own `ConnectionState` from recorded payloads.

A guild is a group; its text channels and threads are channels (a thread's parent is
kept in `data["parent_channel_id"]`). Ids are strings, like on every platform.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

import discord

from storage.events import Event, EventKind, command_name, count_links

PLATFORM = "discord"

#: Message types that carry a member's own words; everything else is a service message.
_TALK_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})


def _media(message: discord.Message | discord.MessageSnapshot) -> str | None:
    """The neutral media kind of a message's first attachment or sticker."""
    for att in getattr(message, "attachments", ()) or ():
        ctype = (att.content_type or "").lower()
        if ctype.startswith("image/gif"):
            return "animation"
        if ctype.startswith("image/"):
            return "photo"
        if ctype.startswith("video/"):
            return "video"
        if ctype.startswith("audio/"):
            return "voice" if getattr(att, "is_voice_message", lambda: False)() else "audio"
        return "file"
    if getattr(message, "stickers", None):
        return "sticker"
    return None


def _channel_fields(channel: object) -> tuple[str, dict]:
    """The channel id an event lives in, plus the thread's parent when it is a thread."""
    cid = str(getattr(channel, "id", "") or "")
    data: dict = {}
    if isinstance(channel, discord.Thread) and channel.parent_id:
        data["parent_channel_id"] = str(channel.parent_id)
    return cid, data


def command_text(content: str, prefix: str) -> str | None:
    """The message as a neutral "/name args" command, or None if it is not one.

    Discord has no "/" text commands of its own (the client turns "/" into slash
    commands), so members type the configured prefix ("!top 7d"); a literal "/top"
    sent as text is accepted too.
    """
    text = (content or "").strip()
    if prefix and prefix != "/" and text.startswith(prefix):
        text = "/" + text[len(prefix):]
    return text if command_name(text) else None


def message_to_event(
    message: discord.Message,
    prefix: str = "!",
    authors: Mapping[str, str] | None = None,
) -> Event | None:
    """A MESSAGE, COMMAND or SERVICE event for a guild message; a COMMAND for a command
    sent to the bot in a direct message (group "dm-<user id>", like Telegram's private
    chats); None for other direct messages.

    `authors` maps message ids to author ids the adapter has seen, to name the author
    of a replied-to message when Discord did not include it (`target_member_id`).
    """
    guild = message.guild
    if guild is None:
        return _direct_command(message, prefix)
    author = message.author
    channel_id, data = _channel_fields(message.channel)
    ref = message.reference
    reply_to = target = None
    forwarded = False
    text = message.content or ""
    media = _media(message)
    if ref is not None and ref.type is discord.MessageReferenceType.forward:
        forwarded = True
        snap = message.message_snapshots[0] if message.message_snapshots else None
        if snap is not None:
            text = text or snap.content or ""
            media = media or _media(snap)
    elif ref is not None and ref.message_id:
        reply_to = str(ref.message_id)
        resolved = ref.resolved
        if isinstance(resolved, discord.Message):
            target = str(resolved.author.id)
        elif authors is not None:
            target = authors.get(reply_to)
    if message.attachments:
        data["attachments"] = len(message.attachments)
    if message.webhook_id:
        data["webhook_id"] = str(message.webhook_id)
    kind = EventKind.MESSAGE
    emoji = None
    if message.type not in _TALK_TYPES:
        kind = EventKind.SERVICE
        data["type"] = message.type.name
    elif not forwarded:
        cmd = command_text(text, prefix)
        if cmd is not None:
            kind = EventKind.COMMAND
            if cmd != text:
                data["prefix"] = prefix
            text = cmd
            emoji = command_name(cmd)[0]  # type: ignore[index]
    return Event(
        platform=PLATFORM,
        group_id=str(guild.id),
        group_title=guild.name or "",
        kind=kind,
        time=message.created_at,
        member_id=str(author.id),
        member_name=author.display_name,
        username=author.name,
        is_bot=bool(author.bot or message.webhook_id),
        channel_id=channel_id,
        message_id=str(message.id),
        reply_to_id=reply_to,
        target_member_id=target,
        mentions=tuple(str(m) for m in message.raw_mentions),
        text=text,
        link_count=count_links(text),
        media=media,
        forwarded=forwarded,
        emoji=emoji,
        data=data,
        raw=message,
    )


#: Group id prefix of a member's direct messages with the bot.
DM_PREFIX = "dm-"


def _direct_command(message: discord.Message, prefix: str) -> Event | None:
    """A command a member sent the bot privately (chatter in DMs is not a community's)."""
    author = message.author
    cmd = command_text(message.content or "", prefix)
    if author.bot or cmd is None:
        return None
    return Event(
        platform=PLATFORM, group_id=f"{DM_PREFIX}{author.id}", group_title=f"DM {author.display_name}",
        kind=EventKind.COMMAND, time=message.created_at, member_id=str(author.id), member_name=author.display_name,
        username=author.name, message_id=str(message.id), text=cmd, emoji=command_name(cmd)[0],  # type: ignore[index]
        data={"private": True}, raw=message,
    )


def edit_to_event(payload: discord.RawMessageUpdateEvent) -> Event | None:
    """An EDIT event for a changed message; None when only embeds were unfurled."""
    message = payload.message
    if message.guild is None or message.edited_at is None:
        return None
    channel_id, data = _channel_fields(message.channel)
    text = message.content or ""
    return Event(
        platform=PLATFORM,
        group_id=str(message.guild.id),
        group_title=message.guild.name or "",
        kind=EventKind.EDIT,
        time=message.edited_at,
        member_id=str(message.author.id),
        member_name=message.author.display_name,
        username=message.author.name,
        is_bot=bool(message.author.bot),
        channel_id=channel_id,
        message_id=str(message.id),
        mentions=tuple(str(m) for m in message.raw_mentions),
        text=text,
        link_count=count_links(text),
        media=_media(message),
        data=data,
        raw=payload,
    )


def delete_to_event(payload: discord.RawMessageDeleteEvent, now: datetime) -> Event | None:
    """A DELETE event; the author is known only when the message was cached."""
    if payload.guild_id is None:
        return None
    cached = payload.cached_message
    return Event(
        platform=PLATFORM,
        group_id=str(payload.guild_id),
        kind=EventKind.DELETE,
        time=now,
        member_id=str(cached.author.id) if cached else None,
        is_bot=bool(cached.author.bot) if cached else False,
        channel_id=str(payload.channel_id),
        message_id=str(payload.message_id),
        raw=payload,
    )


def reaction_to_event(
    payload: discord.RawReactionActionEvent,
    now: datetime,
    authors: Mapping[str, str] | None = None,
) -> Event | None:
    """A REACTION event for a raw reaction add or remove (`data["removed"]`)."""
    if payload.guild_id is None:
        return None
    removed = payload.event_type == "REACTION_REMOVE"
    target = payload.message_author_id
    mid = str(payload.message_id)
    member = payload.member
    return Event(
        platform=PLATFORM,
        group_id=str(payload.guild_id),
        kind=EventKind.REACTION,
        time=now,
        member_id=str(payload.user_id),
        member_name=member.display_name if member else "",
        username=member.name if member else None,
        is_bot=bool(member.bot) if member else False,
        channel_id=str(payload.channel_id),
        message_id=mid,
        target_member_id=str(target) if target else (authors or {}).get(mid),
        # Custom emoji by name, as DiscordChatExporter writes them, so a reaction seen live
        # and imported from an export gets one key.
        emoji=payload.emoji.name if payload.emoji.id else str(payload.emoji),
        data={"removed": True} if removed else {},
        raw=payload,
    )


def join_to_event(member: discord.Member, now: datetime) -> Event:
    """A JOIN event for a member who joined a guild."""
    return Event(
        platform=PLATFORM,
        group_id=str(member.guild.id),
        group_title=member.guild.name or "",
        kind=EventKind.JOIN,
        time=member.joined_at or now,
        member_id=str(member.id),
        member_name=member.display_name,
        username=member.name,
        is_bot=bool(member.bot),
        raw=member,
    )


def leave_to_event(payload: discord.RawMemberRemoveEvent, now: datetime) -> Event:
    """A LEAVE event for a member who left (or was removed from) a guild."""
    user = payload.user
    return Event(
        platform=PLATFORM,
        group_id=str(payload.guild_id),
        kind=EventKind.LEAVE,
        time=now,
        member_id=str(user.id),
        member_name=user.display_name,
        username=user.name,
        is_bot=bool(user.bot),
        raw=payload,
    )


def slash_to_event(interaction: discord.Interaction, name: str, args: str) -> Event | None:
    """A COMMAND event for a slash command; the interaction id stands in for a message id."""
    if interaction.guild_id is None:
        return None
    user = interaction.user
    channel_id, data = _channel_fields(interaction.channel)
    data["via"] = "slash"
    text = f"/{name} {args}".strip()
    guild = interaction.guild
    return Event(
        platform=PLATFORM,
        group_id=str(interaction.guild_id),
        group_title=guild.name if guild else "",
        kind=EventKind.COMMAND,
        time=interaction.created_at,
        member_id=str(user.id),
        member_name=user.display_name,
        username=user.name,
        is_bot=bool(user.bot),
        channel_id=channel_id or str(interaction.channel_id or ""),
        message_id=str(interaction.id),
        mentions=tuple(_raw_mentions(args)),
        text=text,
        link_count=count_links(args),
        emoji=name,
        data=data,
        raw=interaction,
    )


def button_to_event(interaction: discord.Interaction, payload: str) -> Event | None:
    """A BUTTON event for a press on one of the bot's buttons (`data["payload"]`)."""
    if interaction.guild_id is None:
        return None
    user = interaction.user
    channel_id, data = _channel_fields(interaction.channel)
    data.update(payload=payload, press_id=str(interaction.id))
    msg = interaction.message
    return Event(
        platform=PLATFORM,
        group_id=str(interaction.guild_id),
        kind=EventKind.BUTTON,
        time=interaction.created_at,
        member_id=str(user.id),
        member_name=user.display_name,
        username=user.name,
        is_bot=bool(user.bot),
        channel_id=channel_id or str(interaction.channel_id or ""),
        message_id=str(msg.id) if msg else None,
        data=data,
        raw=interaction,
    )


def _raw_mentions(text: str) -> list[str]:
    return re.findall(r"<@!?([0-9]{15,20})>", text or "")
