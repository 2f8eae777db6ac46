"""The demo's simulated week: the sample community's last week replayed on a fake
clock, with the scheduler ticking every hour.

The instructor announces an event on Monday; members RSVP over the next days; the
scheduler posts the reminders (24 h and 1 h before) and the start post; members check
in; the week's messages and reactions earn points under the rules; and on the next
Monday at 09:00 (group time) the weekly leaderboard goes out, once. Everything the bot
says goes to a recording adapter and is printed with its simulated time.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

from rich.markup import escape
from rich.table import Table

from adapters.base import Reply
from adapters.fake import FakeAdapter
from bot.clock import FakeClock
from bot.points import ledger_of, zone_of
from bot.points_rules import apply_rules
from bot.scheduler import scheduler_of
from storage.events import Event, EventKind


def _monday_before(t: datetime, zone) -> datetime:
    local = t.astimezone(zone)
    monday = (local - timedelta(days=local.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
    return (monday if monday <= local else monday - timedelta(days=7)).astimezone(UTC)


class _Show:
    """Prints what the recording adapter received since the last call."""

    def __init__(self, out, adapter: FakeAdapter, clock: FakeClock, zone, names: dict[str, str]) -> None:
        self.out, self.adapter, self.clock, self.zone, self.names = out, adapter, clock, zone, names
        self.seen = 0
        self.shown: set[str] = set()

    def flush(self, only_posts: bool = False) -> None:
        when = self.clock.now().astimezone(self.zone).strftime("%a %m-%d %H:%M")
        for r in self.adapter.sent[self.seen:]:
            if only_posts and (r.private_to or r.edit_message_id or r.ephemeral):
                continue
            self.out.print(f"[dim]{when}[/dim] {self._who(r)}{escape(self._text(r))}")
        self.seen = len(self.adapter.sent)

    def _who(self, r: Reply) -> str:
        if r.private_to:
            return f"[cyan]bot → {escape(self.names.get(r.private_to, r.private_to))} (private):[/cyan] "
        return "[green]bot (edited):[/green] " if r.edit_message_id else "[green]bot:[/green] "

    def _text(self, r: Reply) -> str:
        lines = r.text.splitlines() or [""]
        if r.edit_message_id:
            return lines[-1]  # an edit: the changed counts are what is new
        if r.private_to and len(lines) > 1:
            # The same private post again (the daily digest): its first line is enough.
            if lines[0] in self.shown:
                return lines[0] + " …"
            self.shown.add(lines[0])
        buttons = " ".join(f"[{b.text}]" for row in r.buttons for b in row)
        return "\n      ".join(lines) + (f"\n      {buttons}" if buttons else "")


async def simulated_week(app, group, out) -> None:
    """Replay the last week of `group` with the scheduler running; print what happens."""
    store = app.store
    zone = await zone_of(app, group)
    last = await store.events(group.pk, kinds=[EventKind.MESSAGE], limit=1, newest_first=True)
    if not last:
        out.print("No messages in the group; nothing to simulate.")
        return
    start = _monday_before(last[0].time, zone)
    end = start + timedelta(days=7)
    week = await store.events(group.pk, start, end, kinds=[EventKind.MESSAGE, EventKind.REACTION])
    posters = Counter(e.member_id for e in week if e.kind is EventKind.MESSAGE and e.member_id and not e.is_bot)
    if len(posters) < 4:
        out.print("Too little activity in the last week to simulate.")
        return
    names = await store.member_names(group.platform)
    host, *regulars = [m for m, _ in posters.most_common(7)]

    saved_clock, saved_adapter = app.clock, app.adapters.get(group.platform)
    clock = FakeClock(start)
    rec = FakeAdapter(group.platform)
    rec.admins.add((group.group_id, host))
    await store.set_role(group.pk, host, "admin")  # so the moderator digest has a recipient
    app.clock = clock
    app.adapters[group.platform] = rec
    await rec.start(app.handle)
    show = _Show(out, rec, clock, zone, names)
    ids = itertools.count(1)
    sched = scheduler_of(app)

    async def act(member: str, kind: EventKind, text: str = "", payload: str = "") -> None:
        """A member does something live in the simulated week (goes through the pipeline)."""
        n = next(ids)
        data = {"payload": payload, "press_id": f"demo-{n}"} if payload else {}
        label = text or f"presses {payload}"
        out.print(f"[dim]{clock.now().astimezone(zone):%a %m-%d %H:%M}[/dim] [yellow]{escape(names.get(member, member))}:[/yellow] {escape(label)}")
        await app.handle(Event(group.platform, group.group_id, kind, clock.now(), member_id=member,
                               member_name=names.get(member, member), message_id=f"demo-{n}" if text else None,
                               text=text, data=data))
        show.flush()

    try:
        await sched.sync_group(group, start + timedelta(seconds=1))
        event_day = (start + timedelta(days=3)).astimezone(zone).replace(hour=19, minute=0)
        script = {
            start + timedelta(hours=1): [(host, EventKind.COMMAND, f'/event add "Capstone Q&A" {event_day:%Y-%m-%d %H:%M} 90m Bring your drafts', "")],
            start + timedelta(hours=5): [(m, EventKind.BUTTON, "", "rsvp:{id}:going") for m in regulars[:3]],
            start + timedelta(days=1, hours=3): [(regulars[3], EventKind.BUTTON, "", "rsvp:{id}:maybe"),
                                                 (regulars[0], EventKind.BUTTON, "", "rsvp:{id}:remind")],
            event_day.astimezone(UTC) + timedelta(minutes=5): [(m, EventKind.COMMAND, "/checkin", "") for m in regulars[:3]],
        }
        pending = sorted(week, key=lambda e: e.time)
        event_id = None
        t = start
        out.print(f"[bold]A simulated week in {escape(group.title)}[/bold] ({zone.key}), "
                  f"{start.astimezone(zone):%a %m-%d %H:%M} → {end.astimezone(zone):%a %m-%d %H:%M}: "
                  f"{len(week)} messages and reactions replayed through the points rules; the scheduler ticks hourly.")
        while t <= end:
            for e in [e for e in pending if e.time <= t]:
                clock.set(e.time)
                await apply_rules(app, group, e)
            pending = [e for e in pending if e.time > t]
            for at in sorted(k for k in script if k <= t):
                clock.set(at)
                for member, kind, text, payload in script.pop(at):
                    if event_id is not None:
                        payload = payload.format(id=event_id)
                    await act(member, kind, text, payload)
                if event_id is None:
                    evs = await sched.agenda.events(group.pk, at.timestamp())
                    event_id = evs[0].id if evs else None
            clock.set(t)
            show.flush(only_posts=True)
            for r in await sched.run_due(t, sync=False):
                if r.status != "ran":
                    out.print(f"[dim]{t.astimezone(zone):%a %m-%d %H:%M} scheduler: {r.job_id} {r.status} ({escape(r.detail)})[/dim]")
            show.flush()
            t += timedelta(hours=1)
        again = await sched.run_due(end)
        out.print(f"Scheduler tick again at the same time: {len(again)} new runs (every occurrence is claimed once).")
        await _summary(app, group, out, names, start, end)
    finally:
        app.clock = saved_clock
        if saved_adapter is None:
            app.adapters.pop(group.platform, None)
        else:
            app.adapters[group.platform] = saved_adapter


async def _summary(app, group, out, names: dict[str, str], start: datetime, end: datetime) -> None:
    led = ledger_of(app)
    table = Table(title="Points awarded in the simulated week")
    for col in ("member", "points", "earned from"):
        table.add_column(col)
    for member, pts in await led.top(group.pk, start.timestamp(), end.timestamp() + 1, 8):
        rows = [r for r in await led.history(group.pk, member, 500) if start.timestamp() <= r.ts <= end.timestamp()]
        reasons = Counter()
        for r in rows:
            reasons[r.reason] += r.amount
        table.add_row(names.get(member, member), str(pts), ", ".join(f"{k} {v:+d}" for k, v in reasons.most_common()))
    out.print(table)
    runs = await scheduler_of(app).agenda.runs()
    by = Counter((r.job_id.split(":")[0], r.status) for r in runs)
    out.print("Job runs: " + ", ".join(f"{job} {status} ×{n}" for (job, status), n in sorted(by.items())))
