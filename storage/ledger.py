"""The points ledger (the catalog and redemptions are in `storage.rewards`).

Every award, deduction, reversal and redemption is one ledger row with a reason and an
idempotency key, unique per group: writing the same key twice (a redelivered message,
a restarted job, two instances) stores one row. Balances and leaderboards are sums.

Two sums matter: the *balance* (everything, redemptions included: what a member can
spend) and *XP* (everything but redemptions: what levels are computed from, so buying a
reward never costs a level).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from storage import fastread, fresh
from storage.batch import WriteQueue
from storage.models import Base
from storage.rewards import REDEEM, RewardsMixin


class LedgerEntry(Base):
    """One change to a member's points."""

    __tablename__ = "points_ledger"
    __table_args__ = (
        UniqueConstraint("group_pk", "key", name="uq_ledger_group_key"),
        Index("ix_ledger_group_member_ts", "group_pk", "member_id", "ts"),
        Index("ix_ledger_group_ts", "group_pk", "ts"),
        Index("ix_ledger_group_ref", "group_pk", "ref_message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    ts: Mapped[float] = mapped_column(Float)
    #: The message whose merit earned this row (reversed if it turns out to be spam).
    ref_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True, slots=True)
class MemberStats:
    """One member's ledger figures that the rules need, read in one query."""

    #: Time of the newest message award (cooldowns), or None.
    last_message: float | None
    #: Positive points today from the capped reasons (the daily cap).
    today_capped: int
    #: Points today from reactions received (the reaction cap).
    today_reaction: int
    #: Message awards today (the first one of a day checks the streak).
    today_messages: int
    #: Everything but redemptions (levels).
    xp: int


#: One person's accounts that hold points: (group_pk, member_id) pairs.
Accounts = list[tuple[int, str]]


def owned_by(t, accounts: Accounts):
    """A WHERE clause for rows of `t` that belong to any of `accounts`."""
    return or_(*[and_(t.c.group_pk == g, t.c.member_id == m) for g, m in accounts])


class Ledger(RewardsMixin):
    """Access to the ledger, catalog and redemption tables on the store's engine."""

    def __init__(self, engine: AsyncEngine, writes: WriteQueue | None = None) -> None:
        self.engine = engine
        self._pg = engine.dialect.name == "postgresql"
        #: The store's group-commit writer; the rules' awards go through it when set.
        self.writes = writes

    def _insert(self, table):
        return (postgresql.insert if self._pg else sqlite.insert)(table)

    # -- ledger ------------------------------------------------------------------
    async def add(
        self,
        group_pk: int,
        member_id: str,
        amount: int,
        reason: str,
        key: str,
        ts: float,
        ref_message_id: str | None = None,
        actor: str | None = None,
        note: str = "",
        conn=None,
    ) -> bool:
        """Append a row unless `key` is already in the group's ledger; True if written."""
        stmt = (
            self._insert(LedgerEntry.__table__)
            .values(
                group_pk=group_pk, member_id=member_id, amount=int(amount), reason=reason,
                key=key, ts=ts, ref_message_id=ref_message_id, actor=actor, note=note,
            )
            .on_conflict_do_nothing(index_elements=["group_pk", "key"])
            .returning(LedgerEntry.__table__.c.id)
        )
        if conn is not None:
            return (await conn.execute(stmt)).first() is not None
        async with self.engine.begin() as c:
            return (await c.execute(stmt)).first() is not None

    async def add_many(self, group_pk: int, rows: list[dict], ts: float) -> set[str]:
        """Append rows (member_id, amount, reason, key, ref_message_id, actor, note) in
        one transaction, skipping keys already present; returns the keys written."""
        values = [{"group_pk": group_pk, "ts": ts, **r} for r in rows]
        if self.writes is not None:
            # Folded with other turns' ledger rows into one statement per round.
            return {k for _, k in await self.writes.insert_returning(LedgerEntry.__table__, values, ("group_pk", "key"))}
        stmt = (
            self._insert(LedgerEntry.__table__)
            .on_conflict_do_nothing(index_elements=["group_pk", "key"])
            .returning(LedgerEntry.__table__.c.key)
        )

        async with self.engine.begin() as conn:
            return {k for (k,) in (await conn.execute(stmt, values)).all()}

    async def _sum(self, conn, group_pk: int, member_id: str, xp: bool, accounts: Accounts | None = None) -> int:
        t = LedgerEntry.__table__
        q = select(func.coalesce(func.sum(t.c.amount), 0)).where(owned_by(t, accounts or [(group_pk, member_id)]))
        if xp:
            q = q.where(t.c.reason != REDEEM)
        return int((await conn.execute(q)).scalar() or 0)

    async def balance(self, group_pk: int, member_id: str, accounts: Accounts | None = None) -> int:
        """Spendable points: the sum of every row (of every account in `accounts`, when
        given: one person's linked accounts in a community's chats)."""
        async with self.engine.connect() as conn:
            return await self._sum(conn, group_pk, member_id, False, accounts)

    async def xp(self, group_pk: int, member_id: str, accounts: Accounts | None = None) -> int:
        """Points that count for levels: every row except redemption debits."""
        async with self.engine.connect() as conn:
            return await self._sum(conn, group_pk, member_id, True, accounts)

    async def totals(
        self, group_pks: list[int], since: float | None = None, until: float | None = None, exclude: tuple[str, ...] = (),
    ) -> dict[tuple[int, str], int]:
        """Points earned in [since, until) per (group_pk, member_id) over several chats,
        redemptions excluded as in `top`; for boards that add linked accounts up."""
        t = LedgerEntry.__table__
        total = func.sum(t.c.amount).label("total")
        q = select(t.c.group_pk, t.c.member_id, total).where(t.c.group_pk.in_(group_pks), t.c.reason.not_in((REDEEM, *exclude)))
        if since is not None:
            q = q.where(t.c.ts >= since)
        if until is not None:
            q = q.where(t.c.ts < until)
        q = q.group_by(t.c.group_pk, t.c.member_id)
        async with self.engine.connect() as conn:
            return {(g, m): int(p) for g, m, p in await conn.execute(q) if p}

    async def stats(self, group_pk: int, member_id: str, day_start: float, capped: tuple[str, ...]) -> MemberStats:
        """The member's cooldown, cap, streak and level figures in one query."""
        t = LedgerEntry.__table__
        today = (t.c.ts >= day_start) & (t.c.amount > 0)
        q = select(
            func.max(case((t.c.reason == "message", t.c.ts))),
            func.coalesce(func.sum(case((today & t.c.reason.in_(capped), t.c.amount), else_=0)), 0),
            func.coalesce(func.sum(case((today & (t.c.reason == "reaction"), t.c.amount), else_=0)), 0),
            func.coalesce(func.sum(case((today & (t.c.reason == "message"), 1), else_=0)), 0),
            func.coalesce(func.sum(case((t.c.reason != REDEEM, t.c.amount), else_=0)), 0),
        ).where(t.c.group_pk == group_pk, t.c.member_id == member_id)
        async with self.engine.connect() as conn:
            last, capped_sum, reaction, messages, xp = (await conn.execute(q)).one()
        return MemberStats(float(last) if last is not None else None, int(capped_sum), int(reaction), int(messages), int(xp))

    async def group_stats(self, group_pk: int, day_start: float, capped: tuple[str, ...]) -> dict[str, MemberStats]:
        """`stats` of every member of the group with ledger rows, in one query (the points
        rules load a group's figures at once rather than one query per member)."""
        if fresh.unread(self.engine, group_pk):  # created in this turn: no rows yet
            return {}
        rows = await fastread.rows(self.engine, _group_stats_query(), {"g": group_pk, "day": day_start, "capped": list(capped)})
        return {m: MemberStats(float(last) if last is not None else None, int(c), int(r), int(n), int(xp))
                for m, last, c, r, n, xp in rows}

    async def group_times(self, group_pk: int, reason: str, since: float) -> dict[str, list[float]]:
        """`times` of every member of the group at once: {member_id: [ts, …]}."""
        out: dict[str, list[float]] = {}
        if fresh.unread(self.engine, group_pk):  # created in this turn: no rows yet
            return out
        for m, ts in await fastread.rows(self.engine, _group_times_query(), {"gt_g": group_pk, "gt_reason": reason, "gt_since": since}):
            out.setdefault(m, []).append(float(ts))
        return out

    async def last_ts(self, group_pk: int, member_id: str, reason: str) -> float | None:
        """Time of the member's newest row with this reason."""
        t = LedgerEntry.__table__
        q = select(func.max(t.c.ts)).where(
            t.c.group_pk == group_pk, t.c.member_id == member_id, t.c.reason == reason
        )
        async with self.engine.connect() as conn:
            v = (await conn.execute(q)).scalar()
        return float(v) if v is not None else None

    async def times(self, group_pk: int, member_id: str, reason: str, since: float) -> list[float]:
        """Times of the member's rows with this reason since `since` (streaks)."""
        t = LedgerEntry.__table__
        q = select(t.c.ts).where(
            t.c.group_pk == group_pk, t.c.member_id == member_id, t.c.reason == reason, t.c.ts >= since
        )
        async with self.engine.connect() as conn:
            return [float(r[0]) for r in await conn.execute(q)]

    async def top(
        self, group_pk: int, since: float | None = None, until: float | None = None, limit: int = 10,
        exclude: tuple[str, ...] = (),
    ) -> list[tuple[str, int]]:
        """Members by points earned in [since, until): (member_id, points), best first.

        Redemptions are excluded (spending is not losing a contest); reversals and
        deductions count. Ties break by member id so the order is stable.
        """
        t = LedgerEntry.__table__
        total = func.sum(t.c.amount).label("total")
        q = select(t.c.member_id, total).where(t.c.group_pk == group_pk, t.c.reason.not_in((REDEEM, *exclude)))
        if since is not None:
            q = q.where(t.c.ts >= since)
        if until is not None:
            q = q.where(t.c.ts < until)
        q = q.group_by(t.c.member_id).having(total > 0).order_by(total.desc(), t.c.member_id).limit(limit)
        async with self.engine.connect() as conn:
            return [(m, int(p)) for m, p in await conn.execute(q)]

    async def history(self, group_pk: int, member_id: str, limit: int = 15) -> list[LedgerEntry]:
        """The member's newest ledger rows."""
        q = (
            select(LedgerEntry)
            .where(LedgerEntry.group_pk == group_pk, LedgerEntry.member_id == member_id)
            .order_by(LedgerEntry.ts.desc(), LedgerEntry.id.desc())
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return list((await conn.execute(q)).all())

    async def for_message(self, group_pk: int, message_id: str) -> list[LedgerEntry]:
        """Rows earned by one message (its own points, replies and reactions it got)."""
        q = select(LedgerEntry).where(
            LedgerEntry.group_pk == group_pk, LedgerEntry.ref_message_id == message_id
        ).order_by(LedgerEntry.id)
        async with self.engine.connect() as conn:
            return list((await conn.execute(q)).all())


@cache
def _group_stats_query():
    """`Ledger.group_stats`' query, built once with bound parameters: built per call (its
    six CASE expressions, values inlined) it cost more than running it, on every first
    sight of a group."""
    t = LedgerEntry.__table__
    today = (t.c.ts >= bindparam("day")) & (t.c.amount > 0)
    return select(
        t.c.member_id,
        func.max(case((t.c.reason == "message", t.c.ts))),
        func.coalesce(func.sum(case((today & t.c.reason.in_(bindparam("capped", expanding=True)), t.c.amount), else_=0)), 0),
        func.coalesce(func.sum(case((today & (t.c.reason == "reaction"), t.c.amount), else_=0)), 0),
        func.coalesce(func.sum(case((today & (t.c.reason == "message"), 1), else_=0)), 0),
        func.coalesce(func.sum(case((t.c.reason != REDEEM, t.c.amount), else_=0)), 0),
    ).where(t.c.group_pk == bindparam("g")).group_by(t.c.member_id)


@cache
def _group_times_query():
    """`Ledger.group_times`' query, built once with bound parameters (a first sight's)."""
    t = LedgerEntry.__table__
    return select(t.c.member_id, t.c.ts).where(
        t.c.group_pk == bindparam("gt_g"), t.c.reason == bindparam("gt_reason"), t.c.ts >= bindparam("gt_since"))
