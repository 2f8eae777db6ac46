"""The weekly feedback summary to admins: themes (items per category), what is still
unanswered, and how fast admins answered. Claimed per group and ISO week before it is
sent, so a restart or a second process never sends it twice."""

from __future__ import annotations

import logging
import statistics
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.base import Reply
from bot import i18n
from storage.store import GroupInfo

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


def fmt_duration(seconds: float | None, lang: str) -> str:
    """A short human duration ("3 h 20 min", "2 d 4 h") or "—"."""
    if seconds is None:
        return "—"
    m = int(seconds // 60)
    d, rest = divmod(m, 1440)
    h, mins = divmod(rest, 60)
    zh = lang == "zh-CN"
    if d:
        return f"{d} 天 {h} 小时" if zh else f"{d} d {h} h"
    if h:
        return f"{h} 小时 {mins} 分钟" if zh else f"{h} h {mins} min"
    return f"{mins} 分钟" if zh else f"{mins} min"


async def weekly_summary(app: App, group: GroupInfo, now: datetime) -> dict:
    """Figures of the last 7 days: items per category, unanswered items, response times."""
    from bot.feedback import service

    fs = service(app).store
    since = (now - timedelta(days=7)).timestamp()
    week = await fs.feedback_items(group.pk, since=since, limit=10_000)
    open_items = await fs.feedback_items(group.pk, status="new", limit=10_000)
    themes = Counter(i["category"] or "" for i in week)
    waits = [i["first_response_ts"] - i["created_ts"] for i in week if i["first_response_ts"] is not None]
    return {
        "total": len(week),
        "themes": themes.most_common(),
        "unanswered": sorted(open_items, key=lambda i: i["created_ts"]),
        "median_response": statistics.median(waits) if waits else None,
        "answered": len(waits),
    }


async def summary_text(app: App, group: GroupInfo, now: datetime) -> str:
    """The summary in the group's language."""
    lang = await app.language(group)
    s = await weekly_summary(app, group, now)
    t = lambda key, **kw: i18n.t(lang, key, **kw)  # noqa: E731
    lines = [t("fb.sum.head", title=group.title or group.group_id), t("fb.sum.total", n=s["total"])]
    if s["themes"]:
        lines.append(t("fb.sum.themes"))
        lines += [f"• {cat or t('fb.uncategorised')}: {n}" for cat, n in s["themes"]]
    lines.append(t("fb.sum.response", n=s["answered"], median=fmt_duration(s["median_response"], lang)))
    lines.append(t("fb.sum.unanswered", n=len(s["unanswered"])))
    now_ts = now.timestamp()
    for item in s["unanswered"][:5]:
        text = " ".join(item["text"].split())[:80]
        lines.append(f"• #{item['id']} ({fmt_duration(now_ts - item['created_ts'], lang)}): {text}")
    return "\n".join(lines)


async def admins_of(app: App, group: GroupInfo) -> list[str]:
    """Who gets the summary privately: recorded owners/admins/moderators and anyone with
    a live dashboard session for the group."""
    from sqlalchemy import select

    from bot.feedback import service
    from storage.models import GroupMember

    async with app.store.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(GroupMember.member_id).where(
                    GroupMember.group_pk == group.pk, GroupMember.role.in_(("owner", "admin", "moderator"))
                )
            )
        ).all()
    ids = {r[0] for r in rows}
    ids |= {m for p, m in await service(app).store.session_members(group.pk, app.clock.now().timestamp()) if p == group.platform}
    return sorted(ids)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def maybe_send_summaries(app: App, now: datetime) -> int:
    """Send each group's weekly summary if it is due and not yet sent; returns how many."""
    from bot.feedback import service

    sent = 0
    for group in await app.store.groups():
        if not group.active:
            continue
        s = await app.settings("feedback", group)
        if not s.enabled:
            continue
        tz = group.timezone or (await app.settings("bot", group)).timezone
        local = now.astimezone(_zone(tz))
        if local.weekday() != s.summary_weekday or local.hour < s.summary_hour:
            continue
        iso = local.isocalendar()
        week = f"{iso.year}-W{iso.week:02d}"
        if not await service(app).store.feedback_items(group.pk, limit=1):
            continue  # a group that never had feedback gets no summary
        if not await service(app).store.claim_summary(group.pk, week, now.timestamp()):
            continue
        await send_summary(app, group, now, s.summary_chat)
        sent += 1
    return sent


async def send_summary(app: App, group: GroupInfo, now: datetime, chat: str = "") -> int:
    """Send the summary to `chat`, or privately to each admin; returns replies sent."""
    text = await summary_text(app, group, now)
    if chat:
        return int((await app.send(Reply(group.platform, chat, text))).ok)
    n = 0
    for member in await admins_of(app, group):
        try:
            n += int((await app.send(Reply(group.platform, group.group_id, text, private_to=member))).ok)
        except Exception:
            log.exception("feedback summary to %s failed", member)
    return n
