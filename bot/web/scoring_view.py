"""The scoring feature seen from the dashboard: health figures, the lifecycle stage with
its reason, the report's own charts, and each member's scores and interests.

Everything comes from `bot.report.build_report` on the scoring service's cached
snapshot, so the dashboard shows the same numbers and the same PNGs as
`communitybot report`. Importing this module fails (ImportError) when the scoring
feature is not in the build; the pages then say so.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.report import build_report, report_charts

log = logging.getLogger(__name__)

CHARTS = [("daily", "Messages and active members per day"), ("cohorts", "Cohort retention"), ("top_activity", "Most active members"), ("top_influence", "Most influential members"), ("interests", "Interests")]


async def _report(app, group) -> tuple[dict, Any] | None:
    """(report, snapshot) for the group, cached until the snapshot changes."""
    svc = app.services.get("scoring")
    if svc is None:
        return None
    snap = await svc.snapshot(group)
    cache = app.services.setdefault("web_reports", {})
    hit = cache.get(group.pk)
    if hit and hit[0] is snap:
        return hit[1], snap
    settings = await app.settings("scoring", group)
    try:
        rep = await asyncio.to_thread(build_report, group, snap, settings)
    except Exception:
        # A failing report must not take the dashboard down; the pages show the rest.
        log.exception("scoring report failed for group %s", group.pk)
        return None
    cache[group.pk] = (snap, rep, None)
    return rep, snap


async def summary(app, group) -> dict | None:
    """Health figures, lifecycle stage and reasons, and which charts exist."""
    got = await _report(app, group)
    if got is None:
        return None
    rep, _snap = got
    h, lc = rep["health"], rep["lifecycle"]
    n = lc.get("numbers", {})
    reasons = [lc["rule"]]
    if "retention" in n:
        reasons.append(f"week-to-week retention {n['retention']:.0%}, new members {n.get('new_member_share', 0):.0%} of active ones")
    med = h["median_first_answer_minutes"]
    wr = h["week1_retention"]
    figures = [
        ("active today", h["dau"]), ("active this week", h["wau"]), ("active this month", h["mau"]),
        ("stickiness (day/month)", f"{h['stickiness']:.0%}"),
        ("questions, 30 days", h["questions_30d"]), ("answered", f"{h['answered_share_30d']:.0%}"),
        ("median first answer", "—" if med is None else f"{med:.0f} min"),
        ("week-1 retention", "—" if wr is None else f"{wr:.0%}"),
        ("going quiet", len(h["going_quiet"])),
    ]
    # Which charts the report will draw, decided from the report itself: the PNGs are
    # only rendered (matplotlib, the slow part) when the browser asks for them.
    have = {"daily", "cohorts"}
    have |= {f"top_{b}" for b in ("activity", "influence") if rep["leaderboards"][b]}
    if any(v > 0 for v in rep["interests"].values()):
        have.add("interests")
    return {
        "stage": lc["stage"], "reasons": reasons, "figures": figures, "as_of": rep["as_of"],
        "charts": [(name, alt) for name, alt in CHARTS if name in have],
    }


async def _charts(app, group) -> dict[str, bytes]:
    got = await _report(app, group)
    if got is None:
        return {}
    rep, snap = got
    cache = app.services["web_reports"]
    entry = cache[group.pk]
    if entry[2] is None:
        lang = await app.language(group)
        try:
            pngs = await asyncio.to_thread(report_charts, rep, snap, lang)
        except Exception:
            log.exception("report charts failed for group %s", group.pk)
            pngs = {}
        cache[group.pk] = (entry[0], entry[1], pngs)
        return pngs
    return entry[2]


async def chart_png(app, group, name: str) -> bytes | None:
    """One of the report's charts as PNG bytes, or None."""
    return (await _charts(app, group)).get(f"{name}.png")


async def member_scores(app, group) -> dict[str, dict[str, float]]:
    """member id → activity and influence over all time."""
    got = await _report(app, group)
    if got is None:
        return {}
    return {m["member_id"]: {"activity": m["activity"], "influence": m["influence"]} for m in got[0]["members"]}


async def member_extra(app, group, member_id: str) -> dict[str, Any]:
    """A member's ranks and interests for the member page."""
    got = await _report(app, group)
    if got is None:
        return {}
    rep = got[0]
    m = next((x for x in rep["members"] if x["member_id"] == member_id), None)
    if m is None:
        return {"interests_note": "Not scored yet (no activity in the scored history)."}
    ranked = len(rep["members"])
    scores = {
        "activity": f"{m['activity']:.1f} (#{m['activity_rank']} of {ranked})",
        "influence": f"{m['influence']:.1f}" + (f" (#{m['influence_rank']})" if m.get("influence_rank") else ""),
    }
    return {"scores": scores, "interests": [(t["tag"], t["share"]) for t in m["interests"]]}
