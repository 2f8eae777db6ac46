"""`communitybot points backfill` and `communitybot schedule`: points for imported history
and a look at the scheduler's jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table

from bot.cli_core import open_app


def add_commands(sub, common) -> None:
    """Register `points` and `schedule`."""
    p = sub.add_parser("points", parents=[common], help="points for imported chat history")
    psub = p.add_subparsers(dest="points_command", metavar="ACTION", required=True)
    b = psub.add_parser("backfill", parents=[common], help="apply the points rules to stored history (safe to repeat)")
    b.add_argument("--group", required=True, help="group title, id or platform:id")
    b.add_argument("--since", help="first day (YYYY-MM-DD, UTC; default: 30 days before the newest message)")
    b.add_argument("--until", help="day after the last (YYYY-MM-DD, UTC; default: now)")
    b.set_defaults(func=cmd_backfill)
    s = sub.add_parser("schedule", parents=[common], help="list the scheduler's jobs, next runs and last runs")
    s.add_argument("--group", help="only this group")
    s.set_defaults(func=cmd_schedule)


def _day(text: str | None, what: str) -> datetime | None:
    from bot.cli import CliError

    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise CliError(f"--{what} must be YYYY-MM-DD, got {text!r}") from None


async def _group(app, ref: str):
    from bot.cli import CliError

    g = await app.store.find_group(ref)
    if g is None:
        names = ", ".join(repr(x.title or x.group_id) for x in await app.store.groups()) or "none"
        raise CliError(f"no group {ref!r} (groups: {names})")
    return g


async def cmd_backfill(args) -> int:
    """Apply the rules to a group's stored messages and reactions, oldest first."""
    from bot.points import ledger_of, quiet_level_ups
    from bot.points_rules import backfill
    from storage.events import EventKind

    since, until = _day(args.since, "since"), _day(args.until, "until")
    app = await open_app(args)
    try:
        g = await _group(app, args.group)
        if since is None:
            last = await app.store.events(g.pk, kinds=[EventKind.MESSAGE], limit=1, newest_first=True)
            since = (last[0].time if last else datetime.now(UTC)) - timedelta(days=30)
        until = until or datetime.now(UTC) + timedelta(seconds=1)
        before = dict(await ledger_of(app).top(g.pk, None, None, 100_000))
        with quiet_level_ups():
            n = await backfill(app, g, since, until)
        after = await ledger_of(app).top(g.pk, None, None, 100_000)
        gained = sum(p for _, p in after) - sum(before.values())
        print(f"{g.title or g.group_id}: {n} messages and reactions from {since:%Y-%m-%d} to {until:%Y-%m-%d}; "
              f"{gained} points newly awarded to {sum(1 for m, p in after if p != before.get(m))} members")
    finally:
        await app.stop()
    return 0


async def cmd_schedule(args) -> int:
    """Print every schedule with its next occurrence and its latest run."""
    from bot.scheduler import make_trigger, scheduler_of

    app = await open_app(args)
    try:
        sched = scheduler_of(app)
        await sched.sync_all()
        groups = {g.pk: g for g in await app.store.groups()}
        only = (await _group(app, args.group)).pk if args.group else None
        runs = {}
        for r in await sched.agenda.runs():
            runs[r.job_id] = r
        table = Table(title="Scheduled jobs (times in UTC)")
        for col in ("job", "group", "when", "next", "last run"):
            table.add_column(col)
        now = datetime.now(UTC)
        for s in await sched.agenda.schedules():
            if only is not None and s.group_pk != only:
                continue
            nxt = make_trigger(s).get_next_fire_time(None, now)
            last = runs.get(s.job_id)
            when = " ".join(f"{k}={v}" for k, v in sorted(s.spec.items())) if s.trigger == "cron" else "once"
            g = groups.get(s.group_pk)
            table.add_row(
                s.job_id, (g.title or g.group_id) if g else "?", f"{when} ({s.timezone})",
                f"{nxt.astimezone(UTC):%Y-%m-%d %H:%M}" if nxt else "—",
                f"{datetime.fromtimestamp(last.fire_ts, UTC):%Y-%m-%d %H:%M} {last.status}" if last else "—",
            )
        Console().print(table)
    finally:
        await app.stop()
    return 0
