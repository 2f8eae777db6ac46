"""The rewards catalog and redemptions, mixed into `storage.ledger.Ledger`.

`request` reserves a reward's cost (pending redemptions hold points, so the same points
cannot be spent twice); `decide` approves (a ledger debit with reason `redeem`, one less
in stock) or denies (the reservation is released), once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

#: Ledger reason of a redemption debit (excluded from XP and leaderboards).
REDEEM = "redeem"


class Reward(Base):
    """An item of a group's rewards catalog. `stock` None means unlimited."""

    __tablename__ = "rewards"
    __table_args__ = (UniqueConstraint("group_pk", "name", name="uq_rewards_group_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    cost: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_ts: Mapped[float] = mapped_column(Float)


class Redemption(Base):
    """A member's request for a reward: pending (points reserved), approved or denied."""

    __tablename__ = "redemptions"
    __table_args__ = (UniqueConstraint("group_pk", "request_key", name="uq_redemptions_group_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id", ondelete="CASCADE"))
    member_id: Mapped[str] = mapped_column(String(64))
    cost: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    request_key: Mapped[str] = mapped_column(String(200))
    ts: Mapped[float] = mapped_column(Float)
    decided_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


@dataclass(frozen=True, slots=True)
class RewardInfo:
    """A catalog item as commands show it."""

    id: int
    name: str
    cost: int
    stock: int | None


@dataclass(frozen=True, slots=True)
class RedeemResult:
    """Outcome of a redemption request or decision.

    `status` is one of: pending, approved, denied, duplicate, no_reward, out_of_stock,
    insufficient, already_decided, not_found.
    """

    status: str
    redemption_id: int | None = None
    reward: str = ""
    cost: int = 0
    member_id: str = ""


class RewardsMixin:
    """Catalog and redemption methods; the host class provides `engine`, `_insert`,
    `_sum` (a member's balance inside a transaction) and `add` (a ledger row)."""

    async def reserved(self, group_pk: int, member_id: str, conn=None, accounts: list[tuple[int, str]] | None = None) -> int:
        """Points held by the member's pending redemptions (of every account in
        `accounts`, when given)."""
        from storage.ledger import owned_by

        t = Redemption.__table__
        q = select(func.coalesce(func.sum(t.c.cost), 0)).where(
            owned_by(t, accounts or [(group_pk, member_id)]), t.c.status == "pending"
        )
        if conn is not None:
            return int((await conn.execute(q)).scalar() or 0)
        async with self.engine.connect() as c:
            return int((await c.execute(q)).scalar() or 0)

    # -- rewards catalog -----------------------------------------------------------
    async def set_reward(self, group_pk: int, name: str, cost: int, stock: int | None, ts: float) -> None:
        """Add a catalog item or change its cost and stock."""
        stmt = self._insert(Reward.__table__).values(
            group_pk=group_pk, name=name, cost=cost, stock=stock, active=True, created_ts=ts
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["group_pk", "name"], set_={"cost": cost, "stock": stock, "active": True}
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def ensure_reward(self, group_pk: int, name: str, cost: int, ts: float) -> None:
        """Add a config-defined item (unlimited stock) unless the group already has it."""
        stmt = self._insert(Reward.__table__).values(
            group_pk=group_pk, name=name, cost=cost, stock=None, active=True, created_ts=ts
        ).on_conflict_do_nothing(index_elements=["group_pk", "name"])
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def remove_reward(self, group_pk: int, name: str) -> bool:
        """Take an item off the catalog (past redemptions keep it)."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(Reward).where(Reward.group_pk == group_pk, func.lower(Reward.name) == name.lower(), Reward.active.is_(True)).values(active=False)
            )
        return res.rowcount > 0

    async def rewards(self, group_pk: int) -> list[RewardInfo]:
        """The group's active catalog, cheapest first."""
        q = select(Reward).where(Reward.group_pk == group_pk, Reward.active.is_(True)).order_by(Reward.cost, Reward.name)
        async with self.engine.connect() as conn:
            return [RewardInfo(r.id, r.name, r.cost, r.stock) for r in (await conn.execute(q)).all()]

    # -- redemptions -------------------------------------------------------------
    async def request(
        self, group_pk: int, member_id: str, name: str, request_key: str, ts: float,
        accounts: list[tuple[int, str]] | None = None,
    ) -> RedeemResult:
        """Reserve a reward's cost for the member, if the stock and balance allow (the
        balance of every account in `accounts`, when given: one person in a community)."""
        async with self.engine.begin() as conn:
            old = (await conn.execute(
                select(Redemption).where(Redemption.group_pk == group_pk, Redemption.request_key == request_key)
            )).first()
            if old is not None:
                return RedeemResult("duplicate", old.id, name, old.cost, member_id)
            r = (await conn.execute(
                select(Reward).where(Reward.group_pk == group_pk, func.lower(Reward.name) == name.lower(), Reward.active.is_(True))
            )).first()
            if r is None:
                return RedeemResult("no_reward", reward=name)
            if r.stock is not None:
                pending = (await conn.execute(
                    select(func.count()).select_from(Redemption).where(Redemption.reward_id == r.id, Redemption.status == "pending")
                )).scalar() or 0
                if r.stock - pending <= 0:
                    return RedeemResult("out_of_stock", reward=r.name, cost=r.cost)
            available = (await self._sum(conn, group_pk, member_id, False, accounts)
                         - await self.reserved(group_pk, member_id, conn, accounts))
            if available < r.cost:
                return RedeemResult("insufficient", reward=r.name, cost=r.cost, member_id=member_id)
            rid = (await conn.execute(
                Redemption.__table__.insert().values(
                    group_pk=group_pk, reward_id=r.id, member_id=member_id, cost=r.cost,
                    status="pending", request_key=request_key, ts=ts,
                ).returning(Redemption.__table__.c.id)
            )).scalar()
        return RedeemResult("pending", rid, r.name, r.cost, member_id)

    async def decide(
        self, group_pk: int, redemption_id: int, approve: bool, actor: str, ts: float,
        accounts: list[tuple[int, str]] | None = None,
    ) -> RedeemResult:
        """Approve (debit the points, take one from stock) or deny (release them).
        `accounts` are the member's accounts whose balance covers the cost (one person
        in a community); the debit is written to the account that asked.

        Deciding twice is harmless: the second call reports `already_decided`. An
        approval that the balance no longer covers (points reversed meanwhile) is
        turned into a denial, so balances never go below zero.
        """
        async with self.engine.begin() as conn:
            red = (await conn.execute(
                select(Redemption).where(Redemption.id == redemption_id, Redemption.group_pk == group_pk)
            )).first()
            if red is None:
                return RedeemResult("not_found", redemption_id)
            reward = (await conn.execute(select(Reward).where(Reward.id == red.reward_id))).one()
            res = RedeemResult("", red.id, reward.name, red.cost, red.member_id)
            if red.status != "pending":
                return RedeemResult("already_decided", red.id, reward.name, red.cost, red.member_id)
            if approve:
                bal = await self._sum(conn, group_pk, red.member_id, False, accounts)
                stock_ok = reward.stock is None or reward.stock > 0
                approve = bal >= red.cost and stock_ok
            status = "approved" if approve else "denied"
            done = await conn.execute(
                update(Redemption)
                .where(Redemption.id == red.id, Redemption.status == "pending")
                .values(status=status, decided_ts=ts, decided_by=actor)
            )
            if done.rowcount != 1:
                return RedeemResult("already_decided", red.id, reward.name, red.cost, red.member_id)
            if approve:
                await self.add(group_pk, red.member_id, -red.cost, REDEEM, f"redeem:{red.id}", ts,
                               actor=actor, note=reward.name, conn=conn)
                if reward.stock is not None:
                    await conn.execute(update(Reward).where(Reward.id == reward.id).values(stock=Reward.stock - 1))
        return RedeemResult(status, res.redemption_id, res.reward, res.cost, res.member_id)

    async def redemption_status(self, redemption_id: int) -> str | None:
        """The status of one redemption."""
        async with self.engine.connect() as conn:
            return (await conn.execute(select(Redemption.status).where(Redemption.id == redemption_id))).scalar()

    async def redemption_member(self, group_pk: int, redemption_id: int) -> str | None:
        """Who asked for a redemption of the group (None if there is no such one)."""
        async with self.engine.connect() as conn:
            return (await conn.execute(
                select(Redemption.member_id).where(Redemption.id == redemption_id, Redemption.group_pk == group_pk)
            )).scalar()
