"""Telegram Desktop export (`result.json`) messages → `Event`s. Pure functions.

Ids are mapped to what the Bot API uses, so imported history and live updates land in
the same group and member: supergroups and channels are "-100" + id, basic groups
"-" + id; `from_id` "user123" (or the old integer form) is member "123".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from storage.events import Event, EventKind, count_links

PLATFORM = "telegram"
_SUPER = {"private_supergroup", "public_supergroup", "private_channel", "public_channel", "channel", "supergroup"}
_BASIC = {"private_group", "group"}
_JOIN_ACTIONS = {"invite_members", "join_group_by_link", "join_group_by_request"}
_LEAVE_ACTIONS = {"remove_members"}
_KNOWN_SERVICE = {
    "pin_message",
    "migrate_to_supergroup",
    "migrate_from_group",
    "create_group",
    "edit_group_title",
    "edit_group_photo",
    "delete_group_photo",
    "topic_created",
    "topic_edit",
    "create_channel",
    "group_call",
    "phone_call",
    "clear_history",
    "score_in_game",
    "allow_sending_messages",
    "send_payment",
    "boost_apply",
}


def parse_time(value: Any, tz: ZoneInfo | None = None) -> datetime:
    """An ISO-8601 time; naive times are in `tz` (the exporter's zone), else local."""
    dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz) if tz else dt.astimezone()
    return dt.astimezone(UTC)


def telegram_chat_id(raw_id: Any, chat_type: str) -> str:
    """The Bot API chat id for an export's bare `id` and `type`."""
    n = int(raw_id)
    if n < 0:  # already in Bot API form
        return str(n)
    if chat_type in _SUPER:
        return f"-100{n}"
    if chat_type in _BASIC:
        return f"-{n}"
    return str(n)


def member_id(from_id: Any) -> str | None:
    """"user123" → "123"; "channel5" → "-1005"; 123 → "123"; None stays None."""
    if from_id is None or from_id == "":
        return None
    if isinstance(from_id, (int, float)):
        return str(int(from_id))
    s = str(from_id)
    if s.startswith("user"):
        return s[4:]
    if s.startswith("channel"):
        return f"-100{s[7:]}"
    if s.startswith("chat"):
        return f"-{s[4:]}"
    return s


def message_time(msg: dict[str, Any], tz: ZoneInfo | None) -> datetime:
    """`date_unixtime` when present (exact), else `date` in the exporter's zone."""
    unix = msg.get("date_unixtime")
    if unix not in (None, ""):
        try:
            return datetime.fromtimestamp(int(unix), UTC)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"unreadable date_unixtime {unix!r}") from exc
    if "date" not in msg:
        raise KeyError("message has no 'date'")
    try:
        return parse_time(msg["date"], tz)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"unreadable date {msg['date']!r}") from exc


def flatten_text(text: Any) -> str:
    """`text` as a string, or a list of strings and {type, text} objects."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in text)
    return str(text)


def entities(msg: dict[str, Any]) -> tuple[tuple[str, ...], int]:
    """Mentioned members and the link count, from `text_entities` (or the text list)."""
    ents = msg.get("text_entities")
    if ents is None and isinstance(msg.get("text"), list):
        ents = [p for p in msg["text"] if isinstance(p, dict)]
    mentions: list[str] = []
    links = 0
    for ent in ents or []:
        if not isinstance(ent, dict):
            continue
        t = ent.get("type")
        if t == "mention_name" and ent.get("user_id") is not None:
            mentions.append(member_id(ent["user_id"]) or "")
        elif t == "mention":
            mentions.append(str(ent.get("text", "")))
        elif t in ("link", "text_link"):
            links += 1
    if ents is None:
        links = count_links(flatten_text(msg.get("text")))
    return tuple(m for m in mentions if m), links


def media_kind(msg: dict[str, Any]) -> str | None:
    """photo, sticker, voice_message, file, poll, ... or None for plain text."""
    mt = msg.get("media_type")
    if mt:
        return str(mt)
    if "photo" in msg:
        return "photo"
    if "file" in msg:
        return "file"
    if "poll" in msg:
        return "poll"
    if "location_information" in msg:
        return "location"
    if "contact_information" in msg:
        return "contact"
    return None


def telegram_message_events(
    msg: dict[str, Any],
    group_id: str,
    title: str,
    skipped: Counter,
    tz: ZoneInfo | None = None,
) -> Iterator[Event]:
    """One export message → its events (a message and its reactions, or a join...)."""
    if "id" not in msg:
        raise KeyError("message has no 'id'")
    mid = str(msg["id"])
    mtype = msg.get("type", "message")
    when = message_time(msg, tz)
    base = dict(platform=PLATFORM, group_id=group_id, group_title=title)
    if mtype == "service":
        yield from _service_events(msg, mid, when, base, skipped)
        return
    if mtype != "message":
        skipped[f"type:{mtype}"] += 1
        return
    author = member_id(msg.get("from_id"))
    text = flatten_text(msg.get("text"))
    mentions, links = entities(msg)
    caption_kind = EventKind.COMMAND if text.startswith("/") else EventKind.MESSAGE
    data: dict[str, Any] = {}
    if msg.get("edited_unixtime") or msg.get("edited"):
        data["edited"] = True
    if msg.get("via_bot"):
        data["via_bot"] = str(msg["via_bot"])
    yield Event(
        kind=caption_kind,
        time=when,
        member_id=author,
        member_name=str(msg.get("from") or ""),
        message_id=mid,
        reply_to_id=str(msg["reply_to_message_id"]) if msg.get("reply_to_message_id") is not None else None,
        mentions=mentions,
        text=text,
        link_count=links,
        media=media_kind(msg),
        forwarded=bool(msg.get("forwarded_from")) or "forwarded_from" in msg,
        emoji=msg.get("sticker_emoji"),
        data=data,
        **base,
    )
    for reaction in msg.get("reactions") or []:
        emoji = reaction.get("emoji") or reaction.get("document_id") or reaction.get("type")
        for r in reaction.get("recent") or []:
            who = member_id(r.get("from_id"))
            if who is None:
                continue
            rt = r.get("date")
            yield Event(
                kind=EventKind.REACTION,
                time=parse_time(rt, tz) if rt else when,
                member_id=who,
                member_name=str(r.get("from") or ""),
                message_id=mid,
                target_member_id=author,
                emoji=str(emoji),
                **base,
            )


def _service_events(msg, mid, when, base, skipped: Counter) -> Iterator[Event]:
    action = msg.get("action", "")
    actor = member_id(msg.get("actor_id"))
    actor_name = str(msg.get("actor") or "")
    if action in ("join_group_by_link", "join_group_by_request"):
        yield Event(kind=EventKind.JOIN, time=when, member_id=actor, member_name=actor_name, message_id=mid,
                    data={"via": action, **({"inviter": str(msg["inviter"])} if msg.get("inviter") else {})}, **base)
        return
    if action in _JOIN_ACTIONS | _LEAVE_ACTIONS:
        kind = EventKind.JOIN if action in _JOIN_ACTIONS else EventKind.LEAVE
        names = [str(n) for n in (msg.get("members") or []) if n is not None]
        for i, name in enumerate(names or [actor_name]):
            own = name == actor_name
            data = {"via": action}
            if not own:
                data["name"] = name
                data["by"] = actor
            yield Event(
                kind=kind,
                time=when,
                member_id=actor if own else None,
                member_name=name if own else "",
                message_id=mid,
                data=data,
                key="" if own else f"{kind.value}:{mid}:name:{name}:{i}",
                **base,
            )
        return
    if action not in _KNOWN_SERVICE:
        skipped[f"action:{action or '?'}"] += 1
    yield Event(kind=EventKind.SERVICE, time=when, member_id=actor, member_name=actor_name,
                message_id=mid, data={"action": action}, **base)
