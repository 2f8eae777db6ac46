"""Community events: /event add|cancel, /events, RSVP buttons with live counts, /checkin.

`/event add "Title" 2026-12-01 19:00 [90m] [description]` (admins; the time is in the
group's time zone) posts an announcement with RSVP buttons whose counts are edited in
place on every press, and schedules the reminders (default 24 h and 1 h before) and the
start post (with a check-in button). Checking in during the event window awards the
attendance points once. The jobs and the planning hint live in `bot.community_jobs`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from adapters.base import Button, Reply
from bot.commands import Ctx, UsageError
from bot.config import register_section, setting
from bot.points import grant, zone_of
from bot.scheduler import scheduler_of
from storage.agenda import CommunityEvent


@dataclass
class EventSettings:
    """Community events: reminders, check-in window, default length."""

    reminders: list[int] = setting([1440, 60], "Minutes before the start to post a reminder.")
    default_minutes: int = setting(60, "Length of an event when /event add gives none.")
    checkin_early_minutes: int = setting(15, "Minutes before the start that /checkin opens.")
    reminder_grace_minutes: int = setting(15, "A reminder missed while the bot was down still goes out this late.")

    def check(self) -> str | None:
        """Reminders must be positive."""
        if any(m <= 0 for m in self.reminders):
            return "reminders must be positive numbers of minutes"
        return None


register_section("events", EventSettings)

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m(?:in)?)?$", re.I)


def parse_duration(text: str) -> int | None:
    """Minutes in "90m", "2h", "1h30m"; None if `text` is not a duration."""
    m = _DURATION.match(text)
    if not m or not (m.group(1) or m.group(2)):
        return None
    return int(m.group(1) or 0) * 60 + int(m.group(2) or 0)


def parse_event_args(text: str, zone: ZoneInfo, default_minutes: int) -> tuple[str, datetime, int, str]:
    """Parse `"Title" YYYY-MM-DD HH:MM [90m] [description]` → (title, start UTC, minutes,
    description). Raises ValueError naming the part that is wrong."""
    text = text.replace("“", '"').replace("”", '"')
    try:
        parts = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"unbalanced quotes in {text!r}") from exc
    if len(parts) < 3:
        raise ValueError("need a title, a date (YYYY-MM-DD) and a time (HH:MM)")
    title, date, clock = parts[0], parts[1], parts[2]
    try:
        local = datetime.strptime(f"{date} {clock}", "%Y-%m-%d %H:%M")
    except ValueError:
        raise ValueError(f"date and time must be YYYY-MM-DD HH:MM, got {date!r} {clock!r}") from None
    rest = parts[3:]
    minutes = default_minutes
    if rest and parse_duration(rest[0]) is not None:
        minutes = parse_duration(rest.pop(0)) or default_minutes
    start = local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))
    return title, start, minutes, " ".join(rest)


def fmt_when(ts: float, zone: ZoneInfo, lang: str = "en") -> str:
    """"Tue 12-01 19:00" (周二 12-01 19:00) in the group's zone and language."""
    from bot import i18n

    local = datetime.fromtimestamp(ts, zone)
    return f"{i18n.t(lang, f'plan.day{local.weekday()}')} {local:%m-%d %H:%M}"


async def announcement(app, group, ev: CommunityEvent, lang: str) -> tuple[str, list[list[Button]]]:
    """The announcement text with live RSVP counts, and its buttons."""
    from bot import i18n

    zone = await zone_of(app, group)
    counts = await scheduler_of(app).agenda.rsvp_counts(ev.id)
    end = datetime.fromtimestamp(ev.end_ts, zone).strftime("%H:%M")
    lines = [i18n.t(lang, "events.announce", title=ev.title, when=fmt_when(ev.start_ts, zone, lang), end=end, zone=zone.key, id=ev.id)]
    if ev.description:
        lines.append(ev.description)
    lines.append(i18n.t(lang, "events.counts", going=counts["going"], maybe=counts["maybe"], no=counts["no"]))
    if ev.status == "cancelled":
        return i18n.t(lang, "events.cancelled", title=ev.title, id=ev.id), []
    buttons = [
        [Button(i18n.t(lang, "events.btn_going"), f"rsvp:{ev.id}:going"),
         Button(i18n.t(lang, "events.btn_maybe"), f"rsvp:{ev.id}:maybe"),
         Button(i18n.t(lang, "events.btn_no"), f"rsvp:{ev.id}:no")],
        [Button(i18n.t(lang, "events.btn_remind"), f"rsvp:{ev.id}:remind")],
    ]
    return "\n".join(lines), buttons


async def schedule_event(app, group, ev: CommunityEvent, now: datetime) -> None:
    """Write the event's reminder and start schedules (future ones only)."""
    cfg: EventSettings = await app.settings("events", group)
    sched = scheduler_of(app)
    zone = (await zone_of(app, group)).key
    grace = cfg.reminder_grace_minutes * 60.0
    slots = [(f"event:{ev.id}:remind:{m}", "event_reminder", ev.start_ts - m * 60, {"event_id": ev.id, "minutes": m}) for m in cfg.reminders]
    slots.append((f"event:{ev.id}:start", "event_start", ev.start_ts, {"event_id": ev.id}))
    for job_id, kind, at, payload in slots:
        if at <= now.timestamp():
            continue
        await sched.agenda.put_schedule(job_id, group.pk, kind, "date", {"at": at}, zone, payload, grace, now.timestamp())
        await sched.refresh(job_id)


async def _event(ctx: Ctx):
    sub = (ctx.args[0].lower() if ctx.args else "")
    if sub == "add":
        return await _event_add(ctx)
    if sub == "cancel":
        return await _event_cancel(ctx)
    raise UsageError()


async def _event_add(ctx: Ctx) -> str | None:
    app, group = ctx.app, ctx.group
    cfg: EventSettings = await app.settings("events", group)
    zone = await zone_of(app, group)
    try:
        title, start, minutes, desc = parse_event_args(ctx.arg_text.split(None, 1)[1] if len(ctx.args) > 1 else "", zone, cfg.default_minutes)
    except ValueError as exc:
        raise UsageError(ctx.t("events.bad_args", problem=str(exc))) from None
    now = app.clock.now()
    if start <= now:
        raise UsageError(ctx.t("events.in_past", when=fmt_when(start.timestamp(), zone, ctx.lang)))
    agenda = scheduler_of(app).agenda
    ev, new = await agenda.create_event(group.pk, title[:200], start.timestamp(), start.timestamp() + minutes * 60, desc,
                                        ctx.event.channel_id, ctx.event.member_id, ctx.event.key, now.timestamp())
    if not new:
        return None
    text, buttons = await announcement(app, group, ev, ctx.lang)
    sent = await app.send(Reply(group.platform, group.group_id, text, channel_id=ctx.event.channel_id, buttons=buttons))
    await agenda.set_announcement(ev.id, sent.message_id if sent.ok else None)
    await schedule_event(app, group, ev, now)
    await ctx.store.audit(group.pk, ctx.event.member_id or "?", "events.add", {"id": ev.id, "title": title, "start": start.isoformat()})
    return None


async def _event_cancel(ctx: Ctx) -> str:
    if len(ctx.args) < 2 or not ctx.args[1].isdigit():
        raise UsageError()
    eid = int(ctx.args[1])
    sched = scheduler_of(ctx.app)
    if not await sched.agenda.cancel_event(ctx.group.pk, eid):
        return ctx.t("events.no_such", id=eid)
    for s in await sched.agenda.schedules(enabled_only=True, group_pk=ctx.group.pk):
        if s.job_id.startswith(f"event:{eid}:"):
            await sched.agenda.disable_schedules(s.job_id)
            await sched.refresh(s.job_id)
    ev = await sched.agenda.event(ctx.group.pk, eid)
    if ev.announce_message_id:
        text, _ = await announcement(ctx.app, ctx.group, ev, ctx.lang)
        await ctx.app.send(Reply(ctx.group.platform, ctx.group.group_id, text, channel_id=ev.channel_id, edit_message_id=ev.announce_message_id))
    await ctx.store.audit(ctx.group.pk, ctx.event.member_id or "?", "events.cancel", {"id": eid})
    return ctx.t("events.cancelled", title=ev.title, id=eid)


async def _events(ctx: Ctx) -> str:
    sched = scheduler_of(ctx.app)
    zone = await zone_of(ctx.app, ctx.group)
    evs = await sched.agenda.events(ctx.group.pk, ctx.app.clock.now().timestamp())
    if not evs:
        return ctx.t("events.none")
    lines = [ctx.t("events.header", zone=zone.key)]
    for ev in evs[:10]:
        c = await sched.agenda.rsvp_counts(ev.id)
        lines.append(ctx.t("events.line", id=ev.id, when=fmt_when(ev.start_ts, zone, ctx.lang), title=ev.title, going=c["going"], maybe=c["maybe"]))
    return "\n".join(lines)


async def _rsvp(ctx: Ctx) -> list[Reply]:
    if len(ctx.args) != 2 or not ctx.args[0].isdigit() or ctx.args[1] not in ("going", "maybe", "no", "remind"):
        raise UsageError()
    agenda = scheduler_of(ctx.app).agenda
    ev = await agenda.event(ctx.group.pk, int(ctx.args[0]))
    now = ctx.app.clock.now().timestamp()
    if ev is None or ev.status != "scheduled" or ev.end_ts <= now:
        return [ctx.reply(ctx.t("events.closed"), private_to=ctx.event.member_id, ephemeral=True)]
    if ctx.args[1] == "remind":
        await agenda.set_remind(ev.id, ctx.event.member_id, True, now)
        ack = ctx.t("events.remind_ack", title=ev.title)
    else:
        await agenda.rsvp(ev.id, ctx.event.member_id, ctx.args[1], now)
        ack = ctx.t(f"events.ack_{ctx.args[1]}", title=ev.title)
    out = [ctx.reply(ack, private_to=ctx.event.member_id, ephemeral=True)]
    target = ctx.event.message_id or ev.announce_message_id
    if target:
        text, buttons = await announcement(ctx.app, ctx.group, ev, ctx.lang)
        out.append(Reply(ctx.group.platform, ctx.group.group_id, text, channel_id=ev.channel_id, buttons=buttons, edit_message_id=target))
    return out


async def checkin(app, group, member_id: str, member_name: str, event_id: int | None, lang: str, channel_id: str = "") -> str:
    """Check a member in to the event running now (or `event_id`); awards once."""
    from bot import i18n

    cfg: EventSettings = await app.settings("events", group)
    agenda = scheduler_of(app).agenda
    now = app.clock.now().timestamp()
    early = cfg.checkin_early_minutes * 60
    running = [e for e in await agenda.events(group.pk, now) if e.start_ts - early <= now <= e.end_ts]
    if event_id is not None:
        running = [e for e in running if e.id == event_id]
    if not running:
        return i18n.t(lang, "events.no_running")
    ev = max(running, key=lambda e: e.start_ts)
    pts = (await app.settings("points", group)).attendance
    got = await grant(app, group, member_id, pts, "attend", f"attend:{ev.id}:{member_id}", note=ev.title, channel_id=channel_id)
    if got == 0:
        return i18n.t(lang, "events.already_in", title=ev.title)
    await agenda.rsvp(ev.id, member_id, "going", now)
    return i18n.t(lang, "events.checked_in", name=member_name or member_id, title=ev.title, points=got)


async def _checkin(ctx: Ctx) -> str:
    eid = int(ctx.args[0]) if ctx.args and ctx.args[0].isdigit() else None
    return await checkin(ctx.app, ctx.group, ctx.event.member_id, ctx.event.member_name, eid, ctx.lang, ctx.event.channel_id)


async def _checkin_button(ctx: Ctx) -> Reply:
    eid = int(ctx.args[0]) if ctx.args and ctx.args[0].isdigit() else None
    text = await checkin(ctx.app, ctx.group, ctx.event.member_id, ctx.event.member_name, eid, ctx.lang, ctx.event.channel_id)
    return ctx.reply(text, private_to=ctx.event.member_id, ephemeral=True)


async def recommend_events(app, group, snap) -> list:
    """Upcoming events as items for scoring's /recommend (matched by their text)."""
    from scoring.recommend import Item

    evs = await scheduler_of(app).agenda.events(group.pk, app.clock.now().timestamp())
    return [Item(f"event:{e.id}", "event", e.title, text=f"{e.title} {e.description}") for e in evs]


def install(app) -> None:
    """Register the event commands, RSVP and check-in buttons, the event jobs, and the
    events as a source of scoring's recommendations."""
    from bot import community_jobs
    from bot.scoring_commands import add_recommend_source

    add_recommend_source(app, recommend_events)

    r = app.router
    r.command("event", usage='/event add "Title" YYYY-MM-DD HH:MM [90m] [description] | /event cancel ID',
              help_key="cmd.help.event", admin=True)(_event)
    r.command("events", usage="/events", help_key="cmd.help.events")(_events)
    r.command("checkin", usage="/checkin [ID]", help_key="cmd.help.checkin")(_checkin)
    r.button("rsvp")(_rsvp)
    r.button("checkin")(_checkin_button)
    community_jobs.register(app)


async def demo(app, group, out) -> None:
    """`communitybot demo`: a simulated week of events, reminders, RSVPs, points and the
    weekly leaderboard on a fake clock (see `bot.points_demo`)."""
    from bot.points_demo import simulated_week

    await simulated_week(app, group, out)
