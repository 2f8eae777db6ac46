"""The recurring jobs: the weekly points leaderboard, the monthly top-contributors bonus
and the daily moderator digest.

Each is a scheduler handler `fn(app, group, schedule, fire)`; `fire` is the occurrence
being run (UTC), so a job computes its window from the occurrence, not from "now": the
same occurrence always covers the same week, whenever it runs. Awards use ledger keys
per month and member, so even a re-run could not pay twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from adapters.base import Reply
from bot import i18n
from bot.communities import scope_for
from bot.points import grant, zone_of
from bot.points_commands import leaderboard_lines, merged_lines
from bot.privacy import public_points_top
from storage.events import EventKind
from storage.store import GroupInfo

log = logging.getLogger(__name__)


async def weekly_board(app, group: GroupInfo, s, fire: datetime) -> str:
    """Post the points leaderboard of the 7 days before `fire`: the chat's own, or in a
    community's chat the board `/top` shows there by default (`scoring.top_scope`)."""
    cfg = await app.settings("scheduler", group)
    lang = await app.language(group)
    zone = await zone_of(app, group)
    since = fire - timedelta(days=7)
    scope = await scope_for(app, group, None, (await app.settings("scoring", group)).top_scope)
    if scope.merged:
        lines = await merged_lines(app, scope, since.timestamp(), cfg.weekly_size, group.platform, fire.timestamp())
    else:
        lines = await leaderboard_lines(app, group, since.timestamp(), fire.timestamp(), cfg.weekly_size)
    period = f"{since.astimezone(zone):%m-%d} – {(fire - timedelta(seconds=1)).astimezone(zone):%m-%d}"
    if lines:
        text = "\n".join([i18n.t(lang, "jobs.weekly_header", period=period), *lines, i18n.t(lang, "jobs.weekly_footer")])
    else:
        text = i18n.t(lang, "jobs.weekly_empty", period=period)
    await app.send(Reply(group.platform, group.group_id, text, channel_id=cfg.post_channel))
    return f"{len(lines)} members"


async def monthly_bonus(app, group: GroupInfo, s, fire: datetime) -> str:
    """Pay last month's top contributors their bonus and announce them."""
    cfg = await app.settings("scheduler", group)
    lang = await app.language(group)
    zone = await zone_of(app, group)
    this_month = fire.astimezone(zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    prev = (this_month - timedelta(days=1)).replace(day=1)
    # A public contest: members who opted out of public boards (and pseudonyms) take no part.
    rows = await public_points_top(app, group, prev.timestamp(), this_month.timestamp(), len(cfg.monthly_bonus),
                                   exclude=("monthly_bonus",))
    names = await app.store.member_names(group.platform)
    month = f"{prev:%Y-%m}"
    lines = []
    for i, (member, pts) in enumerate(rows):
        bonus = cfg.monthly_bonus[i]
        await grant(app, group, member, bonus, "monthly_bonus", f"monthly:{month}:{member}", when=fire,
                    note=f"#{i + 1} {month}", channel_id=cfg.post_channel)
        lines.append(i18n.t(lang, "jobs.monthly_line", rank=i + 1, name=names.get(member) or member, points=pts, bonus=bonus))
    if not lines:
        return "nobody earned points"
    text = "\n".join([i18n.t(lang, "jobs.monthly_header", month=month), *lines])
    await app.send(Reply(group.platform, group.group_id, text, channel_id=cfg.post_channel))
    return f"{len(lines)} bonuses"


async def open_flags(app, group: GroupInfo) -> int | None:
    """Open moderation flags of the group, if the moderation feature is installed."""
    mod = app.services.get("moderation")
    store = getattr(mod, "store", None)
    if store is None or not hasattr(store, "flags"):
        return None
    try:
        return len(await store.flags(group.pk, status="open", limit=10_000))
    except Exception:
        log.exception("counting open flags failed")
        return None


async def digest_text(app, group: GroupInfo, fire: datetime, lang: str) -> str:
    """The moderator digest for the day before `fire`."""
    cfg = await app.settings("scheduler", group)
    names = await app.store.member_names(group.platform)
    joins = await app.store.events(group.pk, fire - timedelta(days=1), fire, kinds=[EventKind.JOIN])
    quiet = timedelta(days=cfg.quiet_days)
    recent = await app.store.events(group.pk, fire - 2 * quiet, fire, kinds=[EventKind.MESSAGE, EventKind.LEAVE])
    before: dict[str, int] = {}
    lately: set[str] = set()
    for e in recent:
        if e.member_id is None or e.is_bot:
            continue
        if e.kind is EventKind.LEAVE or e.time >= fire - quiet:
            lately.add(e.member_id)  # still talking, or gone (not "going quiet")
        else:
            before[e.member_id] = before.get(e.member_id, 0) + 1
    # Going quiet: a regular (3+ messages the period before) with nothing since.
    going_quiet = sorted((m for m, n in before.items() if n >= 3 and m not in lately), key=lambda m: (-before[m], m))[:10]
    lines = [i18n.t(lang, "jobs.digest_header", title=group.title or group.group_id)]
    new = sorted({names.get(e.member_id) or e.member_id for e in joins if e.member_id})
    lines.append(i18n.t(lang, "jobs.digest_new", n=len(new), names=", ".join(new) or "—"))
    flags = await open_flags(app, group)
    if flags is not None:
        lines.append(i18n.t(lang, "jobs.digest_flags", n=flags))
    quiet_names = ", ".join(f"{names.get(m) or m} ({before[m]})" for m in going_quiet) or "—"
    lines.append(i18n.t(lang, "jobs.digest_quiet", n=len(going_quiet), days=cfg.quiet_days, names=quiet_names))
    return "\n".join(lines)


async def daily_digest(app, group: GroupInfo, s, fire: datetime) -> str:
    """Send the digest to the admin channel, or privately to each known moderator."""
    pcfg = await app.settings("points", group)
    lang = await app.language(group)
    text = await digest_text(app, group, fire, lang)
    if pcfg.admin_channel:
        await app.send(Reply(group.platform, group.group_id, text, channel_id=pcfg.admin_channel))
        return "admin channel"
    from bot.scheduler import scheduler_of

    mods = await scheduler_of(app).agenda.moderators(group.pk)
    for m in mods:
        await app.send(Reply(group.platform, group.group_id, text, private_to=m))
    if not mods:
        log.info("digest for %s: no admin_channel and no known moderators; not sent", group.group_id)
    return f"{len(mods)} moderators"


def register(app) -> None:
    """Register the recurring job handlers on the app's scheduler."""
    from bot.scheduler import scheduler_of

    sched = scheduler_of(app)
    sched.handler("weekly_board")(weekly_board)
    sched.handler("monthly_bonus")(monthly_bonus)
    sched.handler("daily_digest")(daily_digest)
