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

import logging
from typing import TYPE_CHECKING

from adapters.base import Reply
from bot import i18n
from bot.mod_alerts import buttons, names_of, render
from bot.mod_commands import register
from bot.mod_engine import ModerationService
from bot.mod_policy import moderation_step
from bot.mod_scan import scan
from scoring.checks import SEVERITIES
from storage.events import EventKind, command_name

if TYPE_CHECKING:
    from bot.app import App
    from storage.store import GroupInfo

def install(app: App) -> None:
    """Register moderation's service, step, buttons and commands on `app`."""
    from bot.mod_alerts import on_button

    svc = ModerationService(app)
    app.services["moderation"] = svc
    app.pipeline.add_step("moderation", moderation_step)

    async def _settings_changed(app: App, turn) -> None:
        # After "/config set" the cached settings must go at once, not in 30 s.
        parsed = command_name(turn.event.text) if turn.event.kind is EventKind.COMMAND else None
        if parsed and parsed[0] == "config" and parsed[1].split()[:1] == ["set"]:
            svc.invalidate(turn.group.pk)

    app.pipeline.add_step("moderation-settings", _settings_changed, before=None)
    app.router.button("mod", admin=True)(on_button)
    register(app.router)

    async def _ready(app: App) -> None:
        await svc.ready()

    async def _flush(app: App) -> None:
        await svc.flush()

    app.on_start.append(_ready)
    app.on_stop.append(_flush)
    app.pipeline.spool.listeners.append(_outage_notice)


i18n.add({
    "en": {
        "outage.down": "⚠️ The bot's database is unreachable ({detail}). Messages are being held locally and will be stored when it returns.",
        "outage.up": "✅ The bot's database is back: {detail}.",
    },
    "zh-CN": {
        "outage.down": "⚠️ 机器人的数据库无法访问（{detail}）。消息暂存在本地，数据库恢复后会写入。",
        "outage.up": "✅ 机器人的数据库已恢复：{detail}。",
    },
})


async def _outage_notice(app: App, state: str, detail: str) -> None:
    """Tell each group's moderators' chat, once per outage and recovery. Only groups with
    an `alerts_chat` configured hear it (a members' chat is no place for it), and only
    from what is in memory and the config file: the database is the thing that is down."""
    from bot.config import ConfigError

    sent: set[tuple[str, str]] = set()
    for group in list(app.store._groups.values()):
        try:
            s = app.config.for_group("moderation", group.platform, group.group_id)
        except (ConfigError, KeyError):
            continue
        target = (group.platform, s.alerts_chat)
        if not s.alerts_chat or target in sent:
            continue
        sent.add(target)
        lang = i18n.normalise_language(group.language or app.config.for_group("bot", group.platform, group.group_id).language)
        try:
            await app.send(Reply(group.platform, s.alerts_chat, i18n.t(lang, f"outage.{state}", detail=detail[:200]),
                                 channel_id=s.alerts_channel))
        except Exception:
            logging.getLogger(__name__).exception("outage notice to %s failed", s.alerts_chat)


async def demo(app: App, group: GroupInfo, out) -> None:
    """Show the sample community's spam burst and raid caught, with the alerts moderators get."""
    from rich.panel import Panel
    from rich.table import Table

    result = await scan(app, group)
    lang = await app.language(group)
    s = (await app.services["moderation"].settings(group)).mod
    floor = SEVERITIES.index(s.alert_min_severity)
    alerting = [g for g in result.groups if g.is_raid or any(SEVERITIES.index(sc.severity or "low") >= floor for sc in g.screenings)]
    quiet = len(result.groups) - len(alerting)
    out.rule("Moderation: what the checks caught")
    out.print(
        f"{result.screened} events replayed through every check (mode {s.mode}): {len(result.flagged)} flagged, "
        f"giving {len(alerting)} alert(s) — near-identical messages share one alert; "
        f"{quiet} low-severity verdict(s) that alert nobody (scan still lists them)."
    )
    table = Table(show_lines=True)
    for col in ("when", "who", "message", "checks that fired (last message)"):
        table.add_column(col)
    for g in alerting:
        first, last = g.screenings[0], _decisive(g)
        e = first.event
        ids = list(last.cluster.members) if last.raid and last.cluster else g.members
        names = await names_of(app, group.platform, ids[:1])
        who = names.get(ids[0], ids[0]) + (f" +{len(ids) - 1} more" if len(ids) > 1 else "")
        table.add_row(
            f"{e.time:%m-%d %H:%M}",
            who,
            " ".join((e.text or e.kind.value).split())[:60],
            "\n".join(f"{v.check}: {v.reason}" for v in last.flagged),
        )
    out.print(table)
    raids = [g for g in alerting if g.is_raid]
    spam = [g for g in alerting if not g.is_raid]
    for i, g in enumerate([*spam[:1], *raids], 1):
        last = _decisive(g)
        raid = last.raid
        kind = ("joins" if raid.data.get("kind") == "joins" else "raid") if raid else "auto"
        first = g.screenings[0]
        members = list(last.cluster.members) if raid and last.cluster else g.members
        flag = {
            "id": i, "kind": kind, "member_id": members[0], "text": first.event.text or "",
            "count": len(members), "members": [[m, None] for m in members],
            "verdicts": [{"name": v.check, "flagged": v.flagged, "reason": v.reason} for v in last.verdicts],
            "status": "open", "action": "", "decided_by": None,
        }
        text = await render(app, group, flag, lang, reporters=[])
        labels = "  ".join(f"[{b.text}]" for row in buttons(i, lang, s.mute_minutes) for b in row)
        out.print(Panel(f"{text}\n\n{labels}", title="the alert moderators get", expand=False))


def _decisive(g):
    """The screening whose verdicts the alert shows: the last raid verdict, else the first."""
    return next((sc for sc in reversed(g.screenings) if sc.raid is not None), g.screenings[0])
