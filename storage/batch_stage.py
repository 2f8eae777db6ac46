"""Staging: a pipeline turn's event row held back until the turn queues its first
write or reaches its barrier, so that the row and the writes its handling makes commit
in one group-commit round (`storage.batch`, `bot.pipeline`)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.batch import WriteQueue
    from storage.events import Event

#: Staged rows remembered after their commit (`WriteQueue._committed`): seconds' worth.
RECENT_KEYS = 4096

class TurnWrites:
    """What one pipeline turn queued: per queue, the sequence number of its last write,
    so the turn's barrier waits for its own writes, not for the writes other turns
    queued meanwhile (which cost a whole extra round of latency for every event that
    wrote nothing, or whose writes were already in a round); and the event rows it
    staged and holds back until it queues a write or reaches its barrier."""

    __slots__ = ("last", "held")

    def __init__(self) -> None:
        self.last: dict[WriteQueue, int] = {}
        self.held: list[tuple[WriteQueue, int, asyncio.Future]] = []


#: Set (to the turn's `TurnWrites`) while the pipeline handles an event: writes that may
#: be deferred are, because the pipeline waits for `barrier()` before acknowledging it.
DEFERRING: ContextVar[TurnWrites | bool] = ContextVar("communitybot_deferring", default=False)




class StagingMixin:
    """`stage` and `release` of `WriteQueue` (which provides `_events`, `_kick`)."""

    _events: list
    _inflight: set[tuple[int, str]]
    _recent: OrderedDict[tuple[int, str], None]
    _held: dict[int, list[tuple[Event, asyncio.Future]]]

    def _init_staging(self) -> None:
        #: (group pk, key) of events `stage`d and not yet committed, and of the last ones committed.
        self._inflight = set()
        self._recent = OrderedDict()
        #: Per group, rows staged by turns and held back (`release`), in staging order.
        self._held = {}

    def stage(self, event: Event, group_pk: int) -> asyncio.Future | None:
        """Queue `event` for the next round without waiting: the pipeline, having made
        sure it is not stored yet (`storage.fastread`), handles it meanwhile, so that the
        event and the writes its handling queues commit in one round. The future says
        whether the row was new once committed; None if the same event is queued
        already (a second copy in flight is a duplicate)."""
        k = (group_pk, event.key)
        if k in self._inflight or k in self._recent:
            return None
        self._inflight.add(k)
        fut = asyncio.get_running_loop().create_future()
        fut.add_done_callback(lambda _: self._committed(k))
        turn = DEFERRING.get()
        if isinstance(turn, TurnWrites):
            # Held back until the turn queues its first write or reaches its barrier:
            # a round starting meanwhile would otherwise take the row alone, and the
            # turn's writes would need a round of their own.
            self._held.setdefault(group_pk, []).append((event, fut))
            turn.held.append((self, group_pk, fut))
        else:
            self._events.append((event, fut))
            self._kick()
        return fut

    def _committed(self, k: tuple[int, str]) -> None:
        # Kept a while after the commit: a lookup that began before it (through the async
        # driver) may still answer "not stored" after it.
        self._inflight.discard(k)
        self._recent[k] = None
        if len(self._recent) > RECENT_KEYS:
            self._recent.popitem(last=False)

    def release(self, turn: TurnWrites | None = None) -> None:
        """Queue the rows `turn` (default: the current one) staged and held back; a
        turn's writes never commit before its event's row. A group's rows staged
        before it by other turns go too: a group's rows are stored in arrival order."""
        turn = DEFERRING.get() if turn is None else turn
        if not isinstance(turn, TurnWrites) or not turn.held:
            return
        for q, group_pk, fut in turn.held:
            if q is not self:
                continue
            held = self._held.get(group_pk, [])
            at = next((i for i, (_, f) in enumerate(held) if f is fut), None)
            if at is None:
                continue  # released already, with a later row of its group
            self._events.extend(held[: at + 1])
            del held[: at + 1]
            if not held:
                del self._held[group_pk]
        turn.held = [h for h in turn.held if h[0] is not self]
        self._kick()

