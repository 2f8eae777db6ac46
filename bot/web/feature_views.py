"""Read-only views of the moderation and points features for the dashboard: open flags,
community events with RSVPs and attendance, the rewards catalog and redemptions,
balances and points history.

Each function works out whether its feature is in the build (the module imports and the
feature registered its commands or service) and returns empty results otherwise, so the
pages can say what is missing instead of failing. Changes never happen here: they go
through `bot.web.dispatch.act_as_admin`, i.e. the features' own chat handlers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select


def has_moderation(app) -> bool:
    """Moderation installed: its service and its `mod:` buttons."""
    return "moderation" in app.services and "mod" in app.router.buttons


def has_events(app) -> bool:
    """Community events installed (/event and the rsvp buttons)."""
    return "event" in app.router.commands


def has_rewards(app) -> bool:
    """Rewards installed (/reward and the redeem buttons)."""
    return "reward" in app.router.commands and "redeem" in app.router.buttons


def has_points(app) -> bool:
    """The points ledger installed."""
    try:
        import bot.points  # noqa: F401
    except ImportError:
        return False
    return "points" in app.router.commands or has_rewards(app)


# -- moderation ---------------------------------------------------------------------
async def flags(app, group, limit: int = 300) -> tuple[list[dict], list[dict]]:
    """(open flags awaiting a decision, recently decided flags) of the group."""
    if not has_moderation(app):
        return [], []
    every = await app.services["moderation"].store.flags(group.pk, status=None, limit=limit)
    open_ = [f for f in every if not f.get("decided_by") and f["status"] in ("open", "acted")]
    decided = [f for f in every if f.get("decided_by")][:30]
    return open_, decided


async def flag_of(app, group, flag_id: int) -> dict | None:
    """A flag of this group (None for another group's flag)."""
    if not has_moderation(app):
        return None
    f = await app.services["moderation"].store.flag(flag_id)
    return f if f and f["group_pk"] == group.pk else None


async def mute_minutes(app, group) -> int:
    """The group's mute length (the label of the mute button)."""
    return (await app.services["moderation"].settings(group)).mod.mute_minutes


# -- points --------------------------------------------------------------------------
def _ledger(app):
    from bot.points import ledger_of

    return ledger_of(app)


async def balances(app, group, member_ids: list[str]) -> dict[str, int]:
    """Points balance of each member (empty without the points feature)."""
    if not has_points(app):
        return {}
    from storage.ledger import LedgerEntry

    t = LedgerEntry.__table__
    async with app.store.engine.connect() as conn:
        rows = (await conn.execute(select(t.c.member_id, func.sum(t.c.amount)).where(t.c.group_pk == group.pk).group_by(t.c.member_id))).all()
    return {m: int(s or 0) for m, s in rows}


async def member_features(app, group, member_id: str) -> dict[str, Any]:
    """Points history, balance and flags of a member."""
    out: dict[str, Any] = {}
    if has_points(app):
        led = _ledger(app)
        hist = await led.history(group.pk, member_id, limit=30)
        out["points_history"] = [{"ts": e.ts, "points": e.amount, "reason": e.reason + (f" — {e.note}" if e.note else "")} for e in hist]
        out.setdefault("scores", {})
        out["points_balance"] = await led.balance(group.pk, member_id)
    else:
        out["points_note"] = "Points are not installed in this build."
    if has_moderation(app):
        every = await app.services["moderation"].store.flags(group.pk, status=None, limit=1000)
        mine = [f for f in every if f.get("member_id") == member_id or any(m == member_id for m, _ in f.get("members") or [])]
        out["flags"] = [
            {"id": f["id"], "status": f["status"], "created_ts": f["ts"], "reasons": "; ".join(v["reason"] for v in f["verdicts"] if v.get("flagged")) or f["kind"]}
            for f in mine[:20]
        ]
    else:
        out["flags_note"] = "Moderation is not installed in this build."
    return out


async def overview_extras(app, group) -> dict[str, Any]:
    """Extra overview figures: open flags, upcoming events, pending redemptions."""
    stats = []
    if has_moderation(app):
        open_, _ = await flags(app, group)
        stats.append(("flags to decide", len(open_), "/moderation"))
    if has_events(app):
        stats.append(("upcoming events", len(await events(app, group, upcoming_only=True)), "/events"))
    if has_rewards(app):
        stats.append(("redemptions to approve", len([r for r in await redemptions(app, group) if r["status"] == "pending"]), "/rewards"))
    return {"stats": stats}


# -- events ---------------------------------------------------------------------------
async def events(app, group, upcoming_only: bool = False) -> list[dict[str, Any]]:
    """Events of the group (upcoming, then the last 60 days), with RSVPs and attendance."""
    if not has_events(app):
        return []
    from bot.scheduler import scheduler_of

    agenda = scheduler_of(app).agenda
    now = app.clock.now().timestamp()
    evs = await agenda.events(group.pk, now if upcoming_only else now - 60 * 86400, include_cancelled=not upcoming_only)
    names = await app.store.member_names(group.platform)
    attended = await _attendance(app, group) if has_points(app) else {}
    out = []
    for ev in evs:
        rs = await agenda.rsvps(ev.id)
        out.append({
            "id": ev.id, "title": ev.title, "description": ev.description, "start_ts": ev.start_ts, "end_ts": ev.end_ts,
            "status": ev.status, "past": ev.end_ts <= now,
            "rsvps": [(names.get(r.member_id) or r.member_id, r.status, bool(r.remind)) for r in rs],
            "counts": {s: sum(1 for r in rs if r.status == s) for s in ("going", "maybe", "no")},
            "attended": [names.get(m) or m for m in attended.get(ev.id, [])],
        })
    return sorted(out, key=lambda e: (e["past"], e["start_ts"] if not e["past"] else -e["start_ts"]))


async def _attendance(app, group) -> dict[int, list[str]]:
    from storage.ledger import LedgerEntry

    t = LedgerEntry.__table__
    async with app.store.engine.connect() as conn:
        rows = (await conn.execute(select(t.c.key, t.c.member_id).where(t.c.group_pk == group.pk, t.c.reason == "attend"))).all()
    out: dict[int, list[str]] = {}
    for key, member in rows:
        parts = key.split(":")
        if len(parts) >= 3 and parts[1].isdigit():
            out.setdefault(int(parts[1]), []).append(member)
    return out


async def event_of(app, group, event_id: int):
    """A community event of this group, or None."""
    if not has_events(app):
        return None
    from bot.scheduler import scheduler_of

    return await scheduler_of(app).agenda.event(group.pk, event_id)


# -- rewards --------------------------------------------------------------------------
async def catalog(app, group) -> list[Any]:
    """The rewards catalog (config items added first, as /rewards does)."""
    if not has_rewards(app):
        return []
    led = _ledger(app)
    cfg = await app.settings("points", group)
    for name, cost in cfg.rewards.items():
        await led.ensure_reward(group.pk, name, cost, app.clock.now().timestamp())
    return await led.rewards(group.pk)


async def redemptions(app, group, limit: int = 100) -> list[dict[str, Any]]:
    """Redemptions of the group, pending first, then the newest decided."""
    if not has_rewards(app):
        return []
    from storage.rewards import Redemption, Reward

    r, w = Redemption.__table__, Reward.__table__
    async with app.store.engine.connect() as conn:
        rows = (await conn.execute(
            select(r.c.id, r.c.member_id, r.c.cost, r.c.status, r.c.ts, r.c.decided_ts, r.c.decided_by, w.c.name)
            .join(w, w.c.id == r.c.reward_id).where(r.c.group_pk == group.pk).order_by(r.c.ts.desc()).limit(limit)
        )).mappings().all()
    names = await app.store.member_names(group.platform)
    out = [{**dict(x), "member": names.get(x["member_id"]) or x["member_id"], "decider": names.get(x["decided_by"] or "") or x["decided_by"]} for x in rows]
    return sorted(out, key=lambda x: (x["status"] != "pending", -x["ts"]))


async def redemption_group(app, redemption_id: int) -> int | None:
    """The group pk a redemption belongs to (to refuse another group's ids)."""
    if not has_rewards(app):
        return None
    from storage.rewards import Redemption

    async with app.store.engine.connect() as conn:
        return (await conn.execute(select(Redemption.group_pk).where(Redemption.id == redemption_id))).scalar()


