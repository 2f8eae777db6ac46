"""What the bot knows about a group, as plain numbers: members, messages per week, the
busiest members, joins and leaves. Used by the demo and `communitybot stats`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select

from storage.events import EventKind
from storage.models import EventRow, GroupMember, Member
from storage.store import EventStore, GroupInfo

WEEK = 7 * 86400


@dataclass
class GroupOverview:
    """Counts describing one group."""

    group: GroupInfo
    members: int = 0
    events: int = 0
    messages: int = 0
    joins: int = 0
    leaves: int = 0
    first: datetime | None = None
    last: datetime | None = None
    weekly: list[tuple[datetime, int]] = field(default_factory=list)
    busiest: list[tuple[str, str, int]] = field(default_factory=list)


async def overview(store: EventStore, group: GroupInfo, top: int = 8) -> GroupOverview:
    """Aggregate the group's events with SQL (fast on a million rows)."""
    t = EventRow.__table__
    msg_kinds = [EventKind.MESSAGE.value, EventKind.COMMAND.value]
    ov = GroupOverview(group)
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            select(t.c.kind, func.count(), func.min(t.c.ts), func.max(t.c.ts))
            .where(t.c.group_pk == group.pk)
            .group_by(t.c.kind)
        )
        lo = hi = None
        for kind, n, mn, mx in rows:
            ov.events += n
            if kind in msg_kinds:
                ov.messages += n
            elif kind == EventKind.JOIN.value:
                ov.joins += n
            elif kind == EventKind.LEAVE.value:
                ov.leaves += n
            lo = mn if lo is None else min(lo, mn)
            hi = mx if hi is None else max(hi, mx)
        if lo is not None:
            ov.first = datetime.fromtimestamp(lo, UTC)
            ov.last = datetime.fromtimestamp(hi, UTC)
        ov.members = (
            await conn.execute(select(func.count()).select_from(GroupMember).where(GroupMember.group_pk == group.pk))
        ).scalar() or 0
        if lo is not None:
            week = func.floor((t.c.ts - lo) / WEEK)
            weekly = await conn.execute(
                select(week, func.count())
                .where(t.c.group_pk == group.pk, t.c.kind.in_(msg_kinds))
                .group_by(week)
                .order_by(week)
            )
            counts = {int(w): n for w, n in weekly}
            nweeks = int((hi - lo) // WEEK) + 1
            ov.weekly = [(datetime.fromtimestamp(lo + i * WEEK, UTC), counts.get(i, 0)) for i in range(nweeks)]
        busiest = await conn.execute(
            select(t.c.member_id, func.count().label("n"))
            .where(t.c.group_pk == group.pk, t.c.kind.in_(msg_kinds), t.c.is_bot.is_(False), t.c.member_id.is_not(None))
            .group_by(t.c.member_id)
            .order_by(func.count().desc(), t.c.member_id)
            .limit(top)
        )
        busiest = list(busiest)
        names = dict(
            (
                await conn.execute(
                    select(Member.member_id, Member.name).where(
                        Member.platform == group.platform, Member.member_id.in_([b[0] for b in busiest])
                    )
                )
            ).all()
        )
    ov.busiest = [(mid, names.get(mid) or mid, n) for mid, n in busiest]
    return ov


def render(ov: GroupOverview, out) -> None:
    """Print an overview with rich (a table of weeks with bars, the busiest members)."""
    from rich.table import Table

    g = ov.group
    span = f"{ov.first:%Y-%m-%d} → {ov.last:%Y-%m-%d}" if ov.first else "no events yet"
    out.print(f"[bold]{g.title or g.group_id}[/bold]  ({g.platform} {g.group_id})  {span}")
    out.print(
        f"  members {ov.members} · messages {ov.messages} · events {ov.events} · "
        f"joins {ov.joins} · leaves {ov.leaves}"
    )
    if ov.weekly:
        peak = max(n for _, n in ov.weekly) or 1
        table = Table(title="Messages per week", show_edge=False)
        table.add_column("week of")
        table.add_column("messages", justify="right")
        table.add_column("")
        for start, n in ov.weekly:
            table.add_row(f"{start:%Y-%m-%d}", str(n), "█" * max(1 if n else 0, round(30 * n / peak)))
        out.print(table)
    if ov.busiest:
        table = Table(title="Busiest members", show_edge=False)
        table.add_column("#", justify="right")
        table.add_column("member")
        table.add_column("messages", justify="right")
        for i, (_mid, name, n) in enumerate(ov.busiest, 1):
            table.add_row(str(i), name, str(n))
        out.print(table)
