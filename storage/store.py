"""The async `EventStore`: idempotent event storage plus the group, member, settings and
audit records around it. Same code on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import time as _time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.batch import IN_ROUND, WriteQueue
from storage.db import make_engine, upgrade
from storage.event_rows import EventRowsMixin, PreparedEvents  # noqa: F401 (re-exported)
from storage.events import Event, EventKind
from storage.fastread import FastReads
from storage.models import EventRow, Group, Member
from storage.once import SingleFlight
from storage.records import RecordsMixin

#: Rows per INSERT batch: large enough to amortise round trips, small enough to keep
#: memory flat on a 1 GB import.
BATCH = 5000


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A group as the rest of the bot sees it."""

    pk: int
    platform: str
    group_id: str
    title: str
    language: str | None
    timezone: str | None
    active: bool


@dataclass(frozen=True, slots=True)
class AppendResult:
    """How many events of a batch were new and how many were already stored."""

    new: int
    duplicate: int


def _group_info(g: Group) -> GroupInfo:
    return GroupInfo(g.id, g.platform, g.group_id, g.title, g.language, g.timezone, g.active)


def row_to_event(r: Any, platform: str, group_id: str, names: dict[str, str] | None = None) -> Event:
    """Rebuild an `Event` from a stored row (a mapping with the events columns)."""
    return Event(
        platform=platform,
        group_id=group_id,
        kind=EventKind(r["kind"]),
        time=datetime.fromtimestamp(r["ts"], UTC),
        member_id=r["member_id"],
        member_name=(names or {}).get(r["member_id"] or "", ""),
        is_bot=bool(r["is_bot"]),
        channel_id=r["channel_id"] or "",
        message_id=r["message_id"],
        reply_to_id=r["reply_to_id"],
        target_member_id=r["target_member_id"],
        mentions=tuple(r["mentions"].split()) if r["mentions"] else (),
        text=r["text"] or "",
        link_count=r["link_count"] or 0,
        media=r["media"],
        forwarded=bool(r["forwarded"]),
        emoji=r["emoji"],
        data=json.loads(r["data"]) if r["data"] else {},
        key=r["key"],
    )


@cache
def _group_statements(dialect: str) -> tuple:
    """`ensure_group`'s insert, title update and read, built once per dialect with bound
    parameters: building them cost a new group 0.3 ms."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    p, g = bindparam("gp_platform"), bindparam("gp_group_id")
    return (
        insert(Group.__table__).on_conflict_do_nothing(index_elements=["platform", "group_id"]),
        update(Group).where(Group.platform == p, Group.group_id == g, Group.title == "").values(title=bindparam("gp_title")),
        select(Group).where(Group.platform == p, Group.group_id == g),
    )


@cache
def _by_key_statements() -> tuple:
    """`_by_key`'s three reads, built once: a reply's lookup of the message it answers
    (a third of chat) built them anew each time, at more cost than the reads."""
    t = EventRow.__table__
    return (
        select(t).where(t.c.group_pk == bindparam("bk_g"), t.c.key == bindparam("bk_key")),
        select(Group).where(Group.id == bindparam("bk_g")),
        select(Member.name).where(Member.platform == bindparam("bk_platform"), Member.member_id == bindparam("bk_member")),
    )


class EventStore(EventRowsMixin, RecordsMixin):
    """Idempotent store of `Event`s and the records around them.

    Open with `await EventStore.open(url)`, which applies migrations first. Appending
    the same event twice (same platform, group and key) stores it once.
    """

    def __init__(self, engine: AsyncEngine, url: str) -> None:
        self.engine = engine
        self.url = url
        self.dialect = engine.dialect.name
        self._groups: dict[tuple[str, str], GroupInfo] = {}
        #: Groups this store created and whose first turn has not asked yet (`take_created`).
        self._created: set[int] = set()
        self._members: dict[tuple[str, str], str] = {}
        self._group_members: set[tuple[int, str]] = set()
        self._channels: set[tuple[int, str]] = set()
        #: Reads the live path makes, on a SQLite file without the async driver's hop.
        self.reads = FastReads(self)
        #: The group-commit writer the live path writes through.
        self.writes = WriteQueue(self)
        self._once = SingleFlight()
        #: group_pk → (monotonic time read, settings overrides); see `get_settings`.
        self._settings: dict[int, tuple[float, dict[str, Any]]] = {}

    @classmethod
    async def open(cls, url: str, migrate: bool = True) -> EventStore:
        """Connect to `url` and bring its schema up to date."""
        engine = make_engine(url)
        if migrate:
            await upgrade(engine)
        return cls(engine, url)

    async def close(self) -> None:
        """Commit whatever is queued, then dispose of the connection pool."""
        try:
            await self.writes.flush()
        finally:
            await self.writes.shutdown()
            self.reads.dispose()
            await self.engine.dispose()

    def _insert(self, table):
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    # -- groups ------------------------------------------------------------------
    async def ensure_group(self, platform: str, group_id: str, title: str = "", *, live: bool = False) -> GroupInfo:
        """Return the group, creating it on first sight (and filling in a missing title).

        `live`: the caller is the pipeline handling the group's event, and a group this
        call creates is remembered for `take_created` (an import's groups are not: it
        writes their history right after)."""
        cached = self._groups.get((platform, group_id))
        if cached and (cached.title or not title):
            return cached
        return await self._once.do(("group", platform, group_id), lambda: self._ensure_group(platform, group_id, title, live))

    async def _ensure_group(self, platform: str, group_id: str, title: str, live: bool = False) -> GroupInfo:
        ins, upd, sel = _group_statements(self.dialect)
        key = {"gp_platform": platform, "gp_group_id": group_id}

        created = False

        async def write(conn) -> Any:
            nonlocal created
            res = await conn.execute(ins, {"platform": platform, "group_id": group_id, "title": title, "created_ts": _time.time()})
            created = res.rowcount == 1
            if title:
                await conn.execute(upd, {**key, "gp_title": title})
            return (await conn.execute(sel, key)).one()

        if IN_ROUND.get():
            # Called by a round itself (a replayed event of a group not cached yet).
            async with self.engine.begin() as conn:
                row = await write(conn)
        else:
            # Through the group commit: a write of its own waited for SQLite's write lock
            # behind the rounds, and with shard workers behind the other workers' rounds
            # too, where SQLite's busy handler backs off in steps of up to 100 ms (a
            # worker's first sights of its groups took up to 0.95 s).
            row = await self.writes.run(write)
        info = GroupInfo(row.id, row.platform, row.group_id, row.title, row.language, row.timezone, row.active)
        self._groups[(platform, group_id)] = info
        if created and live:
            self._created.add(info.pk)
        return info

    def take_created(self, group_pk: int) -> bool:
        """True once for a group this store created for the pipeline (`ensure_group` with
        `live`): the caller's turn is the group's first anywhere (see `storage.fresh`)."""
        if group_pk in self._created:
            self._created.discard(group_pk)
            return True
        return False

    async def group(self, platform: str, group_id: str) -> GroupInfo | None:
        """The group with these platform ids, or None."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(Group).where(Group.platform == platform, Group.group_id == group_id)
                )
            ).first()
        return GroupInfo(row.id, row.platform, row.group_id, row.title, row.language, row.timezone, row.active) if row else None

    async def groups(self) -> list[GroupInfo]:
        """Every group, oldest first."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(Group).order_by(Group.id))).all()
        return [GroupInfo(r.id, r.platform, r.group_id, r.title, r.language, r.timezone, r.active) for r in rows]

    async def find_group(self, ref: str) -> GroupInfo | None:
        """Find a group by title (case-insensitive), platform id, or "platform:id"; else by
        the beginning of its title, if only one group's title begins so ("Course 101" for
        "Course 101 · Data Science", as a person would type it)."""
        groups = await self.groups()
        for g in groups:
            if ref in (g.group_id, f"{g.platform}:{g.group_id}", str(g.pk)):
                return g
        folded = ref.casefold()
        for g in groups:
            if g.title.casefold() == folded:
                return g
        starts = [g for g in groups if g.title.casefold().startswith(folded)] if folded.strip() else []
        return starts[0] if len(starts) == 1 else None

    async def update_group(self, pk: int, **values: Any) -> None:
        """Change a group's title, language, timezone, active flag or platform id."""
        async with self.engine.begin() as conn:
            await conn.execute(update(Group).where(Group.id == pk).values(**values))
        self._groups.clear()
        self._settings.clear()

    # -- events ------------------------------------------------------------------
    async def append(self, event: Event) -> bool:
        """Store one event; True if it was new. Concurrent appends share one transaction
        (group commit, `storage.batch`); this returns once the event is committed."""
        return await self.writes.append(event)

    async def append_many(self, events: Sequence[Event]) -> AppendResult:
        """Store events idempotently in batches; count new and already-stored ones."""
        new = dup = 0
        for start in range(0, len(events), BATCH):
            n = await self._append_batch(events[start : start + BATCH])
            new += n
            dup += len(events[start : start + BATCH]) - n
        return AppendResult(new, dup)

    async def _append_batch(self, batch: Sequence[Event]) -> int:
        if not batch:
            return 0
        prepared = await self.prepare_events(batch)
        async with self.engine.begin() as conn:
            inserted = await self.write_events(conn, prepared, per_event=False)
        self.remember(prepared)
        return inserted

    async def link_replies(self, group_pk: int) -> int:
        """Fill in `target_member_id` of replies and reactions from the stored message
        they answer (imports learn a reply's author only after reading it)."""
        t = EventRow.__table__
        e2 = t.alias("orig")
        orig_author = (
            select(e2.c.member_id)
            .where(e2.c.group_pk == t.c.group_pk, e2.c.key == "msg:" + func.coalesce(t.c.reply_to_id, t.c.message_id))
            .scalar_subquery()
        )
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(t)
                .where(
                    t.c.group_pk == group_pk,
                    t.c.target_member_id.is_(None),
                    (t.c.reply_to_id.is_not(None)) | (t.c.kind == EventKind.REACTION.value),
                )
                .values(target_member_id=orig_author)
            )
        return res.rowcount or 0

    async def events(
        self,
        group_pk: int,
        since: datetime | None = None,
        until: datetime | None = None,
        kinds: Iterable[EventKind] | None = None,
        member_id: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[Event]:
        """Events of a group in time order, filtered by time, kind and member."""
        t = EventRow.__table__
        q = select(t).where(t.c.group_pk == group_pk)
        if since is not None:
            q = q.where(t.c.ts >= since.timestamp())
        if until is not None:
            q = q.where(t.c.ts < until.timestamp())
        if kinds is not None:
            q = q.where(t.c.kind.in_([k.value for k in kinds]))
        if member_id is not None:
            q = q.where(t.c.member_id == member_id)
        q = q.order_by(t.c.ts.desc() if newest_first else t.c.ts, t.c.id)
        if limit:
            q = q.limit(limit)
        async with self.engine.connect() as conn:
            g = (await conn.execute(select(Group).where(Group.id == group_pk))).one()
            rows = (await conn.execute(q)).mappings().all()
            names = await self._names(conn, g.platform)
        return [row_to_event(r, g.platform, g.group_id, names) for r in rows]

    async def message(self, group_pk: int, message_id: str) -> Event | None:
        """The original message with this platform id in the group, if stored."""
        evs = await self._by_key(group_pk, f"msg:{message_id}")
        return evs

    async def _by_key(self, group_pk: int, key: str) -> Event | None:
        # Through the fast reader: the points rules look up the message a reply answers.
        by_key, group, name = _by_key_statements()
        rows = await self.reads.rows(by_key, {"bk_g": group_pk, "bk_key": key})
        if not rows:
            return None
        r = rows[0]._mapping
        (g,) = await self.reads.rows(group, {"bk_g": group_pk})
        names = await self.reads.rows(name, {"bk_platform": g.platform, "bk_member": r["member_id"]})
        return row_to_event(r, g.platform, g.group_id, {r["member_id"] or "": (names[0][0] if names else None) or ""})

    async def _names(self, conn, platform: str) -> dict[str, str]:
        rows = await conn.execute(
            select(Member.member_id, Member.name).where(Member.platform == platform)
        )
        return {mid: name for mid, name in rows}

    async def count_events(self, group_pk: int | None = None, kind: EventKind | None = None) -> int:
        """How many events are stored (in one group, of one kind)."""
        q = select(func.count()).select_from(EventRow)
        if group_pk is not None:
            q = q.where(EventRow.group_pk == group_pk)
        if kind is not None:
            q = q.where(EventRow.kind == kind.value)
        async with self.engine.connect() as conn:
            return int((await conn.execute(q)).scalar() or 0)
