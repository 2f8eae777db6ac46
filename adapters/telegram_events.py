"""Pure translation of python-telegram-bot `Update`s into neutral `Event`s.

`to_event(update, ctx)` reads nothing but its arguments: no network, no store, no clock
(the time of a button press, which Telegram does not send, comes in `ctx.now`). What the
adapter knows from earlier updates (who wrote a message that is now reacted to, which
user id an @username belongs to) also comes in through `ctx`, so tests can feed recorded
payloads and assert on the result.

One update can mean several events (a service message adding three members is three
JOINs), so the result is a list, often of one element, empty for updates the bot does
not keep (its own messages, channel posts, chatter in private chats).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from telegram import (
    ChatMember,
    ChatMemberUpdated,
    Message,
    MessageEntity,
    MessageOrigin,
    ReactionType,
    Update,
)
from telegram.constants import ChatType, MessageAttachmentType

from storage.events import Event, EventKind, command_name, count_links

PLATFORM = "telegram"

#: The id Telegram shows for anonymous group admins; the real sender is `sender_chat`.
ANONYMOUS_ADMIN_ID = 1087968824

#: Update types the bot asks Telegram for (`allowed_updates`). `chat_member` and
#: `message_reaction` are only delivered when asked for explicitly, and only to admins.
ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "callback_query",
    "message_reaction",
    "chat_member",
    "my_chat_member",
)

_IN = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER}
_ADMIN = {ChatMember.ADMINISTRATOR, ChatMember.OWNER}

#: Service-message fields worth keeping as SERVICE events, by the name stored in data.
_SERVICE_FIELDS = (
    "pinned_message",
    "new_chat_title",
    "new_chat_photo",
    "delete_chat_photo",
    "group_chat_created",
    "supergroup_chat_created",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "forum_topic_created",
    "forum_topic_closed",
    "forum_topic_reopened",
    "forum_topic_edited",
    "video_chat_started",
    "video_chat_ended",
    "message_auto_delete_timer_changed",
    "boost_added",
)


@dataclass
class TranslateContext:
    """What `to_event` may know beyond the update itself.

    `bot_id`/`bot_username` identify this bot (its own messages are dropped, and a
    `/cmd@otherbot` is not a command for it). `now` is the receipt time, used for button
    presses. `authors` maps (chat id, message id) to the author's member id, for reactions;
    `usernames` maps lower-case usernames to member ids, to resolve @mentions.
    """

    bot_id: int | None = None
    bot_username: str | None = None
    now: datetime | None = None
    authors: Mapping[tuple[str, str], str] = field(default_factory=dict)
    usernames: Mapping[str, str] = field(default_factory=dict)


def to_event(update: Update, ctx: TranslateContext | None = None) -> list[Event]:
    """Translate one update into zero or more `Event`s (see module docstring)."""
    ctx = ctx or TranslateContext()
    if update.message is not None:
        return _from_message(update.message, ctx, edited=False)
    if update.edited_message is not None:
        return _from_message(update.edited_message, ctx, edited=True)
    if update.message_reaction is not None:
        return _from_reaction(update, ctx)
    if update.chat_member is not None:
        return _from_member_update(update.chat_member, ctx, own=False)
    if update.my_chat_member is not None:
        return _from_member_update(update.my_chat_member, ctx, own=True)
    if update.callback_query is not None:
        return _from_callback(update, ctx)
    return []


# -- messages ---------------------------------------------------------------------
def _sender(msg: Message) -> tuple[str | None, str, str | None, bool]:
    """(member id, display name, username, is_bot) of whoever wrote `msg`."""
    user = msg.from_user
    if msg.sender_chat is not None and (user is None or user.id == ANONYMOUS_ADMIN_ID or user.is_bot):
        # Anonymous admins and linked channels speak as a chat.
        chat = msg.sender_chat
        return str(chat.id), chat.title or chat.username or str(chat.id), chat.username, False
    if user is None:
        return None, "", None, False
    return str(user.id), user.full_name, user.username, bool(user.is_bot)


def _channel(msg: Message) -> str:
    """Forum topic id as the channel; "" for the main chat."""
    if msg.is_topic_message and msg.message_thread_id:
        return str(msg.message_thread_id)
    return ""


def _media(msg: Message) -> str | None:
    for kind in MessageAttachmentType:
        if getattr(msg, kind.value, None):
            return kind.value
    return None


def _forward(origin: MessageOrigin | None) -> dict:
    if origin is None:
        return {}
    out: dict = {"type": origin.type}
    user = getattr(origin, "sender_user", None)
    chat = getattr(origin, "sender_chat", None) or getattr(origin, "chat", None)
    if user is not None:
        out["from_id"], out["from_name"] = str(user.id), user.full_name
    elif chat is not None:
        out["from_id"], out["from_name"] = str(chat.id), chat.title or ""
    elif getattr(origin, "sender_user_name", None):
        out["from_name"] = origin.sender_user_name
    return out


def _entities(text: str, entities: tuple[MessageEntity, ...], ctx: TranslateContext) -> tuple[tuple[str, ...], int]:
    """Mentions (member ids where known, else "@username") and the number of links."""
    mentions: list[str] = []
    links = 0
    # Entity offsets count UTF-16 code units, not Python characters.
    utf16 = text.encode("utf-16-le")
    for ent in entities:
        if ent.type == MessageEntity.TEXT_MENTION and ent.user is not None:
            mentions.append(str(ent.user.id))
        elif ent.type == MessageEntity.MENTION:
            # A malformed entity may cut a surrogate pair or reach past the text: what
            # cannot be decoded is dropped, and an empty name is no mention.
            name = utf16[max(ent.offset, 0) * 2 : max(ent.offset + ent.length, 0) * 2].decode("utf-16-le", errors="ignore")
            uname = name.lstrip("@")
            if not uname:
                continue
            mentions.append(ctx.usernames.get(uname.casefold(), "@" + uname))
        elif ent.type in (MessageEntity.URL, MessageEntity.TEXT_LINK):
            links += 1
    if not entities:
        links = count_links(text)
    return tuple(dict.fromkeys(mentions)), links


def _is_command_for_us(text: str, ctx: TranslateContext) -> bool:
    if command_name(text) is None:
        return False
    head = text.split(None, 1)[0]
    if "@" in head and ctx.bot_username:
        return head.split("@", 1)[1].casefold() == ctx.bot_username.casefold()
    return True


def _from_message(msg: Message, ctx: TranslateContext, edited: bool) -> list[Event]:
    chat = msg.chat
    if chat.type == ChatType.CHANNEL:
        return []
    member_id, name, username, is_bot = _sender(msg)
    if ctx.bot_id is not None and member_id == str(ctx.bot_id):
        return []
    text = msg.text or msg.caption or ""
    private = chat.type == ChatType.PRIVATE
    base = {
        "platform": PLATFORM,
        "group_id": str(chat.id),
        "group_title": chat.title or (f"DM {chat.full_name}" if private else ""),
        "channel_id": _channel(msg),
        "raw": msg,
    }
    if not edited:
        service = _service(msg, base)
        if service is not None:
            return service
    if private and not _is_command_for_us(text, ctx):
        # Private chats are not communities: only commands sent to the bot count.
        return []
    mentions, links = _entities(text, msg.entities or msg.caption_entities, ctx)
    reply_to = target = None
    rep = msg.reply_to_message
    # In a forum every message "replies" to its topic's creation message; that is not
    # a reply a person wrote.
    if rep is not None and not (msg.is_topic_message and rep.message_id == msg.message_thread_id):
        reply_to = str(rep.message_id)
        target = _sender(rep)[0]
    data: dict = {}
    if private:
        data["chat_type"] = "private"
    fwd = _forward(msg.forward_origin)
    if fwd:
        data["forward"] = fwd
    if msg.media_group_id:
        data["album"] = msg.media_group_id
    if edited:
        kind = EventKind.EDIT
        when = msg.edit_date or msg.date
    else:
        kind = EventKind.COMMAND if _is_command_for_us(text, ctx) else EventKind.MESSAGE
        when = msg.date
    cmd = command_name(text) if kind is EventKind.COMMAND else None
    return [
        Event(
            kind=kind,
            time=_utc(when),
            member_id=member_id,
            member_name=name,
            username=username,
            is_bot=is_bot,
            message_id=str(msg.message_id),
            reply_to_id=reply_to,
            target_member_id=target,
            mentions=mentions,
            text=text,
            link_count=links,
            media=_media(msg),
            forwarded=bool(fwd),
            emoji=cmd[0] if cmd else None,
            data=data,
            **base,
        )
    ]


def _service(msg: Message, base: dict) -> list[Event] | None:
    """JOIN/LEAVE/SERVICE events for a service message, or None if it is not one."""
    when = _utc(msg.date)
    actor, actor_name, _, _ = _sender(msg)
    if msg.new_chat_members:
        out = []
        for user in msg.new_chat_members:
            data = {"via": "service"}
            if actor and actor != str(user.id):
                data["inviter"] = actor
            out.append(
                Event(
                    kind=EventKind.JOIN, time=when, member_id=str(user.id), member_name=user.full_name,
                    username=user.username, is_bot=user.is_bot, message_id=str(msg.message_id), data=data, **base,
                )
            )
        return out
    if msg.left_chat_member is not None:
        user = msg.left_chat_member
        data = {"via": "service"}
        if actor and actor != str(user.id):
            data["removed_by"] = actor
        return [
            Event(
                kind=EventKind.LEAVE, time=when, member_id=str(user.id), member_name=user.full_name,
                username=user.username, is_bot=user.is_bot, message_id=str(msg.message_id), data=data, **base,
            )
        ]
    for name in _SERVICE_FIELDS:
        value = getattr(msg, name, None)
        if not value:
            continue
        data: dict = {"service": name}
        if name in ("migrate_to_chat_id", "migrate_from_chat_id"):
            data["chat_id"] = str(value)
        elif name == "new_chat_title":
            data["title"] = value
        elif name == "pinned_message":
            data["pinned_id"] = str(value.message_id)
        return [
            Event(
                kind=EventKind.SERVICE, time=when, member_id=actor, member_name=actor_name,
                message_id=str(msg.message_id), data=data, **base,
            )
        ]
    return None


# -- reactions, members, buttons -------------------------------------------------
def _emoji(r: ReactionType) -> str:
    if r.type == ReactionType.EMOJI:
        return r.emoji  # type: ignore[attr-defined]
    if r.type == ReactionType.CUSTOM_EMOJI:
        return "custom:" + r.custom_emoji_id  # type: ignore[attr-defined]
    return str(r.type)


def _from_reaction(update: Update, ctx: TranslateContext) -> list[Event]:
    mr = update.message_reaction
    assert mr is not None
    if mr.user is not None:
        member_id, name, username, is_bot = str(mr.user.id), mr.user.full_name, mr.user.username, mr.user.is_bot
    elif mr.actor_chat is not None:
        member_id, name, username, is_bot = str(mr.actor_chat.id), mr.actor_chat.title or "", mr.actor_chat.username, False
    else:
        return []
    chat_id, message_id = str(mr.chat.id), str(mr.message_id)
    old = [_emoji(r) for r in mr.old_reaction]
    new = [_emoji(r) for r in mr.new_reaction]
    target = ctx.authors.get((chat_id, message_id))
    out = []
    for emoji, removed in [(e, False) for e in new if e not in old] + [(e, True) for e in old if e not in new]:
        out.append(
            Event(
                platform=PLATFORM, group_id=chat_id, group_title=mr.chat.title or "", kind=EventKind.REACTION,
                time=_utc(mr.date), member_id=member_id, member_name=name, username=username, is_bot=is_bot,
                message_id=message_id, target_member_id=target, emoji=emoji,
                data={"removed": True} if removed else {}, raw=mr,
            )
        )
    return out


def _from_member_update(cmu: ChatMemberUpdated, ctx: TranslateContext, own: bool) -> list[Event]:
    """JOIN/LEAVE when membership changes; SERVICE for admin changes and the bot's own status."""
    old, new = cmu.old_chat_member, cmu.new_chat_member
    user = new.user
    was_in = old.status in _IN or (old.status == ChatMember.RESTRICTED and bool(getattr(old, "is_member", False)))
    is_in = new.status in _IN or (new.status == ChatMember.RESTRICTED and bool(getattr(new, "is_member", False)))
    base = {
        "platform": PLATFORM, "group_id": str(cmu.chat.id), "group_title": cmu.chat.title or "",
        "time": _utc(cmu.date), "member_id": str(user.id), "member_name": user.full_name,
        "username": user.username, "is_bot": user.is_bot, "raw": cmu,
    }
    if cmu.chat.type in (ChatType.CHANNEL, ChatType.PRIVATE):
        return []
    if own:
        return [Event(kind=EventKind.SERVICE, data={"service": "bot_status", "old": old.status, "new": new.status}, **base)]
    out = []
    actor = str(cmu.from_user.id) if cmu.from_user else None
    if is_in != was_in:
        data: dict = {"via": "chat_member"}
        if actor and actor != str(user.id):
            data["inviter" if is_in else "removed_by"] = actor
        if cmu.invite_link is not None and cmu.invite_link.name:
            data["invite_link"] = cmu.invite_link.name
        out.append(Event(kind=EventKind.JOIN if is_in else EventKind.LEAVE, data=data, **base))
    if old.status in _ADMIN or new.status in _ADMIN:
        # Promotions, demotions and changed rights: the adapter refreshes its admin cache.
        out.append(Event(kind=EventKind.SERVICE, data={"service": "admin_change", "old": old.status, "new": new.status, "by": actor}, **base))
    elif old.status != new.status and not out:
        out.append(Event(kind=EventKind.SERVICE, data={"service": "status_change", "old": old.status, "new": new.status, "by": actor}, **base))
    return out


def _from_callback(update: Update, ctx: TranslateContext) -> list[Event]:
    q = update.callback_query
    assert q is not None
    if q.message is None or q.data is None:
        return []  # inline-mode messages and games: not ours
    chat = q.message.chat
    return [
        Event(
            platform=PLATFORM, group_id=str(chat.id), group_title=chat.title or "", kind=EventKind.BUTTON,
            time=_utc(ctx.now or datetime.now(UTC)), member_id=str(q.from_user.id), member_name=q.from_user.full_name,
            username=q.from_user.username, is_bot=q.from_user.is_bot, message_id=str(q.message.message_id),
            channel_id=str(q.message.message_thread_id) if getattr(q.message, "is_topic_message", False) else "",
            data={"payload": q.data, "press_id": q.id},
            # The press id is Telegram's own: a redelivered press is stored once whatever
            # the time of receipt.
            key=f"btn:{q.id}", raw=q,
        )
    ]


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
