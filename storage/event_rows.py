"""Turning events into rows and writing them: shared by the import path (`append_many`,
one executemany per batch) and the live path (`storage.batch`, which needs to know per
event whether it was new). Mixed into `EventStore`, which provides `engine`, `dialect`,
`_insert`, `ensure_group` and the member, membership and channel caches.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from storage.events import Event
from storage.models import Channel, EventRow, GroupMember, Member

_EVENT_COLS = (
    "group_pk", "key", "kind", "ts", "channel_id", "member_id", "message_id", "reply_to_id",
    "target_member_id", "mentions", "text", "link_count", "media", "forwarded", "emoji", "is_bot", "data",
)
_SQLITE_INSERT = (
    f"INSERT INTO events ({', '.join(_EVENT_COLS)}) VALUES ({', '.join('?' * len(_EVENT_COLS))}) "
    "ON CONFLICT (group_pk, key) DO NOTHING"
)
_SQLITE_ROW = f"({', '.join('?' * len(_EVENT_COLS))})"


@dataclass(slots=True)
class PreparedEvents:
    """Event rows ready to write, with the member, membership and channel rows they need."""

    rows: list[tuple]
    members: dict[tuple[str, str], dict]
    gms: dict[tuple[int, str], float]
    channels: set[tuple[int, str]]


class EventRowsMixin:
    """`prepare_events`, `write_events` and `remember` of `EventStore`."""

    async def prepare_events(self, batch: Sequence[Event]) -> PreparedEvents:
        """Turn events into rows (and the member, membership and channel rows first seen
        with them); nothing is written yet."""
        groups: dict[tuple[str, str], int] = {}
        for e in batch:
            gk = (e.platform, e.group_id)
            if gk not in groups:
                groups[gk] = (await self.ensure_group(e.platform, e.group_id, e.group_title)).pk
        members: dict[tuple[str, str], dict] = {}
        gms: dict[tuple[int, str], float] = {}
        channels: set[tuple[int, str]] = set()
        rows = []
        for e in batch:
            gpk = groups[(e.platform, e.group_id)]
            ts = e.time.timestamp()
            if e.member_id is not None:
                mk = (e.platform, e.member_id)
                if e.member_name and self._members.get(mk) != e.member_name:
                    members[mk] = {
                        "platform": e.platform,
                        "member_id": e.member_id,
                        "name": e.member_name,
                        "username": e.username,
                        "is_bot": e.is_bot,
                    }
                elif mk not in self._members and mk not in members:
                    members[mk] = {
                        "platform": e.platform,
                        "member_id": e.member_id,
                        "name": "",
                        "username": e.username,
                        "is_bot": e.is_bot,
                    }
                gmk = (gpk, e.member_id)
                if gmk not in self._group_members and (gmk not in gms or ts < gms[gmk]):
                    gms[gmk] = ts
            if e.channel_id and (gpk, e.channel_id) not in self._channels:
                channels.add((gpk, e.channel_id))
            # A tuple in _EVENT_COLS order: cheaper than a dict on the import hot path.
            rows.append(
                (
                    gpk, e.key, e.kind.value, ts, e.channel_id, e.member_id, e.message_id,
                    e.reply_to_id, e.target_member_id, " ".join(e.mentions), e.text, e.link_count,
                    e.media, e.forwarded, e.emoji, e.is_bot,
                    json.dumps(e.data, ensure_ascii=False, default=str) if e.data else "",
                )
            )
        return PreparedEvents(rows, members, gms, channels)

    async def write_events(self, conn, p: PreparedEvents, per_event: bool = True) -> Any:
        """Write prepared events in the caller's transaction: per event whether it was
        new (`per_event`, the first of two equal keys wins), else how many were new."""
        if p.members or p.gms or p.channels:
            members, gms, channels = _first_sight_upserts(self.dialect)
            if p.members:
                await conn.execute(members, list(p.members.values()))
            if p.gms:
                await conn.execute(
                    gms, [{"group_pk": g, "member_id": m, "role": "member", "first_ts": t} for (g, m), t in p.gms.items()]
                )
            if p.channels:
                await conn.execute(channels, [{"group_pk": g, "channel_id": c, "title": ""} for g, c in p.channels])
        rows = p.rows
        if self.dialect == "sqlite" and not per_event:
            # sqlite3's executemany runs in C and reports the rows it really inserted
            # as rowcount; going through the driver directly skips SQLAlchemy's
            # per-row parameter processing, which cost more than SQLite itself.
            res = await conn.exec_driver_sql(_SQLITE_INSERT, rows)
            return res.rowcount
        if self.dialect == "sqlite":
            # One multi-row INSERT … RETURNING: which rows were new, in one round trip.
            sql = (f"INSERT INTO events ({', '.join(_EVENT_COLS)}) VALUES "
                   + ",".join([_SQLITE_ROW] * len(rows))
                   + " ON CONFLICT (group_pk, key) DO NOTHING RETURNING group_pk, key")
            got = {(g, k) for g, k in (await conn.exec_driver_sql(sql, tuple(v for r in rows for v in r))).all()}
        else:
            stmt = self._insert(EventRow.__table__).on_conflict_do_nothing(index_elements=["group_pk", "key"])
            t = EventRow.__table__
            dicts = [dict(zip(_EVENT_COLS, r, strict=True)) for r in rows]
            got = {(g, k) for g, k in (await conn.execute(stmt.returning(t.c.group_pk, t.c.key), dicts)).all()}
            if not per_event:
                return len(got)
        out = []
        for r in rows:
            k = (r[0], r[1])
            out.append(k in got)
            got.discard(k)
        return out

    def remember(self, p: PreparedEvents) -> None:
        """After the commit: remember members, memberships and channels now stored."""
        for mk, m in p.members.items():
            if m["name"] or mk not in self._members:
                self._members[mk] = m["name"]
        self._group_members.update(p.gms)
        self._channels.update(p.channels)


@cache
def _first_sight_upserts(dialect: str) -> tuple:
    """The member, membership and channel upserts, built once per dialect: building them
    (their `excluded` columns above all) cost 0.3 ms of a round with a new member in it,
    and in a bot's first seconds most rounds have one."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Member.__table__)
    members = stmt.on_conflict_do_update(
        index_elements=["platform", "member_id"],
        set_={"name": stmt.excluded.name, "username": stmt.excluded.username},
        where=stmt.excluded.name != "",
    )
    gms = insert(GroupMember.__table__).on_conflict_do_nothing(index_elements=["group_pk", "member_id"])
    channels = insert(Channel.__table__).on_conflict_do_nothing(index_elements=["group_pk", "channel_id"])
    return members, gms, channels
