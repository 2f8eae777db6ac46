"""Moderation feature: explainable checks → policy → alerts with buttons.

Wires the pieces into the app: settings sections (`[moderation]`, `[check_<name>]`),
the `moderation` pipeline step (before commands, so spam never runs a command), the
`mod:` alert buttons (moderators only), /report, /flags, /warn, and the service in
`app.services["moderation"]` whose `on_spam_confirmed` / `on_spam_cleared` lists other
features hook into (see `bot/mod_engine.py`).

Modules: `mod_engine` (service, settings, trust), `mod_policy` (verdicts → flags,
alerts, actions), `mod_alerts` (alert text, buttons, decisions), `mod_commands`,
`mod_model` (classifier data), `mod_scan` (history replay), `mod_cli` (train/eval/scan).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.mod_alerts import buttons, render
from bot.mod_commands import register
from bot.mod_engine import ModerationService
from bot.mod_policy import moderation_step
from bot.mod_scan import scan

if TYPE_CHECKING:
    from bot.app import App
    from storage.store import GroupInfo

def install(app: App) -> None:
    """Register moderation's service, step, buttons and commands on `app`."""
    from bot.mod_alerts import on_button

    svc = ModerationService(app)
    app.services["moderation"] = svc
    app.pipeline.add_step("moderation", moderation_step)
    app.router.button("mod", admin=True)(on_button)
    register(app.router)

    async def _ready(app: App) -> None:
        await svc.ready()

    async def _flush(app: App) -> None:
        await svc.flush()

    app.on_start.append(_ready)
    app.on_stop.append(_flush)


async def demo(app: App, group: GroupInfo, out) -> None:
    """Show the sample community's spam burst and raid caught, with the alerts moderators get."""
    from rich.panel import Panel
    from rich.table import Table

    result = await scan(app, group)
    out.rule("Moderation: what the checks caught")
    out.print(f"{result.screened} events replayed through every check; {len(result.flagged)} flagged, "
              f"in {len(result.groups)} alert(s) (near-identical messages share one alert).")
    table = Table(show_lines=False)
    for col in ("time", "member", "message", "checks that fired"):
        table.add_column(col)
    for sc in result.flagged[:25]:
        e = sc.event
        table.add_row(
            f"{e.time:%m-%d %H:%M}",
            e.member_name or e.member_id or "",
            " ".join((e.text or e.kind.value).split())[:48],
            "\n".join(f"{v.check}: {v.reason}" for v in sc.flagged),
        )
    out.print(table)
    lang = await app.language(group)
    s = (await app.services["moderation"].settings(group)).mod
    shown = sorted(result.groups, key=lambda g: (not g.is_raid, -len(g.screenings)))[:3]
    for i, g in enumerate(shown, 1):
        first = g.screenings[0]
        last = next((sc for sc in reversed(g.screenings) if sc.raid is not None), g.screenings[-1])
        raid = last.raid
        kind = ("joins" if raid.data.get("kind") == "joins" else "raid") if raid else "auto"
        flag = {
            "id": i, "kind": kind, "member_id": first.event.member_id, "text": first.event.text or "",
            "count": len(g.members), "members": [[sc.event.member_id, sc.event.message_id] for sc in g.screenings],
            "verdicts": [{"name": v.check, "flagged": v.flagged, "reason": v.reason} for v in last.verdicts],
            "status": "open", "action": "", "decided_by": None,
        }
        text = await render(app, group, flag, lang, reporters=[])
        labels = "  ".join(f"[{b.text}]" for row in buttons(i, lang, s.mute_minutes) for b in row)
        out.print(Panel(f"{text}\n\n{labels}", title=f"alert {i} of {len(result.groups)} (to moderators)"))
