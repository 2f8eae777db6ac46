"""What `communitybot demo` shows of scoring: leaderboards, lifecycle stage, health, and
the HTML report with its charts written to disk."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from rich.table import Table

from bot.report import build_report, write_report

#: Where the demo writes the report (override with COMMUNITYBOT_DEMO_OUT).
DEFAULT_OUT = "communitybot-demo"


async def demo(app, group, out, out_dir=None) -> None:
    """Print the sample community's leaderboards and stage; write report.html + PNGs
    into `out_dir`/report (default: $COMMUNITYBOT_DEMO_OUT or ./communitybot-demo)."""
    snap = await app.services["scoring"].snapshot(group, fresh=True)
    settings = await app.settings("scoring", group)
    rep = build_report(group, snap, settings)
    by_id = {m["member_id"]: m for m in rep["members"]}
    for board in ("activity", "influence"):
        table = Table(title=f"Top by {board}")
        table.add_column("#", justify="right")
        table.add_column("member")
        table.add_column(board, justify="right")
        table.add_column("interests")
        for i, mid in enumerate(rep["leaderboards"][board][:10], 1):
            m = by_id[mid]
            table.add_row(str(i), m["name"], f"{m[board]:.1f}", ", ".join(t["tag"] for t in m["interests"][:3]))
        out.print(table)
    lc, h = rep["lifecycle"], rep["health"]
    out.print(f"[bold]Lifecycle stage:[/bold] {lc['stage']} ({lc['rule']})")
    out.print(
        f"Active members: {h['dau']} day · {h['wau']} week · {h['mau']} month; "
        f"questions answered (30 d): {h['answered_share_30d']:.0%}"
    )
    dest = Path(out_dir or os.environ.get("COMMUNITYBOT_DEMO_OUT", DEFAULT_OUT)) / "report"
    lang = await app.language(group)
    paths = await asyncio.to_thread(write_report, rep, snap, dest, lang)
    out.print(f"Report: {paths[0]} (+ {len(paths) - 2} charts)")
