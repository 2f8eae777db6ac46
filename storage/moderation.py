"""Moderation tables and their access class: flags, reports, trust, warnings and the
labels moderators gave (which the spam classifier learns from again at every start).

Lists and verdicts are stored as JSON text, so the same code runs on SQLite and
PostgreSQL. Times are float epoch seconds like the event table.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from storage import fastread, fresh
from storage.batch import DEFERRING, WriteQueue
from storage.models import Base

FLAG_STATUSES = ("open", "spam", "ham", "muted", "hidden", "acted", "dismissed")


class ModFlag(Base):
    """Something moderation flagged or members reported, and what became of it."""

    __tablename__ = "mod_flags"
    __table_args__ = (
        UniqueConstraint("group_pk", "key", name="uq_mod_flags_group_key"),
        Index("ix_mod_flags_group_status", "group_pk", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    #: "msg:<message id>", "raid:<cluster>", "joins:<start>": one flag per thing.
    key: Mapped[str] = mapped_column(String(160))
    ts: Mapped[float] = mapped_column(Float)
    updated_ts: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16))  # auto, report, raid, joins
    status: Mapped[str] = mapped_column(String(16), default="open")
    severity: Mapped[str] = mapped_column(String(8), default="low")
    member_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel_id: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    verdicts: Mapped[str] = mapped_column(Text, default="[]")
    count: Mapped[int] = mapped_column(Integer, default=1)
    #: JSON list of [member id, message id] pairs (raids).
    members: Mapped[str] = mapped_column(Text, default="[]")
    action: Mapped[str] = mapped_column(String(64), default="")
    alert_chat: Mapped[str | None] = mapped_column(String(64), nullable=True)
    alert_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_ts: Mapped[float | None] = mapped_column(Float, nullable=True)


class ModReport(Base):
    """One member's /report of a flagged message."""

    __tablename__ = "mod_reports"
    __table_args__ = (
        UniqueConstraint("flag_id", "reporter_id", name="uq_mod_reports_flag_reporter"),
        Index("ix_mod_reports_group_reporter_ts", "group_pk", "reporter_id", "ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    flag_id: Mapped[int] = mapped_column(ForeignKey("mod_flags.id", ondelete="CASCADE"))
    reporter_id: Mapped[str] = mapped_column(String(64))
    ts: Mapped[float] = mapped_column(Float)


class ModTrust(Base):
    """A member's standing: first seen, clean messages, confirmed spam and not-spam."""

    __tablename__ = "mod_trust"
    __table_args__ = (UniqueConstraint("group_pk", "member_id", name="uq_mod_trust_group_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[str] = mapped_column(String(64))
    first_ts: Mapped[float] = mapped_column(Float)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    spam: Mapped[int] = mapped_column(Integer, default=0)
    ham: Mapped[int] = mapped_column(Integer, default=0)
    updated_ts: Mapped[float] = mapped_column(Float)


class ModWarning(Base):
    """A /warn a moderator gave."""

    __tablename__ = "mod_warnings"
    __table_args__ = (Index("ix_mod_warnings_group_member_ts", "group_pk", "member_id", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[str] = mapped_column(String(64))
    by_member: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    ts: Mapped[float] = mapped_column(Float)


class ModLabel(Base):
    """A labelled text (1 spam, 0 not spam) from a moderator's decision."""

    __tablename__ = "mod_labels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), nullable=True)
    ts: Mapped[float] = mapped_column(Float)
    label: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(64), default="")


_JSON_FIELDS = ("verdicts", "members")


def _row(r: Any) -> dict[str, Any]:
    d = dict(r._mapping) if hasattr(r, "_mapping") else dict(r)
    for k in _JSON_FIELDS:
        if k in d and isinstance(d[k], str):
            d[k] = json.loads(d[k] or "[]")
    if isinstance(d.get("members"), list):
        # (member, message) pairs as tuples: a flood's flag holds up to a hundred, and as
        # lists each was one more object for the garbage collector to walk, for ever.
        d["members"] = [tuple(m) for m in d["members"]]
    return d


def _dump(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for k in _JSON_FIELDS:
        if k in out and not isinstance(out[k], str):
            out[k] = json.dumps(out[k], ensure_ascii=False, default=str)
    return out


class ModerationStore:
    """Async access to the moderation tables on the event store's engine."""

    def __init__(self, engine: AsyncEngine, insert, writes: WriteQueue | None = None) -> None:
        self.engine = engine
        self._insert = insert
        #: The store's group-commit writer: flag and trust writes go through it when set.
        self.writes = writes

    async def _write(self, fn):
        """Run `fn(conn)` in a transaction: the next group-commit round, or its own."""
        if self.writes is not None:
            return await self.writes.run(fn)
        async with self.engine.begin() as conn:
            return await fn(conn)

    # -- flags ----------------------------------------------------------------
    async def flag_by_key(self, group_pk: int, key: str) -> dict[str, Any] | None:
        """The flag with this key in the group, if any."""
        t = ModFlag.__table__
        async with self.engine.connect() as conn:
            r = (await conn.execute(select(t).where(t.c.group_pk == group_pk, t.c.key == key))).first()
        return _row(r) if r else None

    async def flag(self, flag_id: int) -> dict[str, Any] | None:
        """The flag with this id (committed data, read directly on a SQLite file: a
        flooding member's flag is read again every 30 s, 17 reads a second at 500 members)."""
        rows = await fastread.rows(self.engine, _flag_by_id(), {"fi_id": flag_id})
        return _row(rows[0]) if rows else None

    async def create_flag(self, group_pk: int, key: str, ts: float, **values: Any) -> tuple[dict[str, Any], bool]:
        """Insert a flag unless one with `key` exists; returns (flag, created)."""
        vals = _dump({"group_pk": group_pk, "key": key, "ts": ts, "updated_ts": ts, **values})

        insert, by_key = _flag_statements(self.engine.dialect.name)

        async def write(conn):
            created = (await conn.execute(insert, vals)).first() is not None
            r = (await conn.execute(by_key, {"fk_g": group_pk, "fk_k": key})).first()
            return _row(r), created

        return await self._write(write)

    async def update_flag(self, flag_id: int, **values: Any) -> None:
        """Change fields of a flag."""
        t = ModFlag.__table__
        if self.writes is not None and DEFERRING.get():
            # The pipeline keeps the flag it changes in memory; written before the ack.
            self.writes.defer_update(t, flag_id, _dump(values))
            return
        stmt = update(t).where(t.c.id == flag_id).values(**_dump(values))
        await self._write(lambda conn: conn.execute(stmt))

    async def flags(self, group_pk: int, status: str | None = "open", limit: int = 20) -> list[dict[str, Any]]:
        """Flags of a group, newest first (open ones by default)."""
        t = ModFlag.__table__
        q = select(t).where(t.c.group_pk == group_pk)
        if status is not None:
            q = q.where(t.c.status == status)
        q = q.order_by(t.c.ts.desc(), t.c.id.desc()).limit(limit)
        async with self.engine.connect() as conn:
            return [_row(r) for r in (await conn.execute(q)).all()]

    # -- reports --------------------------------------------------------------
    async def add_report(self, group_pk: int, flag_id: int, reporter_id: str, ts: float) -> bool:
        """Record a report; False when this member already reported this flag."""
        t = ModReport.__table__
        async with self.engine.begin() as conn:
            res = await conn.execute(
                self._insert(t)
                .values(group_pk=group_pk, flag_id=flag_id, reporter_id=reporter_id, ts=ts)
                .on_conflict_do_nothing(index_elements=["flag_id", "reporter_id"])
                .returning(t.c.id)
            )
            return res.first() is not None

    async def reporters(self, flag_id: int) -> list[str]:
        """Members who reported the flag, in order."""
        t = ModReport.__table__
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(t.c.reporter_id).where(t.c.flag_id == flag_id).order_by(t.c.ts, t.c.id))
            return [r for (r,) in rows]

    async def reports_since(self, group_pk: int, reporter_id: str, since: float) -> int:
        """How many reports the member made in the group since `since`."""
        t = ModReport.__table__
        q = select(func.count()).where(t.c.group_pk == group_pk, t.c.reporter_id == reporter_id, t.c.ts >= since)
        async with self.engine.connect() as conn:
            return int((await conn.execute(q)).scalar() or 0)

    # -- trust ----------------------------------------------------------------
    async def trust(self, group_pk: int, member_id: str) -> dict[str, Any] | None:
        """The member's trust record, if any."""
        t = ModTrust.__table__
        async with self.engine.connect() as conn:
            r = (await conn.execute(select(t).where(t.c.group_pk == group_pk, t.c.member_id == member_id))).first()
        return _row(r) if r else None

    async def save_trust(self, group_pk: int, member_id: str, first_ts: float, messages: int, spam: int, ham: int, ts: float) -> None:
        """Write the member's trust record (insert or replace the counters)."""
        t = ModTrust.__table__
        vals = {"first_ts": first_ts, "messages": messages, "spam": spam, "ham": ham, "updated_ts": ts}
        stmt = (
            self._insert(t)
            .values(group_pk=group_pk, member_id=member_id, **vals)
            .on_conflict_do_update(index_elements=["group_pk", "member_id"], set_=vals)
        )
        if self.writes is not None and DEFERRING.get():
            # A counter the pipeline keeps in memory: written before the event is acknowledged.
            self.writes.defer(lambda conn: conn.execute(stmt))
            return
        await self._write(lambda conn: conn.execute(stmt))

    async def save_trust_many(self, rows: list[tuple[int, str, float, int, int, int]], ts: float) -> None:
        """Write many (group_pk, member_id, first_ts, messages, spam, ham) records at once."""
        t = ModTrust.__table__

        async def write(conn):
            for pk, mid, first, messages, spam, ham in rows:
                vals = {"first_ts": first, "messages": messages, "spam": spam, "ham": ham, "updated_ts": ts}
                await conn.execute(
                    self._insert(t).values(group_pk=pk, member_id=mid, **vals).on_conflict_do_update(index_elements=["group_pk", "member_id"], set_=vals)
                )

        await self._write(write)

    async def trust_rows(self, group_pk: int) -> list[dict[str, Any]]:
        """Every trust record of a group."""
        if fresh.unread(self.engine, group_pk):  # created in this turn: no records yet
            return []
        return [_row(r) for r in await fastread.rows(self.engine, _trust_query(), {"tq_g": group_pk})]

    # -- warnings -------------------------------------------------------------
    async def add_warning(self, group_pk: int, member_id: str, by: str, reason: str, ts: float) -> None:
        """Record a warning."""
        async with self.engine.begin() as conn:
            await conn.execute(
                ModWarning.__table__.insert().values(group_pk=group_pk, member_id=member_id, by_member=by, reason=reason, ts=ts)
            )

    async def warnings_since(self, group_pk: int, member_id: str, since: float) -> int:
        """Warnings the member got since `since`."""
        t = ModWarning.__table__
        q = select(func.count()).where(t.c.group_pk == group_pk, t.c.member_id == member_id, t.c.ts >= since)
        async with self.engine.connect() as conn:
            return int((await conn.execute(q)).scalar() or 0)

    # -- labels ---------------------------------------------------------------
    async def add_label(self, label: int, text: str, ts: float, group_pk: int | None = None, source: str = "") -> None:
        """Remember a labelled text for the classifier."""
        async with self.engine.begin() as conn:
            await conn.execute(
                ModLabel.__table__.insert().values(group_pk=group_pk, ts=ts, label=int(label), text=text, source=source)
            )

    async def labels(self) -> list[tuple[int, str]]:
        """Every stored label as (label, text), oldest first."""
        t = ModLabel.__table__
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(t.c.label, t.c.text).order_by(t.c.ts, t.c.id))
            return [(int(a), b) for a, b in rows]


@cache
def _trust_query():
    """A group's trust rows, built once with a bound parameter (a first sight's read)."""
    t = ModTrust.__table__
    return select(t).where(t.c.group_pk == bindparam("tq_g"))


@cache
def _flag_statements(dialect: str) -> tuple:
    """A flag's insert (values bound at execution) and its read by key, built once per
    dialect: a flood's first seconds create a flag per member, and building the
    statement and its cache key cost more than running it."""
    t = ModFlag.__table__
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(t).on_conflict_do_nothing(index_elements=["group_pk", "key"]).returning(t.c.id)
    return ins, select(t).where(t.c.group_pk == bindparam("fk_g"), t.c.key == bindparam("fk_k"))


@cache
def _flag_by_id():
    """A flag's read by id, built once with a bound parameter."""
    t = ModFlag.__table__
    return select(t).where(t.c.id == bindparam("fi_id"))
