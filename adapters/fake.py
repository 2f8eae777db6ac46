"""An in-memory adapter for tests and benchmarks: events go in through `inject`, and
everything the bot says or does is recorded in `sent` and `actions`."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable

from adapters.base import Action, EventSink, Reply, Sent
from storage.events import Event


class FakeAdapter:
    """A platform that exists only in memory.

    `admins` holds (group_id, member_id) pairs the fake platform calls admins; or pass
    `admin_check`, an async callable, to decide another way. `fail_sends` makes the next
    N sends fail, to test error boundaries.
    """

    def __init__(
        self,
        platform: str = "fake",
        admin_check: Callable[[str, str], Awaitable[bool]] | None = None,
    ) -> None:
        self.platform = platform
        self.sink: EventSink | None = None
        self.sent: list[Reply] = []
        self.sent_ids: list[str] = []
        self.actions: list[Action] = []
        self.admins: set[tuple[str, str]] = set()
        self.admin_check = admin_check
        self.fail_sends = 0
        self.started = False
        self._ids = itertools.count(900_000)

    async def start(self, sink: EventSink) -> None:
        """Remember the sink; nothing to connect to."""
        self.sink = sink
        self.started = True

    async def stop(self) -> None:
        """Forget the sink."""
        self.started = False

    async def inject(self, event: Event):
        """Deliver an event as if the platform had sent it; returns the pipeline's result."""
        if self.sink is None:
            raise RuntimeError("FakeAdapter.inject() before start()")
        return await self.sink(event)

    async def send(self, reply: Reply) -> Sent:
        """Record the reply and give it a message id."""
        if self.fail_sends > 0:
            self.fail_sends -= 1
            raise ConnectionError("fake send failure")
        mid = reply.edit_message_id or str(next(self._ids))
        self.sent.append(reply)
        self.sent_ids.append(mid)
        return Sent(mid)

    async def act(self, action: Action) -> bool:
        """Record the action."""
        self.actions.append(action)
        return True

    async def is_admin(self, group_id: str, member_id: str) -> bool:
        """Admins are those in `admins`, or whatever `admin_check` says."""
        if self.admin_check is not None:
            return await self.admin_check(group_id, member_id)
        return (group_id, member_id) in self.admins
