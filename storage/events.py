"""The neutral vocabulary every room speaks: `Event` and `EventKind`.

Adapters translate platform updates into `Event`s once, at the edge; the store keeps
them; scoring, moderation, points and commands read nothing else. Identifiers are
strings on every platform (Telegram's negative chat ids, Discord snowflakes, console
names) so no room needs to know which platform an id came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any


class EventKind(StrEnum):
    """What happened. Stored as its string value."""

    MESSAGE = "message"
    EDIT = "edit"
    DELETE = "delete"
    REACTION = "reaction"
    JOIN = "join"
    LEAVE = "leave"
    COMMAND = "command"
    BUTTON = "button"
    SERVICE = "service"


#: Kinds that carry a message a member wrote (scored, moderated, counted).
MESSAGE_KINDS = frozenset({EventKind.MESSAGE, EventKind.COMMAND})

_LINK_RE = re.compile(r"(?i)\b(?:https?://|www\.|t\.me/|discord\.gg/)\S+")


def count_links(text: str) -> int:
    """Count URLs in plain text (used when a platform gives no entities)."""
    return len(_LINK_RE.findall(text or ""))


def utc(dt: datetime) -> datetime:
    """Return `dt` as tz-aware UTC; naive datetimes are taken to be UTC already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened in a group, in platform-neutral form.

    `key` identifies the event within its group for idempotent storage. Adapters
    normally leave it empty and `__post_init__` derives it from the platform's own
    ids, so the same message seen live and imported from an export gets one key.
    """

    platform: str
    group_id: str
    kind: EventKind
    time: datetime
    member_id: str | None = None
    member_name: str = ""
    is_bot: bool = False
    channel_id: str = ""
    message_id: str | None = None
    reply_to_id: str | None = None
    #: For replies and reactions: who wrote the message responded to, when known.
    target_member_id: str | None = None
    mentions: tuple[str, ...] = ()
    text: str = ""
    link_count: int = 0
    media: str | None = None
    forwarded: bool = False
    #: Reaction emoji, or the command name for COMMAND events.
    emoji: str | None = None
    group_title: str = ""
    username: str | None = None
    #: Extra, kind-specific fields (button payload, removed reaction, inviter...).
    data: dict[str, Any] = field(default_factory=dict, compare=False)
    key: str = ""
    #: The platform's original object, for debugging only; never read by logic.
    raw: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise ValueError("Event.time must be timezone-aware (UTC)")
        if not isinstance(self.kind, EventKind):
            object.__setattr__(self, "kind", EventKind(self.kind))
        if not self.key:
            object.__setattr__(self, "key", self.default_key())

    def default_key(self) -> str:
        """Derive the idempotency key from the platform's ids."""
        ts = int(self.time.timestamp())
        k = self.kind
        if k in MESSAGE_KINDS and self.message_id:
            return f"msg:{self.message_id}"
        if k is EventKind.EDIT and self.message_id:
            return f"edit:{self.message_id}:{ts}"
        if k is EventKind.DELETE and self.message_id:
            return f"del:{self.message_id}"
        if k is EventKind.REACTION:
            removed = "-" if self.data.get("removed") else "+"
            return f"react:{self.message_id}:{self.member_id}:{self.emoji}:{removed}"
        if k in (EventKind.JOIN, EventKind.LEAVE):
            # A service message ("X joined") has an id on both live updates and exports,
            # so the two agree; a bare membership update falls back to the time.
            if self.message_id:
                return f"{k.value}:{self.message_id}:{self.member_id}"
            return f"{k.value}:{self.member_id}:{ts}"
        if k is EventKind.BUTTON:
            return f"btn:{self.data.get('press_id') or self.message_id}:{self.member_id}:{ts}"
        if k is EventKind.SERVICE and self.message_id:
            return f"svc:{self.message_id}"
        return f"{k.value}:{self.member_id}:{self.message_id}:{self.time.timestamp():.6f}"

    @property
    def is_message(self) -> bool:
        """True for events that carry a member's message (plain or command)."""
        return self.kind in MESSAGE_KINDS

    def with_(self, **changes: Any) -> Event:
        """A copy with some fields changed (the key is re-derived unless given)."""
        if "key" not in changes:
            changes["key"] = ""
        return replace(self, **changes)

    def __reduce__(self) -> tuple:
        # Pickled through the shard pipe for every event: one tuple of its values (the
        # kind by value), where dataclasses' generic state and Enum's reduce ran Python
        # code for each event, a fifth of the shard parent's own time.
        v = _VALUES(self)
        return _event_from_values, (v[:2] + (v[2].value,) + v[3:],)


#: The fields of an `Event` in order, and all their values read in one call.
_FIELD_NAMES = tuple(f.name for f in fields(Event))
_VALUES = attrgetter(*_FIELD_NAMES)
_KINDS = {k.value: k for k in EventKind}


def _event_from_values(values: tuple) -> Event:
    """An `Event` from `Event.__reduce__`'s values, checked and keyed already."""
    e = object.__new__(Event)
    for name, value in zip(_FIELD_NAMES, (*values[:2], _KINDS[values[2]], *values[3:]), strict=True):
        object.__setattr__(e, name, value)
    return e


def command_name(text: str) -> tuple[str, str] | None:
    """Split "/top@mybot 7d" into ("top", "7d"); None if `text` is not a command."""
    if not text or text[0] != "/" or len(text) < 2:
        return None
    head, _, rest = text[1:].partition(" ")
    name = head.split("@", 1)[0].strip().lower()
    if not name or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
        return None
    return name, rest.strip()
