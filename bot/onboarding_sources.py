"""What introductions learn from other features, when they are installed.

- scoring (`app.services["scoring"]`): each member's learned interest shares over the
  taxonomy tags, and the channels whose messages carry those tags;
- the community events calendar (`storage.agenda`, from the points feature): upcoming
  events whose title or description mentions a tag.

Without them introductions still work from what members picked themselves (/intro).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from bot.app import App
    from bot.onboarding_intro import Suggestion
    from storage.store import GroupInfo

log = logging.getLogger(__name__)

#: A learned tag counts for a member from this share of their tagged messages.
MIN_SHARE = 0.15


async def _snapshot(app: App, group: GroupInfo) -> Any | None:
    svc = app.services.get("scoring")
    if svc is None:
        return None
    try:
        return await svc.snapshot(group)
    except Exception:
        log.exception("onboarding: scoring snapshot failed; using members' own picks only")
        return None


async def scoring_member_tags(app: App, group: GroupInfo) -> dict[str, dict[str, float]]:
    """member id → {tag: share of their tagged messages} from scoring (empty without it)."""
    snap = await _snapshot(app, group)
    it = getattr(snap, "interests", None)
    if it is None:
        return {}
    M = np.asarray(it.members, dtype=float)
    totals = M.sum(axis=1)
    out: dict[str, dict[str, float]] = {}
    for code in np.flatnonzero(totals > 0):
        shares = M[code] / totals[code]
        tags = {it.tags[j]: float(shares[j]) for j in np.flatnonzero(shares >= MIN_SHARE)}
        if tags:
            out[str(snap.frame.members[code])] = tags
    return out


async def member_vector(app: App, group: GroupInfo, member_id: str) -> tuple[list[str], np.ndarray] | None:
    """(tags, the member's tag hits) learned by scoring, or None when unknown."""
    snap = await _snapshot(app, group)
    it = getattr(snap, "interests", None)
    if it is None:
        return None
    code = snap.frame.code(member_id)
    if code < 0:
        return list(it.tags), np.zeros(len(it.tags))
    return list(it.tags), np.asarray(it.members[code], dtype=float)


async def extra_suggestions(app: App, group: GroupInfo, tags: list[str]) -> list[Suggestion]:
    """Channels (scoring) and upcoming events (points' calendar) matching `tags`."""
    out: list[Suggestion] = []
    out += await _channels(app, group, tags)
    out += await _events(app, group, tags)
    return out


async def _channels(app: App, group: GroupInfo, tags: list[str]) -> list[Suggestion]:
    from bot.onboarding_intro import Suggestion

    snap = await _snapshot(app, group)
    it = getattr(snap, "interests", None)
    if it is None or not len(snap.frame.channels):
        return []
    C = np.asarray(it.channels, dtype=float)
    if C.size == 0:
        return []
    totals = C.sum(axis=1)
    idx = [it.tags.index(t) for t in tags if t in it.tags]
    if not idx:
        return []
    titles = await _channel_titles(app, group)
    out = []
    for c in np.flatnonzero(totals > 0):
        shares = C[c] / totals[c]
        common = [it.tags[j] for j in idx if shares[j] >= MIN_SHARE]
        if common:
            cid = str(snap.frame.channels[c])
            if not cid:
                continue  # the main chat is not a suggestion
            out.append(Suggestion("channel", cid, titles.get(cid) or f"#{cid}", common, float(sum(shares[j] for j in idx)) * 2))
    return out


async def _channel_titles(app: App, group: GroupInfo) -> dict[str, str]:
    from sqlalchemy import select

    from storage.models import Channel

    async with app.store.engine.connect() as conn:
        rows = (await conn.execute(select(Channel.channel_id, Channel.title).where(Channel.group_pk == group.pk))).all()
    return {cid: title for cid, title in rows if title}


async def _events(app: App, group: GroupInfo, tags: list[str]) -> list[Suggestion]:
    """Upcoming community events whose title or description names a tag."""
    from bot.onboarding_intro import Suggestion

    upcoming = await _upcoming(app, group)
    out = []
    for ev in upcoming:
        hay = f"{ev.get('title', '')} {ev.get('description', '')}".lower()
        common = [t for t in tags if t.lower() in hay]
        if common:
            when = datetime.fromtimestamp(float(ev["start_ts"]), UTC).strftime("%Y-%m-%d %H:%M UTC")
            out.append(Suggestion("event", str(ev["id"]), str(ev["title"]), common, 3.0 + len(common), when=when))
    return out


async def _upcoming(app: App, group: GroupInfo) -> list[dict[str, Any]]:
    """Upcoming events from the community calendar (`storage.agenda`), when installed."""
    try:
        from storage.agenda import Agenda
    except ImportError:
        return []
    try:
        rows = await Agenda(app.store.engine).events(group.pk, app.clock.now().timestamp())
    except Exception:
        log.exception("onboarding: reading upcoming events failed")
        return []
    now = app.clock.now().timestamp()
    return [
        {"id": r.id, "title": r.title, "description": r.description or "", "start_ts": r.start_ts}
        for r in rows if r.start_ts >= now
    ]
