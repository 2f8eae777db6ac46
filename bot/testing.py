"""A conversation-style harness: the real app and pipeline on a real SQLite file,
driven through `FakeAdapter` the way a person would use the bot.

    bot = await BotHarness.create(tmp_path)
    await bot.say("alice", "How do I start the capstone?")
    await bot.say("chen", "Start from the rubric.", reply_to=-1)
    assert "chen" in await bot.ask("bob", "/top influence")
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path

from adapters.base import Reply
from adapters.fake import FakeAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.config import Config, load_config, load_config_text
from storage.events import Event, EventKind, command_name, count_links


class BotHarness:
    """Drives one group of a `FakeAdapter` platform through the real app."""

    def __init__(self, app: App, adapter: FakeAdapter, clock: FakeClock, group_id: str = "g1", title: str = "Course 101") -> None:
        self.app = app
        self.adapter = adapter
        self.clock = clock
        self.group_id = group_id
        self.title = title
        self.messages: list[Event] = []
        self._ids = itertools.count(1)

    @classmethod
    async def create(
        cls,
        tmp_path: Path,
        config: Config | str | None = None,
        db_url: str | None = None,
        platform: str = "fake",
        admins: tuple[str, ...] = ("admin",),
    ) -> BotHarness:
        """A harness on a fresh SQLite file in `tmp_path` (or `db_url`)."""
        if isinstance(config, str):
            config = load_config_text(config)
        config = config or load_config(None)
        clock = FakeClock()
        url = db_url or f"sqlite:///{tmp_path / 'bot.db'}"
        app = await App.create(config, url, clock)
        adapter = FakeAdapter(platform)
        app.add_adapter(adapter)
        await app.start()
        h = cls(app, adapter, clock)
        for a in admins:
            adapter.admins.add((h.group_id, a))
        return h

    async def close(self) -> None:
        """Stop the app and close the store."""
        await self.app.stop()

    async def other(self, platform: str, group_id: str, title: str = "", admins: tuple[str, ...] = ("admin",)) -> BotHarness:
        """A second chat on another platform, served by the same running app, store and
        clock (a community's Telegram chat beside its Discord server)."""
        adapter = self.app.adapters.get(platform)
        if adapter is None:
            adapter = FakeAdapter(platform)
            self.app.add_adapter(adapter)
            await adapter.start(self.app.handle)
        h = type(self)(self.app, adapter, self.clock, group_id, title or self.title)
        h._ids = self._ids  # message ids stay unique across the chats
        for a in admins:
            adapter.admins.add((group_id, a))
        return h

    def _event(self, member: str, kind: EventKind, **kw) -> Event:
        return Event(
            platform=self.adapter.platform,
            group_id=kw.pop("group_id", self.group_id),
            group_title=self.title,
            kind=kind,
            time=kw.pop("at", None) or self.clock.now(),
            member_id=member,
            member_name=kw.pop("name", member),
            **kw,
        )

    def _resolve(self, ref: int | str | None) -> Event | None:
        if ref is None:
            return None
        if isinstance(ref, int):
            return self.messages[ref]
        return next(m for m in self.messages if m.message_id == ref)

    async def say(self, member: str, text: str, reply_to: int | str | None = None, advance: float = 1.0, **kw) -> Event:
        """`member` writes `text` (a reply to message index/id `reply_to`, if given)."""
        self.clock.advance(advance)
        target = self._resolve(reply_to)
        kind = EventKind.COMMAND if command_name(text) else EventKind.MESSAGE
        kw.setdefault("link_count", count_links(text))
        e = self._event(
            member,
            kind,
            message_id=str(next(self._ids)),
            text=text,
            reply_to_id=target.message_id if target else None,
            target_member_id=target.member_id if target else None,
            **kw,
        )
        self.messages.append(e)
        self._last_sent = len(self.adapter.sent)
        await self.adapter.inject(e)
        return e

    async def ask(self, member: str, text: str, **kw) -> str:
        """`member` writes `text`; returns the texts the bot sent in answer, joined."""
        start = len(self.adapter.sent)
        await self.say(member, text, **kw)
        return "\n".join(r.text for r in self.adapter.sent[start:])

    async def replies_to(self, member: str, text: str, **kw) -> list[Reply]:
        """Like `ask`, but returns the `Reply` objects."""
        start = len(self.adapter.sent)
        await self.say(member, text, **kw)
        return self.adapter.sent[start:]

    async def press(self, member: str, payload: str, message_id: str | None = None) -> list[Reply]:
        """`member` presses a button whose data is `payload`; returns the bot's replies."""
        self.clock.advance(1)
        start = len(self.adapter.sent)
        e = self._event(member, EventKind.BUTTON, message_id=message_id, data={"payload": payload, "press_id": str(next(self._ids))})
        await self.adapter.inject(e)
        return self.adapter.sent[start:]

    async def join(self, member: str, at: datetime | None = None) -> Event:
        """`member` joins the group."""
        self.clock.advance(1)
        e = self._event(member, EventKind.JOIN, at=at)
        await self.adapter.inject(e)
        return e

    async def leave(self, member: str) -> Event:
        """`member` leaves the group."""
        self.clock.advance(1)
        e = self._event(member, EventKind.LEAVE)
        await self.adapter.inject(e)
        return e

    async def react(self, member: str, to: int | str, emoji: str = "👍") -> Event:
        """`member` reacts to message index/id `to`."""
        self.clock.advance(1)
        target = self._resolve(to)
        e = self._event(member, EventKind.REACTION, message_id=target.message_id, target_member_id=target.member_id, emoji=emoji)
        await self.adapter.inject(e)
        return e

    async def edit(self, index: int | str, text: str) -> Event:
        """The author of message `index` edits it to `text`."""
        self.clock.advance(1)
        orig = self._resolve(index)
        e = self._event(orig.member_id, EventKind.EDIT, message_id=orig.message_id, text=text, link_count=count_links(text))
        await self.adapter.inject(e)
        return e

    async def later(self, delta: timedelta | float) -> None:
        """Let time pass."""
        self.clock.advance(delta)

    async def settle(self) -> None:
        """Finish the work that follows messages in the background, now: a new group's
        schedules are written a second (of real time) after its first message
        (`bot.scheduler_sight`), which a test comparing the database before and after a
        command would otherwise see land in between."""
        from bot.scheduler import scheduler_of

        await scheduler_of(self.app).sights.flush()

    @property
    def group(self):
        """The harness's group as stored (after the first event)."""
        return self.app.store._groups.get((self.adapter.platform, self.group_id))
