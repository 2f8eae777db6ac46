"""Data behind the members pages, from the event store by SQL (fast on large groups),
plus scores, interests and connections from the scoring feature and points from the
ledger when those features are installed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from storage.events import EventKind
from storage.models import EventRow, GroupMember, Member

MSG_KINDS = [EventKind.MESSAGE.value, EventKind.COMMAND.value]
WEEK = 7 * 86400
SORTS = ("name", "messages", "replies", "last", "joined", "activity", "influence", "points")


async def member_rows(app, group) -> list[dict[str, Any]]:
    """One row per member of the group: name, role, joined, messages, replies received,
    last seen; plus activity/influence/points when available."""
    t = EventRow.__table__
    async with app.store.engine.connect() as conn:
        counts = (
            await conn.execute(
                select(t.c.member_id, func.count(), func.max(t.c.ts))
                .where(t.c.group_pk == group.pk, t.c.kind.in_(MSG_KINDS))
                .group_by(t.c.member_id)
            )
        ).all()
        replies = (
            await conn.execute(
                select(t.c.target_member_id, func.count())
                .where(t.c.group_pk == group.pk, t.c.kind.in_(MSG_KINDS), t.c.target_member_id.is_not(None))
                .group_by(t.c.target_member_id)
            )
        ).all()
    msgs = {m: (n, last) for m, n, last in counts}
    got = dict(replies)
    rows = []
    for m in await group_members(app, group):
        if m["is_bot"]:
            continue
        n, last = msgs.get(m["member_id"], (0, None))
        rows.append({**m, "messages": n, "last": last, "joined": m["first_ts"], "replies": got.get(m["member_id"], 0)})
    await _add_scores(app, group, rows)
    await _add_points(app, group, rows)
    return rows


async def _add_scores(app, group, rows: list[dict]) -> None:
    try:
        from bot.web.scoring_view import member_scores
    except ImportError:
        return
    scores = await member_scores(app, group)
    for r in rows:
        s = scores.get(r["member_id"])
        if s:
            r.update(s)


async def _add_points(app, group, rows: list[dict]) -> None:
    try:
        from bot.web.feature_views import balances
    except ImportError:
        return
    bal = await balances(app, group, [r["member_id"] for r in rows])
    for r in rows:
        r["points"] = bal.get(r["member_id"], 0)


async def group_members(app, group) -> list[dict[str, Any]]:
    """Members of the group with role, first time seen, name and bot flag.

    (`EventStore.group_members` selects an ORM entity through a Core connection, which
    SQLAlchemy 2.1 flattens into columns; this query names its columns.)
    """
    gm = GroupMember.__table__
    mt = Member.__table__
    async with app.store.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(gm.c.member_id, gm.c.role, gm.c.first_ts, mt.c.name, mt.c.is_bot)
                .join(mt, (mt.c.member_id == gm.c.member_id) & (mt.c.platform == group.platform), isouter=True)
                .where(gm.c.group_pk == group.pk)
                .order_by(gm.c.first_ts)
            )
        ).all()
    return [
        {"member_id": m, "role": role, "first_ts": first, "name": name or m, "is_bot": bool(is_bot)}
        for m, role, first, name, is_bot in rows
    ]


def sort_rows(rows: list[dict], key: str, desc: bool) -> list[dict]:
    """Sort by a column; missing values sort last either way."""
    if key not in SORTS:
        key = "messages"

    def k(r):
        v = r.get(key)
        if key == "name":
            return (0, str(r.get("name") or "").casefold())
        return (0 if v is not None else 1, v if v is not None else 0)

    present = [r for r in rows if key == "name" or r.get(key) is not None]
    missing = [r for r in rows if not (key == "name" or r.get(key) is not None)]
    return sorted(present, key=k, reverse=desc) + missing


def search(rows: list[dict], q: str) -> list[dict]:
    """Rows whose name or id contains `q` (case-insensitive)."""
    q = q.strip().casefold()
    if not q:
        return rows
    return [r for r in rows if q in str(r.get("name") or "").casefold() or q in r["member_id"].casefold()]


async def member_detail(app, group, member_id: str) -> dict[str, Any] | None:
    """A member's page data; None if the member never was in the group."""
    base = next((m for m in await group_members(app, group) if m["member_id"] == member_id), None)
    if base is None:
        return None
    t = EventRow.__table__
    names = await app.store.member_names(group.platform)
    async with app.store.engine.connect() as conn:
        ts = [r[0] for r in (await conn.execute(
            select(t.c.ts).where(t.c.group_pk == group.pk, t.c.member_id == member_id, t.c.kind.in_(MSG_KINDS))
        )).all()]
        out_edges = (await conn.execute(
            select(t.c.target_member_id, func.count())
            .where(t.c.group_pk == group.pk, t.c.member_id == member_id, t.c.target_member_id.is_not(None), t.c.target_member_id != member_id)
            .group_by(t.c.target_member_id)
        )).all()
        in_edges = (await conn.execute(
            select(t.c.member_id, func.count())
            .where(t.c.group_pk == group.pk, t.c.target_member_id == member_id, t.c.member_id.is_not(None), t.c.member_id != member_id)
            .group_by(t.c.member_id)
        )).all()
        recent = await app.store.events(group.pk, member_id=member_id, kinds=[EventKind.MESSAGE], limit=10, newest_first=True)
    weekly: list[tuple[datetime, int]] = []
    if ts:
        lo = min(ts)
        n = int((max(ts) - lo) // WEEK) + 1
        counts = [0] * n
        for x in ts:
            counts[int((x - lo) // WEEK)] += 1
        weekly = [(datetime.fromtimestamp(lo + i * WEEK, UTC), c) for i, c in enumerate(counts)][-26:]
    links: dict[str, int] = {}
    for other, c in [*out_edges, *in_edges]:
        links[other] = links.get(other, 0) + c
    connections = sorted(((names.get(o) or o, o, c) for o, c in links.items()), key=lambda x: -x[2])[:8]
    d = {
        **base, "messages": len(ts), "last": max(ts) if ts else None, "weekly": weekly,
        "peak": max((c for _, c in weekly), default=0) or 1, "connections": connections, "recent": recent,
        "interests": [], "points_history": [], "flags": [], "scores": {},
    }
    try:
        from bot.web.scoring_view import member_extra
    except ImportError:
        pass
    else:
        d.update(await member_extra(app, group, member_id))
    try:
        from bot.web.feature_views import member_features
    except ImportError:
        pass
    else:
        d.update(await member_features(app, group, member_id))
    from bot.feedback import service

    d["feedback"] = [i for i in await service(app).store.feedback_items(group.pk, limit=1000) if i["member_id"] == member_id][:20]
    return d
