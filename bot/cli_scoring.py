"""`communitybot report` and `communitybot fit`."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.cli import CliError


def add_commands(sub, common) -> None:
    """Register `report` and `fit`."""
    p = sub.add_parser("report", parents=[common], help="leaderboards, profiles, lifecycle and health of a group")
    p.add_argument("--group", required=True, help="group title, platform id or platform:id")
    p.add_argument("--since", help="only events from this date (YYYY-MM-DD, UTC)")
    p.add_argument("--format", choices=("text", "json", "html"), default="text")
    p.add_argument("--out", help="directory for the HTML report and charts (default: ./report-GROUP)")
    p.add_argument("--lang", default=None, help="chart language: en or zh-CN (default: the group's)")
    p.set_defaults(func=run_report)
    f = sub.add_parser("fit", parents=[common], help="learn the group's activity weights from its history")
    f.add_argument("--group", required=True, help="group title, platform id or platform:id")
    f.add_argument("--period-days", type=float, default=28.0, help="length of each period (default 28)")
    f.add_argument("--dry-run", action="store_true", help="print the weights without saving them")
    f.set_defaults(func=run_fit)


def parse_date(text: str | None) -> float | None:
    """YYYY-MM-DD (or an ISO datetime) as UTC epoch seconds."""
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--since: not a date: {text!r} (use YYYY-MM-DD)") from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


async def _open(args):
    try:
        from bot.cli_core import open_app  # the lead's helper, once it lands
    except ImportError:
        open_app = None
    if open_app is not None:
        app = await open_app(args)
    else:
        from bot.app import App
        from bot.config import load_config

        app = await App.create(load_config(args.config), args.db)
    group = await app.store.find_group(args.group)
    if group is None:
        known = ", ".join(f"{g.title or g.group_id} ({g.platform}:{g.group_id})" for g in await app.store.groups()) or "none"
        await app.stop()
        raise CliError(f"--group: no group {args.group!r}; known groups: {known}")
    return app, group


async def run_report(args) -> int:
    """Print or write the report of one group."""
    from bot.report import build_report, render_text, write_report

    since = parse_date(args.since)
    app, group = await _open(args)
    try:
        snap = await app.services["scoring"].snapshot(group, fresh=True)
        settings = await app.settings("scoring", group)
        from bot.privacy import hidden_members

        rep = build_report(group, snap, settings, since=since, hidden=await hidden_members(app, group))
        if args.format == "json":
            sys.stdout.write(json.dumps(rep, ensure_ascii=False, indent=2) + "\n")
        elif args.format == "text":
            print(render_text(rep))
        else:
            out = Path(args.out or f"report-{group.group_id}")
            lang = args.lang or await app.language(group)
            paths = write_report(rep, snap, out, lang)
            print(f"wrote {paths[0]} and {len(paths) - 1} more files in {out}")
    finally:
        await app.stop()
    return 0


async def run_fit(args) -> int:
    """Fit the activity weights, print them with R², and store them for the group."""
    import asyncio

    from bot.report import reference_time
    from scoring.activity import InsufficientData, fit_weights

    app, group = await _open(args)
    try:
        snap = await app.services["scoring"].snapshot(group, fresh=True)
        now = reference_time(snap.frame.ts, snap.now)
        try:
            fit = await asyncio.to_thread(fit_weights, snap.frame, now, args.period_days)
        except InsufficientData as exc:
            raise CliError(f"cannot fit weights for {group.title or group.group_id}: {exc}") from None
        print(f"Activity weights for {group.title or group.group_id} ({fit.members} members, {fit.period_days:g}-day periods)")
        for name, w in sorted(fit.weights.items(), key=lambda kv: -kv[1]):
            print(f"  {name:<22} {w:10.4f}")
        print(f"R² train {fit.r2_train:.3f}   R² held-out {fit.r2_holdout:.3f}")
        if not args.dry_run:
            await app.store.set_setting(group.pk, "scoring.weights", fit.weights)
            await app.store.audit(group.pk, "cli", "scoring.fit", {"weights": fit.weights, "r2_holdout": fit.r2_holdout})
            print("saved as the group's scoring.weights")
    finally:
        await app.stop()
    return 0
