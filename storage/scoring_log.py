"""What `/recommend` showed each member and what they engaged with.

Recommendations adjust to behaviour: an item engaged with counts up, an item shown and
ignored counts down. This table is the memory of both, per group and member.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import Float, ForeignKey, Index, Integer, String, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class RecommendationRow(Base):
    """One item shown to one member; `engaged_ts` is set when they took it up."""

    __tablename__ = "recommendations"
    __table_args__ = (Index("ix_recs_group_member", "group_pk", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    shown_ts: Mapped[float] = mapped_column(Float)
    engaged_ts: Mapped[float | None] = mapped_column(Float, nullable=True)


class RecommendationLog:
    """Read and write the recommendations table through the store's engine."""

    def __init__(self, engine: AsyncEngine | Callable[[], AsyncEngine]) -> None:
        # A callable lets the app register the log before its store is open.
        self._engine = engine

    @property
    def engine(self) -> AsyncEngine:
        """The engine to use (resolved at each use)."""
        return self._engine() if callable(self._engine) else self._engine

    async def shown(self, group_pk: int, member_id: str, items: list[tuple[str, str]], ts: float) -> None:
        """Record that (item_id, kind) pairs were shown to the member at `ts`."""
        if not items:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                RecommendationRow.__table__.insert(),
                [
                    {"group_pk": group_pk, "member_id": member_id, "item_id": i, "kind": k, "shown_ts": ts, "engaged_ts": None}
                    for i, k in items
                ],
            )

    async def engaged(self, group_pk: int, member_id: str, item_id: str, ts: float) -> bool:
        """Mark the member's pending showings of `item_id` as engaged; False if none."""
        t = RecommendationRow.__table__
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(t)
                .where(t.c.group_pk == group_pk, t.c.member_id == member_id, t.c.item_id == item_id, t.c.engaged_ts.is_(None), t.c.shown_ts <= ts)
                .values(engaged_ts=ts)
            )
        return (res.rowcount or 0) > 0

    async def counts(self, group_pk: int, member_id: str) -> tuple[Counter, Counter]:
        """(engaged, ignored) counts per item for one member."""
        t = RecommendationRow.__table__
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(t.c.item_id, t.c.engaged_ts).where(t.c.group_pk == group_pk, t.c.member_id == member_id)
                )
            ).all()
        engaged: Counter = Counter()
        ignored: Counter = Counter()
        for item, eng in rows:
            (engaged if eng is not None else ignored)[item] += 1
        return engaged, ignored

    async def pending_channels(self, group_pk: int) -> set[tuple[str, str]]:
        """(member_id, channel id) pairs shown and not yet engaged with."""
        t = RecommendationRow.__table__
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(t.c.member_id, t.c.item_id).where(
                        t.c.group_pk == group_pk, t.c.kind == "channel", t.c.engaged_ts.is_(None)
                    )
                )
            ).all()
        return {(m, i) for m, i in rows}
