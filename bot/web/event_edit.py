"""Editing a community event from the dashboard (chat has no command for it).

Changes the event's row, moves its reminder and start schedules with the points
feature's own `schedule_event`, and edits the announcement in the chat with its own
`announcement` text, so members see the new time and RSVPs keep counting.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update

from adapters.base import Reply


async def edit_event(app, group, ev, title: str, when: str, minutes: int, description: str, actor: str) -> None:
    """Set title, start ("YYYY-MM-DD HH:MM" in the group's zone), length and description."""
    from bot.community import announcement, schedule_event
    from bot.points import zone_of
    from bot.scheduler import scheduler_of
    from storage.agenda import CommunityEvent

    zone = await zone_of(app, group)
    try:
        local = datetime.strptime(when, "%Y-%m-%d %H:%M")
    except ValueError:
        raise ValueError(f"date and time must be YYYY-MM-DD HH:MM, got {when!r}") from None
    start = local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))
    now = app.clock.now()
    if start <= now:
        raise ValueError("the new start time is in the past")
    sched = scheduler_of(app)
    async with app.store.engine.begin() as conn:
        await conn.execute(
            update(CommunityEvent)
            .where(CommunityEvent.id == ev.id, CommunityEvent.group_pk == group.pk)
            .values(title=title, description=description, start_ts=start.timestamp(), end_ts=start.timestamp() + minutes * 60)
        )
    prefix = f"event:{ev.id}:"
    old = [s.job_id for s in await sched.agenda.schedules(enabled_only=True, group_pk=group.pk) if s.job_id.startswith(prefix)]
    await sched.agenda.disable_schedules(prefix)
    for job_id in old:
        await sched.refresh(job_id)
    fresh = await sched.agenda.event(group.pk, ev.id)
    await schedule_event(app, group, fresh, now)
    if fresh.announce_message_id:
        lang = await app.language(group)
        text, buttons = await announcement(app, group, fresh, lang)
        await app.send(Reply(group.platform, group.group_id, text, channel_id=fresh.channel_id, buttons=buttons, edit_message_id=fresh.announce_message_id))
    await app.store.audit(group.pk, actor, "events.edit", {"id": ev.id, "title": title, "start": start.isoformat(), "minutes": minutes})
