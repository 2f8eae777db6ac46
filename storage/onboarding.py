"""Onboarding tables: join-gate attempts, due timers, newcomers' introductions and the
per-group gate state — and `OnboardingStore`, the async access to them.

Same code on SQLite and PostgreSQL. Every change that two parties could race for (a
newcomer pressing the button while their time runs out; two processes running due
timers) is a conditional UPDATE whose row count says who won, so it happens once.
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
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from storage import fastread, fresh
from storage.models import Base

#: Gate statuses: still waiting, let in, failed (wrong answers), ran out of time, left
#: before answering, or called off (an admin released them by hand).
GATE_STATUSES = ("pending", "passed", "failed", "timeout", "left", "cancelled")


class OnbGate(Base):
    """One newcomer's trip through the join gate."""

    __tablename__ = "onb_gates"
    __table_args__ = (Index("ix_onb_gates_member", "group_pk", "member_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    mode: Mapped[str] = mapped_column(String(16))
    #: The right choice's button value ("ok" in button mode, the number in question mode).
    answer: Mapped[str] = mapped_column(String(64), default="")
    question: Mapped[str] = mapped_column(String(128), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel_id: Mapped[str] = mapped_column(String(64), default="")
    created_ts: Mapped[float] = mapped_column(Float)
    deadline_ts: Mapped[float] = mapped_column(Float)
    decided_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    reason: Mapped[str] = mapped_column(String(64), default="")


class OnbTimer(Base):
    """Something to do at a time: end a gate, delete a welcome. Done once (done_ts)."""

    __tablename__ = "onb_timers"
    __table_args__ = (
        UniqueConstraint("group_pk", "kind", "key", name="uq_onb_timers_key"),
        Index("ix_onb_timers_due", "done_ts", "due_ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128))
    due_ts: Mapped[float] = mapped_column(Float)
    data: Mapped[str] = mapped_column(Text, default="")
    done_ts: Mapped[float | None] = mapped_column(Float, nullable=True)


class OnbMember(Base):
    """A member's introduction (picked interest tags), introduction opt-in and warm-up."""

    __tablename__ = "onb_members"
    __table_args__ = (UniqueConstraint("group_pk", "member_id", name="uq_onb_members"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[str] = mapped_column(String(64))
    tags: Mapped[str] = mapped_column(Text, default="")
    tags_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    intro_done_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: "in" (suggest me and tell me about newcomers), "out" (never suggest me), "" (default).
    optin: Mapped[str] = mapped_column(String(8), default="")
    released_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    warm_count: Mapped[int] = mapped_column(Integer, default=0)


class OnbGroup(Base):
    """Per-group gate state: when the gate went on, and a raid's automatic gate."""

    __tablename__ = "onb_groups"

    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    gate_mode: Mapped[str] = mapped_column(String(16), default="off")
    gate_on_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    raid_until_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    raid_alert_ts: Mapped[float | None] = mapped_column(Float, nullable=True)


def _row(r: Any) -> dict[str, Any]:
    return dict(r._mapping) if r is not None else None  # type: ignore[return-value]


class OnboardingStore:
    """Async access to the onboarding tables (`insert` is the store's dialect insert)."""

    def __init__(self, engine: AsyncEngine, insert) -> None:
        self.engine = engine
        self._insert = insert

    # -- group state -----------------------------------------------------------------
    async def group_state(self, group_pk: int) -> dict[str, Any]:
        """The group's gate state (defaults when never stored)."""
        async with self.engine.connect() as conn:
            r = (await conn.execute(select(OnbGroup.__table__).where(OnbGroup.group_pk == group_pk))).first()
        return _row(r) or {"group_pk": group_pk, "gate_mode": "off", "gate_on_ts": None, "raid_until_ts": None, "raid_alert_ts": None}

    async def note_gate_mode(self, group_pk: int, mode: str, ts: float) -> float | None:
        """Record the configured gate mode; remember when it went from off to on.

        Returns the time the gate has been on since (None while it is off)."""
        state = await self.group_state(group_pk)
        if state["gate_mode"] == mode and (mode == "off" or state["gate_on_ts"] is not None):
            return state["gate_on_ts"]
        on_ts = None if mode == "off" else (state["gate_on_ts"] if state["gate_mode"] != "off" and state["gate_on_ts"] else ts)
        await self._save_group(group_pk, gate_mode=mode, gate_on_ts=on_ts)
        return on_ts

    async def set_raid(self, group_pk: int, until_ts: float | None, alert_ts: float | None = None) -> None:
        """Switch the raid gate on until `until_ts` (None: off); `alert_ts` when told."""
        values: dict[str, Any] = {"raid_until_ts": until_ts}
        if alert_ts is not None:
            values["raid_alert_ts"] = alert_ts
        await self._save_group(group_pk, **values)

    async def _save_group(self, group_pk: int, **values: Any) -> None:
        async with self.engine.begin() as conn:
            stmt = self._insert(OnbGroup.__table__).values(group_pk=group_pk, **values)
            await conn.execute(stmt.on_conflict_do_update(index_elements=["group_pk"], set_=values))

    # -- gates -----------------------------------------------------------------------
    async def create_gate(self, group_pk: int, member_id: str, mode: str, answer: str, question: str,
                          created_ts: float, deadline_ts: float, channel_id: str = "") -> int:
        """Open a gate for a member; returns its id."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                OnbGate.__table__.insert().values(
                    group_pk=group_pk, member_id=member_id, status="pending", mode=mode, answer=answer,
                    question=question, attempts=0, channel_id=channel_id, created_ts=created_ts,
                    deadline_ts=deadline_ts, reason="",
                ).returning(OnbGate.__table__.c.id)
            )
            return int(res.scalar_one())

    async def gate(self, gate_id: int) -> dict[str, Any] | None:
        """One gate by id."""
        async with self.engine.connect() as conn:
            r = (await conn.execute(select(OnbGate.__table__).where(OnbGate.id == gate_id))).first()
        return _row(r)

    async def pending_gate(self, group_pk: int, member_id: str) -> dict[str, Any] | None:
        """The member's open gate in the group, if any."""
        t = OnbGate.__table__
        async with self.engine.connect() as conn:
            r = (await conn.execute(
                select(t).where(t.c.group_pk == group_pk, t.c.member_id == member_id, t.c.status == "pending").order_by(t.c.id.desc())
            )).first()
        return _row(r)

    async def gates(self, group_pk: int, status: str | None = None) -> list[dict[str, Any]]:
        """Every gate of a group (of one status), oldest first."""
        if fresh.unread(self.engine, group_pk):  # created in this turn: no gates yet
            return []
        t = OnbGate.__table__
        q = select(t).where(t.c.group_pk == group_pk)
        if status is not None:
            q = q.where(t.c.status == status)
        return [_row(r) for r in await fastread.rows(self.engine, q.order_by(t.c.id))]

    async def pending_on_message(self, group_pk: int, message_id: str) -> int:
        """How many newcomers still wait under one gate message (a raid's is shared)."""
        from sqlalchemy import func

        t = OnbGate.__table__
        async with self.engine.connect() as conn:
            return int((await conn.execute(
                select(func.count()).where(t.c.group_pk == group_pk, t.c.message_id == message_id, t.c.status == "pending")
            )).scalar() or 0)

    async def update_gate(self, gate_id: int, **values: Any) -> None:
        """Change a gate's message id, question, answer or attempts."""
        async with self.engine.begin() as conn:
            await conn.execute(update(OnbGate).where(OnbGate.id == gate_id).values(**values))

    async def wrong_answer(self, gate_id: int) -> int:
        """Count one wrong answer; returns the attempts so far."""
        async with self.engine.begin() as conn:
            await conn.execute(update(OnbGate).where(OnbGate.id == gate_id).values(attempts=OnbGate.attempts + 1))
            return int((await conn.execute(select(OnbGate.attempts).where(OnbGate.id == gate_id))).scalar_one())

    async def finish_gate(self, gate_id: int, status: str, ts: float, reason: str = "") -> bool:
        """Close a pending gate; True only for the one caller that closed it."""
        if status not in GATE_STATUSES or status == "pending":
            raise ValueError(f"finish_gate: status must be one of {GATE_STATUSES[1:]}, got {status!r}")
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(OnbGate).where(OnbGate.id == gate_id, OnbGate.status == "pending")
                .values(status=status, decided_ts=ts, reason=reason[:64])
            )
        return res.rowcount == 1

    # -- timers ----------------------------------------------------------------------
    async def add_timer(self, group_pk: int, kind: str, key: str, due_ts: float, data: dict | None = None) -> None:
        """Schedule `kind` for `key` at `due_ts` (a second call for the same key is ignored)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                self._insert(OnbTimer.__table__)
                .values(group_pk=group_pk, kind=kind, key=key, due_ts=due_ts,
                        data=json.dumps(data or {}, ensure_ascii=False), done_ts=None)
                .on_conflict_do_nothing(index_elements=["group_pk", "kind", "key"])
            )

    async def due_timers(self, now_ts: float, limit: int = 200) -> list[dict[str, Any]]:
        """Timers due at `now_ts` and not done, earliest first."""
        t = OnbTimer.__table__
        async with self.engine.connect() as conn:
            rows = (await conn.execute(
                select(t).where(t.c.done_ts.is_(None), t.c.due_ts <= now_ts).order_by(t.c.due_ts, t.c.id).limit(limit)
            )).all()
        out = []
        for r in rows:
            d = _row(r)
            d["data"] = json.loads(d["data"]) if d["data"] else {}
            out.append(d)
        return out

    async def claim_timer(self, timer_id: int, now_ts: float) -> bool:
        """Mark a timer done; True only for the one caller that did."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(OnbTimer).where(OnbTimer.id == timer_id, OnbTimer.done_ts.is_(None)).values(done_ts=now_ts)
            )
        return res.rowcount == 1

    async def cancel_timer(self, group_pk: int, kind: str, key: str, now_ts: float) -> bool:
        """Mark a pending timer done without running it."""
        t = OnbTimer.__table__
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(t).where(t.c.group_pk == group_pk, t.c.kind == kind, t.c.key == key, t.c.done_ts.is_(None))
                .values(done_ts=now_ts)
            )
        return res.rowcount == 1

    async def next_due(self) -> float | None:
        """The earliest due time of any open timer."""
        from sqlalchemy import func

        async with self.engine.connect() as conn:
            return (await conn.execute(select(func.min(OnbTimer.due_ts)).where(OnbTimer.done_ts.is_(None)))).scalar()

    # -- members ---------------------------------------------------------------------
    async def member(self, group_pk: int, member_id: str) -> dict[str, Any]:
        """A member's onboarding record (defaults when never stored)."""
        t = OnbMember.__table__
        async with self.engine.connect() as conn:
            r = (await conn.execute(select(t).where(t.c.group_pk == group_pk, t.c.member_id == member_id))).first()
        if r is None:
            return {"group_pk": group_pk, "member_id": member_id, "tags": [], "tags_ts": None, "intro_done_ts": None,
                    "optin": "", "released_ts": None, "warm_count": 0}
        d = _row(r)
        d["tags"] = json.loads(d["tags"]) if d["tags"] else []
        return d

    async def members(self, group_pk: int) -> list[dict[str, Any]]:
        """Every onboarding record of a group."""
        if fresh.unread(self.engine, group_pk):  # created in this turn: no records yet
            return []
        rows = await fastread.rows(self.engine, _members_query(), {"om_g": group_pk})
        out = []
        for r in rows:
            d = _row(r)
            d["tags"] = json.loads(d["tags"]) if d["tags"] else []
            out.append(d)
        return out

    async def save_member(self, group_pk: int, member_id: str, **values: Any) -> None:
        """Create or change a member's record (tags as a list)."""
        if "tags" in values:
            values["tags"] = json.dumps(list(values["tags"]), ensure_ascii=False)
        async with self.engine.begin() as conn:
            stmt = self._insert(OnbMember.__table__).values(group_pk=group_pk, member_id=member_id, **values)
            await conn.execute(stmt.on_conflict_do_update(index_elements=["group_pk", "member_id"], set_=values))

    async def first_seen(self, group_pk: int, member_id: str) -> float | None:
        """When the group first saw the member (the core `group_members` record)."""
        from storage.models import GroupMember

        async with self.engine.connect() as conn:
            return (await conn.execute(
                select(GroupMember.first_ts).where(GroupMember.group_pk == group_pk, GroupMember.member_id == member_id)
            )).scalar()

    async def member_name(self, platform: str, member_id: str) -> tuple[str, str | None]:
        """(display name, username) of a member as last seen; ("", None) if unknown."""
        from storage.models import Member

        async with self.engine.connect() as conn:
            r = (await conn.execute(
                select(Member.name, Member.username).where(Member.platform == platform, Member.member_id == member_id)
            )).first()
        return (r.name or "", r.username) if r is not None else ("", None)

    async def active_members(self, group_pk: int, since_ts: float) -> dict[str, int]:
        """member id → messages written since `since_ts` (people only, not bots)."""
        from sqlalchemy import func

        from storage.models import EventRow

        t = EventRow.__table__
        q = (
            select(t.c.member_id, func.count())
            .where(t.c.group_pk == group_pk, t.c.ts >= since_ts, t.c.kind == "message", t.c.is_bot.is_(False), t.c.member_id.is_not(None))
            .group_by(t.c.member_id)
        )
        async with self.engine.connect() as conn:
            return {mid: int(n) for mid, n in (await conn.execute(q)).all()}

    async def joiners(self, group_pk: int, since_ts: float, until_ts: float) -> list[str]:
        """Distinct people (not bots) who joined the group in [since_ts, until_ts], in order."""
        from sqlalchemy import func

        from storage.models import EventRow

        t = EventRow.__table__
        q = (
            select(t.c.member_id, func.min(t.c.ts).label("first"))
            .where(t.c.group_pk == group_pk, t.c.kind == "join", t.c.ts >= since_ts, t.c.ts <= until_ts,
                   t.c.is_bot.is_(False), t.c.member_id.is_not(None))
            .group_by(t.c.member_id)
            .order_by("first")
        )
        async with self.engine.connect() as conn:
            return [mid for mid, _ in (await conn.execute(q)).all()]

    async def count_warm(self, group_pk: int, member_id: str) -> int:
        """Count one message of a released member's warm-up; returns the count."""
        t = OnbMember.__table__
        async with self.engine.begin() as conn:
            await conn.execute(
                update(t).where(t.c.group_pk == group_pk, t.c.member_id == member_id).values(warm_count=t.c.warm_count + 1)
            )
            return int((await conn.execute(
                select(t.c.warm_count).where(t.c.group_pk == group_pk, t.c.member_id == member_id)
            )).scalar() or 0)


@cache
def _members_query():
    """A group's onboarding records, built once with a bound parameter (a first sight's read)."""
    t = OnbMember.__table__
    return select(t).where(t.c.group_pk == bindparam("om_g")).order_by(t.c.id)
