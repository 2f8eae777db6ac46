"""Event jobs (reminders, the start post) and the planning hint (`/plan`).

The planning hint tells admins when the group is most active (hours and weekdays in the
group's time zone, over the last 30 days) and which topics most members share, to pick
the next event's time and topic. Topics come from scoring's interest tags when that
feature is installed (its snapshot's per-member tag vectors), else from hashtags and
words the most distinct members used.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from adapters.base import Button, Reply
from bot import i18n
from bot.commands import Ctx
from bot.community import fmt_when
from bot.points import zone_of
from bot.scheduler import scheduler_of
from storage.events import EventKind
from storage.store import GroupInfo

log = logging.getLogger(__name__)


def _span(minutes: int, lang: str) -> str:
    if minutes % 1440 == 0:
        return i18n.t(lang, "events.in_days", n=minutes // 1440)
    if minutes % 60 == 0:
        return i18n.t(lang, "events.in_hours", n=minutes // 60)
    return i18n.t(lang, "events.in_minutes", n=minutes)


async def event_reminder(app, group: GroupInfo, s, fire: datetime) -> str:
    """Post a reminder in the group and DM members who asked for one."""
    agenda = scheduler_of(app).agenda
    ev = await agenda.event(group.pk, int(s.payload["event_id"]))
    if ev is None or ev.status != "scheduled":
        return "event gone"
    lang = await app.language(group)
    zone = await zone_of(app, group)
    counts = await agenda.rsvp_counts(ev.id)
    span = _span(int(s.payload.get("minutes", 0)), lang)
    text = i18n.t(lang, "events.reminder", title=ev.title, span=span, when=fmt_when(ev.start_ts, zone, lang), going=counts["going"], id=ev.id)
    await app.send(Reply(group.platform, group.group_id, text, channel_id=ev.channel_id,
                         buttons=[[Button(i18n.t(lang, "events.btn_going"), f"rsvp:{ev.id}:going"),
                                   Button(i18n.t(lang, "events.btn_remind"), f"rsvp:{ev.id}:remind")]]))
    dms = [r.member_id for r in await agenda.rsvps(ev.id) if r.remind and r.status != "no"]
    for member in dms:
        await app.send(Reply(group.platform, group.group_id, text, private_to=member))
    return f"{len(dms)} private reminders"


async def event_start(app, group: GroupInfo, s, fire: datetime) -> str:
    """Post that the event starts now, with a check-in button."""
    agenda = scheduler_of(app).agenda
    ev = await agenda.event(group.pk, int(s.payload["event_id"]))
    if ev is None or ev.status != "scheduled":
        return "event gone"
    lang = await app.language(group)
    pts = (await app.settings("points", group)).attendance
    text = i18n.t(lang, "events.starting", title=ev.title, points=pts, id=ev.id)
    await app.send(Reply(group.platform, group.group_id, text, channel_id=ev.channel_id,
                         buttons=[[Button(i18n.t(lang, "events.btn_checkin"), f"checkin:{ev.id}")]]))
    return "start posted"


_WORD = re.compile(r"#[\w\-]+|[A-Za-z][A-Za-z+#\-]{4,}|[\u4e00-\u9fff]{2,}")
_STOP = {
    "about", "after", "again", "there", "their", "these", "those", "would", "could", "should", "thanks",
    "which", "where", "hello", "great", "really", "think", "still", "today", "right", "maybe", "something",
    "thank", "other", "because", "going", "anyone", "every", "everyone", "being", "doing", "first",
}
_CJK_STOP = set("的了是我你他她它在有和不这那就也都吗呢吧啊么个们一")


def _terms(text: str) -> set[str]:
    out: set[str] = set()
    for tok in _WORD.findall(text or ""):
        if tok.startswith("#"):
            out.add(tok.lower())
        elif tok[0].isascii():
            if tok.lower() not in _STOP:
                out.add(tok.lower())
        else:
            # No word segmentation for Chinese: character bigrams without function words.
            out.update(tok[i:i + 2] for i in range(len(tok) - 1) if not (set(tok[i:i + 2]) & _CJK_STOP))
    return out


async def _scoring_tags(app, group: GroupInfo) -> list[str] | None:
    """Interest tags most members share, from scoring's snapshot when it is installed:
    "tag (members)" for tags at least two members have."""
    snapshot = getattr(app.services.get("scoring"), "snapshot", None)
    if snapshot is None:
        return None
    try:
        it = (await snapshot(group)).interests
        if it is None:
            return None
        counts = (it.members > 0).sum(axis=0)
    except Exception:
        log.exception("scoring snapshot failed; falling back to word counts")
        return None
    order = sorted(range(len(it.tags)), key=lambda j: (-int(counts[j]), it.tags[j]))
    return [f"{it.tags[j]} ({int(counts[j])})" for j in order if counts[j] >= 2][:8]


async def planning_hint(app, group: GroupInfo, lang: str, days: int = 30) -> str:
    """Best hours, weekdays and shared topics over the last `days` days."""
    zone = await zone_of(app, group)
    now = app.clock.now()
    evs = await app.store.events(group.pk, now - timedelta(days=days), now, kinds=[EventKind.MESSAGE])
    evs = [e for e in evs if not e.is_bot]
    if len(evs) < 10:
        return i18n.t(lang, "plan.too_little", n=len(evs))
    hours, wdays, slots = Counter(), Counter(), Counter()
    members_by_term: dict[str, set[str]] = defaultdict(set)
    for e in evs:
        local = e.time.astimezone(zone)
        hours[local.hour] += 1
        wdays[local.weekday()] += 1
        slots[(local.weekday(), local.hour)] += 1
        for term in _terms(e.text):
            members_by_term[term].add(e.member_id or "")
    names = [i18n.t(lang, f"plan.day{d}") for d in range(7)]
    top_hours = ", ".join(f"{h:02d}:00 ({n})" for h, n in hours.most_common(3))
    top_days = ", ".join(f"{names[d]} ({n})" for d, n in wdays.most_common(3))
    (bd, bh), _ = slots.most_common(1)[0]
    tags = await _scoring_tags(app, group)
    if tags is None:
        shared = sorted(members_by_term.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        tags = [f"{t} ({len(m)})" for t, m in shared if len(m) >= 2][:8]
    return "\n".join([
        i18n.t(lang, "plan.header", days=days, n=len(evs), zone=zone.key),
        i18n.t(lang, "plan.hours", hours=top_hours),
        i18n.t(lang, "plan.days", days=top_days),
        i18n.t(lang, "plan.best", day=names[bd], hour=f"{bh:02d}:00"),
        i18n.t(lang, "plan.topics", topics=", ".join(tags) or "—"),
    ])


async def _plan(ctx: Ctx) -> str:
    return await planning_hint(ctx.app, ctx.group, ctx.lang)


def register(app) -> None:
    """Register the event job handlers and /plan."""
    sched = scheduler_of(app)
    sched.handler("event_reminder")(event_reminder)
    sched.handler("event_start")(event_start)
    app.router.command("plan", usage="/plan", help_key="cmd.help.plan", admin=True)(_plan)
