"""The community report: leaderboards, member profiles, lifecycle stage and health, as
text, JSON or a self-contained HTML page with the charts embedded.
"""

from __future__ import annotations

import base64
import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bot import charts
from bot.privacy import is_public
from bot.scoring_data import Snapshot, params_from
from scoring.health import health
from scoring.lifecycle import stage, weekly_series
from scoring.scores import window_scores
from storage.store import GroupInfo

DAY = 86400.0


def reference_time(frame_ts: np.ndarray, now: float) -> float:
    """The moment a report describes: now for a live group, just after the last event
    for a history whose last event is over a week old (an imported export)."""
    if frame_ts.size and now - float(frame_ts.max()) > 7 * DAY:
        return float(frame_ts.max()) + 1.0
    return now


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def build_report(
    group: GroupInfo, snap: Snapshot, settings: Any, since: float | None = None, top: int = 10, hidden: frozenset[str] | set[str] = frozenset(),
) -> dict:
    """The report as one JSON-friendly dict (see `render_text` / `render_html`).

    Members in `hidden` (opted out, see `bot.privacy`) and pseudonyms of forgotten
    members are left out of the member list and the leaderboards; totals keep them."""
    f = snap.frame
    now = reference_time(f.ts, snap.now)
    ws = window_scores(f, now, "all", params_from(settings), since=since) if since or now != snap.now else snap.windows["all"]
    it = snap.interests
    def public(ranking) -> list[int]:
        return [int(c) for c in ranking if is_public(str(f.members[c]), hidden)]

    order = public(ws.ranking("activity"))
    inf_order = public(ws.ranking("influence"))
    inf_rank = {c: i + 1 for i, c in enumerate(inf_order)}
    members = []
    for i, c in enumerate(order):
        members.append(
            {
                "member_id": str(f.members[c]),
                "name": f.name(c),
                "activity": round(float(ws.activity[c]), 3),
                "influence": round(float(ws.influence.score[c]), 3),
                "activity_rank": i + 1,
                "influence_rank": inf_rank.get(c),
                "interests": [{"tag": t, "share": round(s, 3)} for t, s in (it.top_tags(c) if it else [])],
                "features": {k: round(v, 3) for k, v in ws.features.as_dict(c).items()},
            }
        )
    st = stage(weekly_series(f, now))
    series = weekly_series(f, now, weeks=12)
    # A group whose members have no interest scores yet still has its tags: all zero.
    tags_total = it.members.sum(axis=0) if it is not None and it.members.size else np.zeros(len(it.tags) if it else 0)
    share = tags_total / tags_total.sum() if tags_total.size and tags_total.sum() > 0 else tags_total
    return {
        "group": {"platform": group.platform, "group_id": group.group_id, "title": group.title},
        "generated_at": _iso(snap.now),
        "as_of": _iso(now),
        "since": _iso(since) if since else None,
        "events": int(f.n),
        "members": members,
        "leaderboards": {
            "activity": [members[i]["member_id"] for i in range(min(top, len(members)))],
            "influence": [str(f.members[c]) for c in inf_order[:top]],
        },
        "interests": {t: round(float(s), 4) for t, s in zip(it.tags, share, strict=True)} if it is not None else {},
        "vocabulary": list(it.vocabulary) if it is not None else [],
        "lifecycle": {
            "stage": st.stage,
            "rule": st.rule,
            "numbers": st.numbers,
            "weekly": {
                "week_start": [_iso(s) for s in series.starts],
                "active": series.active.astype(int).tolist(),
                "new": series.new.astype(int).tolist(),
                "messages": series.messages.astype(int).tolist(),
            },
        },
        "health": health(f, now),
    }


def render_text(rep: dict, top: int = 10) -> str:
    """A plain-text report for the terminal."""
    g = rep["group"]
    lines = [f"Community report: {g['title'] or g['group_id']} ({g['platform']})", f"As of {rep['as_of']}; {rep['events']} events"]
    lines.append(f"\nLifecycle stage: {rep['lifecycle']['stage']} ({rep['lifecycle']['rule']})")
    h = rep["health"]
    lines.append(f"Active members: {h['dau']} day · {h['wau']} week · {h['mau']} month (stickiness {h['stickiness']:.0%})")
    med = h["median_first_answer_minutes"]
    lines.append(f"Questions (30 d): {h['questions_30d']}, answered {h['answered_share_30d']:.0%}, median first answer {'—' if med is None else f'{med:.0f} min'}")
    wr = h["week1_retention"]
    lines.append(f"Week-1 retention: {'—' if wr is None else f'{wr:.0%}'}; going quiet: {len(h['going_quiet'])}")
    by_id = {m["member_id"]: m for m in rep["members"]}
    for board in ("activity", "influence"):
        lines.append(f"\nTop by {board}:")
        for i, mid in enumerate(rep["leaderboards"][board][:top], 1):
            m = by_id[mid]
            tags = ", ".join(t["tag"] for t in m["interests"][:3])
            lines.append(f"{i:>3}. {m['name']:<24} {m[board]:>8.1f}   {tags}")
    if rep["interests"]:
        lines.append("\nInterest tags: " + ", ".join(f"{t} {s:.0%}" for t, s in sorted(rep["interests"].items(), key=lambda kv: -kv[1]) if s > 0))
    return "\n".join(lines)


def report_charts(rep: dict, snap: Snapshot, lang: str = "en") -> dict[str, bytes]:
    """The report's PNG charts by file name."""
    f = snap.frame
    now = reference_time(f.ts, snap.now)
    by_id = {m["member_id"]: m for m in rep["members"]}
    out = {
        "daily.png": charts.daily_chart(f, now, rep["group"]["title"], lang),
        "cohorts.png": charts.cohort_chart(f, now, lang),
    }
    for board in ("activity", "influence"):
        ids = rep["leaderboards"][board][:10]
        if ids:
            out[f"top_{board}.png"] = charts.top_members_chart([(by_id[i]["name"], i) for i in ids], [by_id[i][board] for i in ids], board, lang)
    tags = sorted(((t, s) for t, s in rep["interests"].items() if s > 0), key=lambda kv: -kv[1])[:12]
    if tags:
        out["interests.png"] = charts.interest_chart([t for t, _ in tags], [s for _, s in tags], lang)
    return out


def render_html(rep: dict, pngs: dict[str, bytes]) -> str:
    """A self-contained page: the text figures, tables and the charts inlined."""
    e = html.escape
    g = rep["group"]
    imgs = "".join(
        f'<figure><img alt="{e(n)}" src="data:image/png;base64,{base64.b64encode(b).decode()}"></figure>' for n, b in pngs.items()
    )
    rows = "".join(
        f"<tr><td>{m['activity_rank']}</td><td>{e(m['name'])}</td><td>{m['activity']:.1f}</td><td>{m['influence']:.1f}</td>"
        f"<td>{e(', '.join(t['tag'] for t in m['interests'][:3]))}</td></tr>"
        for m in rep["members"][:50]
    )
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>{e(g['title'] or g['group_id'])}: community report</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:980px;margin:2em auto;color:#222}}
table{{border-collapse:collapse}}td,th{{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}}
img{{max-width:100%}}pre{{background:#f6f6f6;padding:1em;white-space:pre-wrap}}</style></head><body>
<h1>{e(g['title'] or g['group_id'])}</h1>
<pre>{e(render_text(rep))}</pre>
{imgs}
<h2>Members</h2><table><tr><th>#</th><th>member</th><th>activity</th><th>influence</th><th>interests</th></tr>{rows}</table>
</body></html>"""


def write_report(rep: dict, snap: Snapshot, out: Path, lang: str = "en") -> list[Path]:
    """Write report.html, report.json and the PNGs into `out`; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    pngs = report_charts(rep, snap, lang)
    paths = []
    for name, data in pngs.items():
        (out / name).write_bytes(data)
        paths.append(out / name)
    (out / "report.json").write_text(json.dumps(rep, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "report.html").write_text(render_html(rep, pngs), encoding="utf-8")
    return [out / "report.html", out / "report.json", *paths]
