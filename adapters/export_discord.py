"""DiscordChatExporter JSON messages → `Event`s. Pure functions.

A guild is a group and the export's channel a channel; message, author and guild ids
are the snowflakes discord.py reports live, so imported and live events agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from adapters.export_telegram import parse_time
from storage.events import Event, EventKind, count_links

PLATFORM = "discord"
_MESSAGE_TYPES = {"Default", "Reply", "ChatInputCommand", "ContextMenuCommand", "ThreadStarterMessage"}
_JOIN_TYPES = {"GuildMemberJoin", "RecipientAdd"}
_LEAVE_TYPES = {"RecipientRemove"}
_SERVICE_TYPES = {"ThreadCreated", "ChannelPinnedMessage", "GuildBoost", "GuildBoostTier1",
                  "GuildBoostTier2", "GuildBoostTier3", "ChannelNameChange", "Call"}
_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".gif", ".webp")


def _media(msg: dict[str, Any]) -> str | None:
    atts = msg.get("attachments") or []
    if atts:
        name = str(atts[0].get("fileName") or atts[0].get("url") or "").lower()
        return "photo" if name.endswith(_IMAGE_EXT) else "file"
    if msg.get("stickers"):
        return "sticker"
    return None


def discord_message_events(
    msg: dict[str, Any],
    group_id: str,
    title: str,
    channel_id: str,
    skipped: Counter,
) -> Iterator[Event]:
    """One exported Discord message → its events (message and reactions, or a join)."""
    if "id" not in msg:
        raise KeyError("message has no 'id'")
    if "timestamp" not in msg:
        raise KeyError("message has no 'timestamp'")
    try:
        when = parse_time(msg["timestamp"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"unreadable timestamp {msg['timestamp']!r}") from exc
    mid = str(msg["id"])
    mtype = str(msg.get("type") or "Default")
    author = msg.get("author") or {}
    aid = str(author["id"]) if author.get("id") is not None else None
    name = str(author.get("nickname") or author.get("name") or "")
    base = dict(platform=PLATFORM, group_id=group_id, group_title=title, channel_id=channel_id)
    if mtype in _JOIN_TYPES | _LEAVE_TYPES:
        kind = EventKind.JOIN if mtype in _JOIN_TYPES else EventKind.LEAVE
        yield Event(kind=kind, time=when, member_id=aid, member_name=name, message_id=mid,
                    is_bot=bool(author.get("isBot")), **base)
        return
    if mtype in _SERVICE_TYPES:
        yield Event(kind=EventKind.SERVICE, time=when, member_id=aid, member_name=name,
                    message_id=mid, data={"action": mtype}, **base)
        return
    if mtype not in _MESSAGE_TYPES:
        skipped[f"type:{mtype}"] += 1
        return
    text = str(msg.get("content") or "")
    ref = msg.get("reference") or {}
    mentions = tuple(str(m["id"]) for m in msg.get("mentions") or [] if isinstance(m, dict) and m.get("id"))
    data: dict[str, Any] = {}
    if msg.get("timestampEdited"):
        data["edited"] = True
    if msg.get("isPinned"):
        data["pinned"] = True
    yield Event(
        kind=EventKind.COMMAND if text.startswith("/") else EventKind.MESSAGE,
        time=when,
        member_id=aid,
        member_name=name,
        username=str(author.get("name")) if author.get("name") else None,
        is_bot=bool(author.get("isBot")),
        message_id=mid,
        reply_to_id=str(ref["messageId"]) if ref.get("messageId") else None,
        mentions=mentions,
        text=text,
        link_count=count_links(text) + sum(1 for e in msg.get("embeds") or [] if e.get("url")),
        media=_media(msg),
        data=data,
        **base,
    )
    for reaction in msg.get("reactions") or []:
        emoji = reaction.get("emoji") or {}
        label = str(emoji.get("name") or emoji.get("code") or emoji.get("id") or "?")
        for user in reaction.get("users") or []:
            if not user.get("id"):
                continue
            yield Event(
                kind=EventKind.REACTION,
                time=when,
                member_id=str(user["id"]),
                member_name=str(user.get("nickname") or user.get("name") or ""),
                is_bot=bool(user.get("isBot")),
                message_id=mid,
                target_member_id=aid,
                emoji=label,
                **base,
            )
