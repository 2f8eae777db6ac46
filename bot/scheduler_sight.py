"""A group's schedules written the first time this process sees it, off the message path.

Writing them (three schedules: a read, an upsert, three APScheduler jobs) cost 1.5 ms of
the loop per new group (`bench/load.py`: 25 new groups per worker in its first 100 ms,
which with the other first sights queued every message of that time past 20 ms). The
message that reveals a group now only notes it; a background task writes the noted
groups `DELAY` seconds later, one at a time with `SPACING` between them, so the work
lands where the loop has room. The schedules are weekly, monthly and daily posts: a
second's delay changes nothing. `Scheduler.stop` writes what is still noted, and the
leader's `run_due` writes what is noted first, with the time each group was seen, as the
first sight itself did.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.scheduler import Scheduler
    from storage.store import GroupInfo

log = logging.getLogger(__name__)

#: Seconds from a group's first message to its schedules being written.
DELAY = 1.0

#: Seconds between two noted groups' writes.
SPACING = 0.02


class FirstSights:
    """Groups seen for the first time whose schedules are still to be written."""

    def __init__(self, sched: Scheduler) -> None:
        self.sched = sched
        #: pk → (group, when it was seen: its schedules start from then, as if written then)
        self.noted: dict[int, tuple[GroupInfo, datetime]] = {}
        self._task: asyncio.Task | None = None

    def note(self, group: GroupInfo) -> None:
        """Remember `group` (a message of it was just handled) unless it is written already."""
        if group.pk in self.sched.seen or group.pk in self.noted:
            return
        self.noted[group.pk] = (group, self.sched.app.clock.now())
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        await asyncio.sleep(DELAY)
        while self.noted:
            pk = next(iter(self.noted))
            await self._sync(*self.noted[pk])
            if self.noted:
                await asyncio.sleep(SPACING)

    async def _sync(self, group: GroupInfo, seen_at: datetime) -> None:
        sched = self.sched
        try:
            if group.pk not in sched.seen:
                await sched.first_sight.do(group.pk, lambda: sched.sync_group(group, seen_at))
                sched.seen.add(group.pk)
        except Exception:  # the leader's run_due writes it later; the next message retries
            log.warning("writing the schedules of group %s failed", group.pk, exc_info=True)
        finally:
            self.noted.pop(group.pk, None)

    async def flush(self) -> None:
        """Write every noted group's schedules now (before `sync_all`, and when the
        scheduler stops)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for group, seen_at in list(self.noted.values()):
            await self._sync(group, seen_at)


async def first_sight_step(app, turn) -> None:
    """Pipeline step: note a group this process has not written the schedules of."""
    from bot.scheduler import scheduler_of

    scheduler_of(app).sights.note(turn.group)
