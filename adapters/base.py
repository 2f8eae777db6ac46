"""The `Adapter` protocol and the outgoing types every adapter carries out.

The core produces `Reply`s (something to say) and `Action`s (something to do to a
member or message); an adapter turns them into platform calls. Nothing here knows a
platform.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from storage.events import Event


class AdapterStartError(Exception):
    """A platform refused to let the adapter start (wrong token, missing intents); the
    message says what to fix."""


#: What an adapter calls with every event it receives.
EventSink = Callable[[Event], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button. `data` comes back as a BUTTON event's `data["payload"]`."""

    text: str
    data: str


@dataclass(slots=True)
class Reply:
    """Something the bot says.

    `group_id`/`channel_id` say where; `private_to` sends it to one member privately
    instead (DM); `edit_message_id` edits a message the bot sent earlier (an alert
    after a decision). `image` is PNG bytes (charts) with `text` as its caption;
    `file` is (filename, bytes) for documents such as a JSON export.
    """

    platform: str
    group_id: str
    text: str
    channel_id: str = ""
    reply_to_id: str | None = None
    buttons: list[list[Button]] = field(default_factory=list)
    image: bytes | None = None
    file: tuple[str, bytes] | None = None
    private_to: str | None = None
    edit_message_id: str | None = None
    #: True when `text` must not be shown to everyone (ephemeral where supported).
    ephemeral: bool = False


class ActionKind(StrEnum):
    """Moderation and membership actions an adapter can carry out."""

    DELETE = "delete"
    MUTE = "mute"
    UNMUTE = "unmute"
    BAN = "ban"
    UNBAN = "unban"
    KICK = "kick"
    ADD_ROLE = "add_role"
    SET_TITLE = "set_title"


@dataclass(frozen=True, slots=True)
class Action:
    """Something the bot does to a member or a message."""

    kind: ActionKind
    platform: str
    group_id: str
    member_id: str | None = None
    message_id: str | None = None
    channel_id: str = ""
    until: datetime | None = None
    reason: str = ""
    #: Role id (ADD_ROLE) or custom title (SET_TITLE).
    value: str = ""


@dataclass(frozen=True, slots=True)
class Sent:
    """What an adapter reports after sending a `Reply`."""

    message_id: str | None
    ok: bool = True
    error: str = ""


@runtime_checkable
class Adapter(Protocol):
    """One platform's edge. `platform` names it ("telegram", "discord", "console")."""

    platform: str

    async def start(self, sink: EventSink) -> None:
        """Begin receiving; call `sink(event)` for every update, in order."""

    async def stop(self) -> None:
        """Stop receiving and release connections; events in flight finish first."""

    async def send(self, reply: Reply) -> Sent:
        """Send or edit a message."""

    async def act(self, action: Action) -> bool:
        """Carry out an action; False (and a log line) if the platform refused."""

    async def is_admin(self, group_id: str, member_id: str) -> bool:
        """Whether the member is an admin/moderator of the group right now."""
