"""The score cache: loads a group's events into an `EventFrame` incrementally and keeps
computed scores so `/top` answers from memory.

Only rows added since the last load are read (by row id) and fed to the group's
`FrameBuilder`, so a refresh of a group with a million events reads and interns the new
rows, not the million; the loaded strings are not kept, only the frame's arrays. Scores are recomputed when events
arrived or the cache is older than `cache_seconds`: before answering for small groups
(under `sync_limit` events), in a background thread for big ones, which keep answering
from the previous result meanwhile and refresh at most once per `refresh_seconds`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, literal_column, select

from scoring.frame import EventFrame
from scoring.framebuild import FrameBuilder
from scoring.interest import Interests, interests
from scoring.scores import ScoringParams, WindowScores, window_scores
from storage.events import EventKind
from storage.models import EventRow
from storage.store import GroupInfo

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

WINDOWS = ("7d", "30d", "all")
_KINDS = [k.value for k in (EventKind.MESSAGE, EventKind.REACTION, EventKind.JOIN, EventKind.LEAVE, EventKind.DELETE, EventKind.EDIT)]
_COLS = ("ts", "kind", "member_id", "target_member_id", "channel_id", "message_id", "reply_to_id", "mentions", "text", "link_count", "is_bot")


def _column(t, name: str):
    # Only messages' texts are scored; an edit's text would only take memory.
    if name == "text":
        return case((t.c.kind == "message", t.c.text), else_="").label("text")
    return t.c[name]


#: Rows per page when loading: bounds the memory the loaded strings take at once.
PAGE = 100_000


async def load_pages(app: App, group: GroupInfo, after_id: int) -> AsyncIterator[tuple[int, dict[str, list]]]:
    """The group's rows stored after row `after_id`, page by page, as columns:
    yields (last id of the page, columns).

    Keyset pages in id order. The group test is written `+group_pk` so that SQLite
    walks the primary key in order instead of the group index followed by a temporary
    sort of the whole group for every page (valid SQL on PostgreSQL too). Each page is
    transposed with zip(*rows) in a worker thread, so no Python code runs per cell on
    the event loop.
    """
    t = EventRow.__table__
    cols = [t.c.id, *[_column(t, col) for col in _COLS], case((t.c.kind == "reaction", t.c.data), else_="")]
    while True:
        q = (
            select(*cols)
            .where(literal_column(f"+{t.name}.group_pk") == group.pk, t.c.id > after_id, t.c.kind.in_(_KINDS))
            .order_by(t.c.id)
            .limit(PAGE)
        )
        async with app.store.engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        if not rows:
            return
        after_id, out = await asyncio.to_thread(_transpose, rows, after_id)
        del rows
        yield after_id, out


def _transpose(rows: list, after_id: int) -> tuple[int, dict[str, list]]:
    ids, *cols, data = zip(*rows, strict=True)
    del rows
    # A removed reaction takes nothing back it never gave: drop it.
    drop = {i for i, (k, d) in enumerate(zip(cols[1], data, strict=True)) if d and k == "reaction" and '"removed": true' in d}
    out: dict[str, list] = {}
    for name, values in zip(_COLS, cols, strict=True):
        if drop:
            values = [v for i, v in enumerate(values) if i not in drop]
        if name in ("ts", "link_count", "kind"):
            out[name] = list(values)
        elif name == "is_bot":
            out[name] = list(map(bool, values))
        else:
            out[name] = [v or "" for v in values]
    return max(after_id, max(ids)), out


def add_columns(builder: FrameBuilder, c: dict[str, list]) -> int:
    """Feed loaded columns to the group's frame builder (numpy work: off the loop)."""
    return builder.add(
        ts=c["ts"], kind=c["kind"], member=c["member_id"], target=c["target_member_id"],
        channel=c["channel_id"], message_id=c["message_id"], reply_to=c["reply_to_id"],
        mentions=c["mentions"], texts=c["text"], link_count=c["link_count"], is_bot=c["is_bot"],
    )


@dataclass
class Snapshot:
    """Everything computed for a group at one moment."""

    now: float
    frame: EventFrame
    windows: dict[str, WindowScores]
    interests: Interests | None
    events: int


@dataclass
class GroupCache:
    """One group's frame builder, latest snapshot and refresh state."""

    builder: FrameBuilder = field(default_factory=FrameBuilder)
    last_id: int = 0
    snapshot: Snapshot | None = None
    dirty: bool = True
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    task: asyncio.Task | None = None


def params_from(settings: Any) -> ScoringParams:
    """ScoringParams from the group's `[scoring]` settings."""
    return ScoringParams(
        half_life_days=settings.half_life_days,
        weights=settings.weights,
        edge_weights=settings.edge_weights,
        influence_weights=settings.influence_weights,
        pagerank_share=settings.pagerank_share,
        damping=settings.damping,
    )


def compute(frame: EventFrame, now: float, settings: Any, with_interests: bool = True) -> Snapshot:
    """Scores for every window plus interests: pure numpy, safe to run in a thread."""
    p = params_from(settings)
    wins = {w: window_scores(frame, now, w, p) for w in WINDOWS}
    it = interests(frame, settings.taxonomy, vocabulary=settings.vocabulary_tags) if with_interests else None
    return Snapshot(now, frame, wins, it, frame.n)


class ScoresWarming(Exception):
    """Scores of the group are still being computed (a big group, just started)."""


async def chat_snapshot(ctx: Any) -> Snapshot | None:
    """The group's scores for a chat command (a `Ctx`), or None while a big group's
    scores are still being computed."""
    try:
        return await ctx.app.services["scoring"].snapshot(ctx.group, wait=False)
    except ScoresWarming:
        return None


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background score refresh failed", exc_info=task.exception())


class ScoreService:
    """Per-group cached scores (the `scoring` service of the app)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.groups: dict[int, GroupCache] = {}
        self._pending: dict[int, set[tuple[str, str]]] = {}

    async def pending(self, group_pk: int) -> set[tuple[str, str]]:
        """(member, channel) pairs recommended and not yet taken up (loaded once)."""
        if group_pk not in self._pending:
            self._pending[group_pk] = await self.app.services["recommendation_log"].pending_channels(group_pk)
        return self._pending[group_pk]

    def mark_dirty(self, group_pk: int) -> None:
        """New events arrived: the next read refreshes (now or in the background)."""
        gc = self.groups.get(group_pk)
        if gc is None:  # not setdefault: that built an empty frame builder per event
            gc = self.groups[group_pk] = GroupCache()
        gc.dirty = True

    async def snapshot(self, group: GroupInfo, fresh: bool = False, wait: bool = True) -> Snapshot:
        """The group's scores, refreshed first when stale and cheap (or `fresh`).

        With `wait=False` (chat commands) a computation that takes longer than
        `answer_seconds` keeps running in the background and `ScoresWarming` is raised,
        so a member is told to ask again instead of waiting for a million rows.
        """
        gc = self.groups.setdefault(group.pk, GroupCache())
        settings = await self.app.settings("scoring", group)
        now = self.app.clock.now().timestamp()
        snap = gc.snapshot
        stale = snap is None or gc.dirty or now - snap.now > settings.cache_seconds
        if not stale:
            return snap
        big = gc.builder.n >= settings.sync_limit
        if snap is not None and big and not fresh:
            # A big group's refresh costs seconds of CPU: at most one per
            # refresh_seconds, or a busy group would keep a core busy recomputing.
            if (gc.task is None or gc.task.done()) and now - snap.now >= settings.refresh_seconds:
                self._start(group, gc, settings)
            return snap
        running = gc.task is not None and not gc.task.done()
        # A refresh already running may have loaded its rows before the newest events.
        task = gc.task if running and not gc.dirty else self._start(group, gc, settings)
        if wait:
            return await asyncio.shield(task)
        try:
            return await asyncio.wait_for(asyncio.shield(task), settings.answer_seconds)
        except TimeoutError:
            raise ScoresWarming(group.pk) from None

    def _start(self, group: GroupInfo, gc: GroupCache, settings: Any) -> asyncio.Task:
        gc.task = asyncio.create_task(self._refresh(group, gc, settings))
        gc.task.add_done_callback(_log_failure)
        return gc.task

    async def _refresh(self, group: GroupInfo, gc: GroupCache, settings: Any) -> Snapshot:
        async with gc.lock:
            now = self.app.clock.now().timestamp()
            # Someone else refreshed while we waited for the lock: use their result.
            if gc.snapshot is not None and not gc.dirty and now - gc.snapshot.now <= settings.cache_seconds:
                return gc.snapshot
            gc.dirty = False
            async for last_id, cols in load_pages(self.app, group, gc.last_id):
                await asyncio.to_thread(add_columns, gc.builder, cols)
                gc.last_id = last_id
            names = await self.app.store.member_names(group.platform)
            frame = await asyncio.to_thread(gc.builder.frame, names)
            gc.snapshot = await asyncio.to_thread(compute, frame, now, settings)
            return gc.snapshot

    async def warm(self, app: App) -> None:
        """Start hook: score big groups (over `sync_limit` events) in the background, so
        their first /top does not wait for a million rows to load.

        Groups are listed before the hook returns; only big groups get a background
        task, so a small bot starts with no store access running behind its back.
        """
        big = []
        for group in await app.store.groups():
            settings = await app.settings("scoring", group)
            if group.active and settings.warm_on_start and await app.store.count_events(group.pk) >= settings.sync_limit:
                big.append(group)
        if not big:
            return

        async def run() -> None:
            for group in big:
                await self.snapshot(group, fresh=True)

        self._warm_task = asyncio.create_task(run())
        self._warm_task.add_done_callback(_log_failure)

    async def stop(self, app: App) -> None:
        """Stop hook: cancel background work still running."""
        tasks = [gc.task for gc in self.groups.values() if gc.task] + [getattr(self, "_warm_task", None)]
        for t in tasks:
            if t is not None and not t.done():
                t.cancel()
                try:
                    await t
                except (asyncio.CancelledError, Exception):
                    pass

    def drop(self, group_pk: int) -> None:
        """Forget a group's cache (after settings that change scores were updated)."""
        self.groups.pop(group_pk, None)
