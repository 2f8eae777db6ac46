"""Replaying stored history through every check (`communitybot scan`, the demo).

The replay uses a fresh window and the group's current settings, in time order, with
trust computed from the history itself (tenure and clean messages so far, plus the
roles the store recorded), so it neither needs a platform nor disturbs the live state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.mod_engine import ModerationService, TrustRecord
from scoring.screen import SCREENED, Screener, Screening, default_checks
from scoring.window import GroupWindow
from storage.events import MESSAGE_KINDS
from storage.models import GroupMember
from storage.store import GroupInfo

if TYPE_CHECKING:
    from bot.app import App


@dataclass
class ScanGroup:
    """Flagged events that belong together (one near-duplicate cluster, or one event)."""

    key: str
    screenings: list[Screening] = field(default_factory=list)

    @property
    def members(self) -> list[str]:
        """Distinct members in the group of flags."""
        return list(dict.fromkeys(s.event.member_id or "" for s in self.screenings))

    @property
    def is_raid(self) -> bool:
        """Whether the raid check fired anywhere in it."""
        return any(s.raid is not None for s in self.screenings)


@dataclass
class ScanResult:
    """What a replay found."""

    group: GroupInfo
    screened: int
    flagged: list[Screening]
    groups: list[ScanGroup]


async def scan(app: App, group: GroupInfo, since: datetime | None = None, until: datetime | None = None) -> ScanResult:
    """Replay the group's stored events through all checks; return every flagged event."""
    svc: ModerationService = app.services["moderation"]
    await svc.ready()
    gs = await svc.settings(group)
    screener = Screener(default_checks(svc.model))
    window = GroupWindow()
    roles = await _roles(app, group.pk)
    trust: dict[str, TrustRecord] = {}
    flagged: list[Screening] = []
    by_key: dict[str, ScanGroup] = {}
    screened = 0
    s = gs.mod
    for e in await app.store.events(group.pk, since=since, until=until, kinds=SCREENED):
        if e.member_id is None or e.is_bot:
            continue
        ts = e.time.timestamp()
        rec = trust.setdefault(e.member_id, TrustRecord(ts))
        is_trusted = (s.trust_admins and roles.get(e.member_id) in ("owner", "admin", "moderator")) or (
            rec.spam == 0 and rec.messages >= s.trust_messages and ts - rec.first_ts >= s.trust_days * 86400
        )
        sc = screener.screen(e, window, gs.checks, is_trusted)
        screened += 1
        if not sc.flagged:
            if e.kind in MESSAGE_KINDS:
                rec.messages += 1
            continue
        flagged.append(sc)
        key = f"c:{sc.cluster.id}" if sc.cluster is not None else f"e:{e.key}"
        by_key.setdefault(key, ScanGroup(key)).screenings.append(sc)
    return ScanResult(group, screened, flagged, list(by_key.values()))


async def _roles(app: App, group_pk: int) -> dict[str, str]:
    # Read directly: only the role column is needed, not names.
    t = GroupMember.__table__
    async with app.store.engine.connect() as conn:
        rows = await conn.execute(select(t.c.member_id, t.c.role).where(t.c.group_pk == group_pk))
        return {mid: role for mid, role in rows}


def as_json(result: ScanResult) -> dict:
    """The scan as JSON-ready data: {"group", "screened", "flags": [...]}."""
    return {
        "group": {"platform": result.group.platform, "id": result.group.group_id, "title": result.group.title},
        "screened": result.screened,
        "flags": [
            {
                "message_id": sc.event.message_id,
                "member_id": sc.event.member_id,
                "member_name": sc.event.member_name,
                "kind": sc.event.kind.value,
                "time": sc.event.time.isoformat(),
                "text": sc.event.text,
                "severity": sc.severity,
                "trusted": sc.trusted,
                "checks": [{"name": v.check, "flagged": v.flagged, "reason": v.reason} for v in sc.verdicts],
            }
            for sc in result.flagged
        ],
    }


def as_text(result: ScanResult) -> str:
    """The scan as readable text: one block per flagged event with every verdict."""
    lines = [f"{result.group.title or result.group.group_id}: {result.screened} events screened, {len(result.flagged)} flagged"]
    for sc in result.flagged:
        e = sc.event
        lines.append("")
        lines.append(f"{e.time:%Y-%m-%d %H:%M:%S} {e.kind.value} {e.message_id or '-'} by {e.member_name or e.member_id} ({e.member_id}) [{sc.severity}]")
        if e.text:
            lines.append(f"  “{' '.join(e.text.split())[:160]}”")
        for v in sc.verdicts:
            lines.append(f"  {'✗' if v.flagged else '·'} {v.check}: {v.reason}")
    return "\n".join(lines)
