"""Handles one event from start to end: store it, then moderation, points and commands,
each in its own error boundary, then send what the steps produced.

Features add steps with `Pipeline.add_step(name, fn)`; a step receives a `Turn` and
appends replies or actions to it, or sets `turn.stop` (spam need not run commands).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from adapters.base import Action, Reply
from bot import i18n
from bot.logs import bind_event
from bot.outage import SpoolKeeper, is_db_down
from storage import fresh
from storage.batch import DEFERRING, TurnWrites
from storage.events import Event, EventKind
from storage.store import GroupInfo

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

#: Events whose row is committed before their steps run (see `Pipeline._stage`).
_COMMIT_FIRST = frozenset({EventKind.COMMAND, EventKind.BUTTON})


@dataclass
class Turn:
    """One event's trip through the pipeline and what the steps made of it."""

    event: Event
    group: GroupInfo
    lang: str
    new: bool = True
    replies: list[Reply] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: bool = False
    #: Free-form notes steps leave for later steps (e.g. moderation verdicts).
    notes: dict = field(default_factory=dict)
    #: The event's row, queued in the turn's group commit: whether it was new, once committed.
    stored: asyncio.Future | None = None


Step = Callable[["App", Turn], Awaitable[None]]


class Pipeline:
    """The ordered steps every event goes through."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.steps: list[tuple[str, Step]] = [("commands", _commands_step)]
        self.latencies: list[float] = []
        self.spool = SpoolKeeper(app, self._handle)
        #: Per group, the last event still to be queued (see `_stage`).
        self._last_in_group: dict[tuple[str, str], asyncio.Future] = {}

    def add_step(self, name: str, fn: Step, before: str | None = "commands") -> None:
        """Insert a step (before "commands" by default, so moderation runs first)."""
        names = [n for n, _ in self.steps]
        if before in names:
            self.steps.insert(names.index(before), (name, fn))
        else:
            self.steps.append((name, fn))

    async def handle(self, event: Event) -> Turn | None:
        """Store the event and run every step on it; never raises for a step's fault.

        While the database is unreachable the event goes to the local spool instead
        (returns None) and is processed when the database returns, in arrival order.
        """
        if self.spool.active:
            await self.spool.hold(event)
            return None
        try:
            return await self._handle(event)
        except Exception as exc:
            if not is_db_down(exc):
                raise
            await self.spool.hold(event, exc)
            return None

    async def _handle(self, event: Event) -> Turn:
        # Steps' non-critical writes (audit rows, trust counters) join the next group
        # commit; the barrier below makes them durable before the event is acknowledged.
        writes = TurnWrites()
        token = DEFERRING.set(writes)
        try:
            turn = await self._steps(event)
        finally:
            DEFERRING.reset(token)
            self.app.store.writes.release(writes)  # a failed turn's row is still stored
        await self.app.store.writes.barrier(writes)
        if turn.stored is not None and not await turn.stored:  # raises if it failed: the spool takes it
            # Only another process sharing the database can store it meanwhile (webhook
            # replicas given one update twice); the row is still stored once.
            log.warning("event %s in %s:%s was stored by another process while this one handled it",
                        event.key, event.platform, event.group_id)
        return turn

    async def _steps(self, event: Event) -> Turn:
        t0 = time.perf_counter()
        app = self.app
        store = app.store
        order = self._order_take(event)  # before the first await: arrival order
        token = group = None
        try:
            group = await store.ensure_group(event.platform, event.group_id, event.group_title, live=True)
            # The turn that created the group: its first-sight reads find nothing, and skip
            # reading (`storage.fresh`). Not for a command or button, whose row is committed
            # before its steps, nor on PostgreSQL, where every row is.
            if store.take_created(group.pk) and event.kind not in _COMMIT_FIRST and store.reads.fast:
                token = fresh.begin(store.engine, group.pk)
            lang = await app.language(group)
        except BaseException:
            self._order_done(event, order[1])
            self._end_fresh(group, token)
            raise
        try:
            return await self._turn(Turn(event, group, lang), order, t0)
        finally:
            self._end_fresh(group, token)

    def _end_fresh(self, group: GroupInfo | None, token) -> None:
        # Any turn of the group that finishes its steps ends the group's freshness: its
        # writes may commit from now on.
        if group is not None:
            fresh.end(self.app.store.engine, group.pk)
        if token is not None:
            fresh.reset(token)

    async def _turn(self, turn: Turn, order: tuple, t0: float) -> Turn:
        app, event = self.app, turn.event
        bind_event(event)
        turn.new = await self._stage(turn, order)
        if turn.new:
            app.metrics.labels(app.metrics.events, event.platform, event.kind.value).inc()
        else:
            app.metrics.duplicates.labels(event.platform).inc()
        if not turn.new:
            # A redelivery or replay: stored once, acted on once.
            log.debug("duplicate event %s in %s:%s", event.key, event.platform, event.group_id)
            return turn
        if event.is_bot and event.kind is not EventKind.BUTTON:
            return turn
        for name, step in self.steps:
            if turn.stop:
                break
            try:
                await step(app, turn)
            except Exception as exc:
                log.exception("step %s failed on %s in %s:%s", name, event.key, event.platform, event.group_id)
                turn.errors.append(f"{name}: {exc!r}")
                app.metrics.errors.labels(name).inc()
        await self.deliver(turn)
        self.latencies.append(time.perf_counter() - t0)
        app.metrics.pipeline_latency.observe(time.perf_counter() - t0)
        if len(self.latencies) > 10000:
            del self.latencies[:5000]
        return turn

    async def _stage(self, turn: Turn, order: tuple) -> bool:
        """Store the event, or queue its row unless it is stored or queued already;
        True if it is new.

        A message's row joins the same group commit as the writes its steps queue, and
        the barrier waits for both: one round per message, where committing the row
        first and then the steps' writes cost two (half of a message's latency under
        load). Commands and button presses are committed first, as before: their
        handlers may read or erase the event's own row (`/forgetme` confirmed); so is
        everything on PostgreSQL, where the lookup costs more than the round it saves.
        """
        store, event = self.app.store, turn.event
        prev, mine = order
        try:
            if event.kind in _COMMIT_FIRST or not store.reads.fast:
                # On PostgreSQL the lookup is a round trip and a pooled connection of its
                # own: at 1,000 msg/s the pool ran dry and a backlog built (p50 0.7 s);
                # committing first costs a second round there, not a lookup.
                return await store.append(event)
            if prev is not None and not prev.done():
                # A group's rows are staged in the order its events arrived, even when an
                # earlier event's lookup (through the driver: PostgreSQL) ends later.
                await asyncio.wait([prev])
            if await store.reads.stored(turn.group.pk, event.key):
                return False
            turn.stored = store.writes.stage(event, turn.group.pk)
            return turn.stored is not None
        finally:
            self._order_done(turn.event, mine)

    def _order_take(self, event: Event) -> tuple:
        gk = (event.platform, event.group_id)
        prev = self._last_in_group.get(gk)
        mine = self._last_in_group[gk] = asyncio.get_running_loop().create_future()
        return prev, mine

    def _order_done(self, event: Event, mine: asyncio.Future) -> None:
        if not mine.done():
            mine.set_result(None)
        gk = (event.platform, event.group_id)
        if self._last_in_group.get(gk) is mine:
            del self._last_in_group[gk]

    async def deliver(self, turn: Turn) -> None:
        """Carry out actions, then send replies; each in its own error boundary."""
        for action in turn.actions:
            try:
                await self.app.act(action)
            except Exception as exc:
                log.exception("action %s failed", action.kind)
                self.app.metrics.errors.labels("action").inc()
                turn.errors.append(f"action {action.kind}: {exc!r}")
        for reply in turn.replies:
            try:
                await self.app.send(reply)
            except Exception as exc:
                log.exception("sending a reply failed in %s:%s", reply.platform, reply.group_id)
                self.app.metrics.errors.labels("send").inc()
                turn.errors.append(f"send: {exc!r}")


async def _commands_step(app: App, turn: Turn) -> None:
    if turn.event.kind not in (EventKind.COMMAND, EventKind.BUTTON):
        return
    replies, actions = await app.router.dispatch(app, turn.event, turn.group, turn.lang)
    turn.replies.extend(replies)
    turn.actions.extend(actions)


__all__ = ["Pipeline", "Turn", "i18n"]
