"""The scheduler: schedules kept in our own tables, each occurrence claimed once.

A schedule is a row (`storage.agenda.Schedule`): a stable job id, a kind, a cron spec in
the group's time zone or a date, a grace time. Handlers for each kind are registered
with `Scheduler.handler(kind)`. One method does the work, deterministically:

    await scheduler.run_due(now)    # run every occurrence due at `now`, once

For each schedule it finds the newest occurrence at or before `now`; if that occurrence
is not claimed yet in `job_runs` it is claimed (a unique run key: job id + occurrence
time) and run, or, when later than the grace time, claimed as skipped with a log line.
Older missed occurrences are coalesced into that one. Because the claim is a unique row,
a restart, a crash after posting, or a second instance never posts or awards twice.

In production APScheduler 3.11's `AsyncIOScheduler` drives it: at start the jobs are
rebuilt from the rows (stable ids, `replace_existing=True`, coalesce, misfire grace) and
each fire calls `run_schedule` with the app's clock; a catch-up `run_due` at start runs
what was missed while the bot was down. Tests drive a `FakeClock` and call `run_due`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import FakeClock
from bot.scheduler_sight import FirstSights
from bot.scheduler_spec import SchedulerSettings, last_fire, make_trigger, run_key
from storage.agenda import Agenda, ScheduleInfo
from storage.leader import LeaderLock
from storage.once import SingleFlight
from storage.store import GroupInfo

log = logging.getLogger(__name__)

JobHandler = Callable[["object", GroupInfo, ScheduleInfo, datetime], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class RunRecord:
    """What `run_due` did with one occurrence: status "ran", "skipped" or "failed"."""

    job_id: str
    kind: str
    fire: datetime
    status: str
    detail: str = ""


class Scheduler:
    """Runs the app's scheduled jobs; see the module docstring."""

    def __init__(self, app) -> None:
        self.app = app
        self._agenda: Agenda | None = None
        self.started = False
        self._needs_aps = False
        self.handlers: dict[str, JobHandler] = {}
        #: Features' recurring schedules per group: fn(app, group) → [(kind, spec,
        #: enabled, timezone, grace seconds)], written with the scheduler's own.
        self.group_syncs: list[Callable] = []
        #: Kinds not written at all while disabled (a group that never turned them on).
        self.optional_kinds: set[str] = set()
        self.aps: AsyncIOScheduler | None = None
        #: Groups whose schedules this process has written already.
        self.seen: set[int] = set()
        self._lock: LeaderLock | None = None
        self._last_try: float | None = None
        #: Whether this process runs the jobs (see `lead`).
        self.leading = False
        #: Concurrent first sights of one group share one `sync_group`.
        self.first_sight = SingleFlight()
        #: Groups seen for the first time, their schedules still to write (`bot.scheduler_sight`).
        self.sights = FirstSights(self)

    @property
    def agenda(self) -> Agenda:
        """Access to the schedule, job-run and event tables (created on first use)."""
        if self._agenda is None:
            self._agenda = Agenda(self.app.store.engine)
        return self._agenda

    @property
    def lock(self) -> LeaderLock:
        """The advisory lock that elects one scheduler among processes on one PostgreSQL."""
        if self._lock is None or self._lock.engine is not self.app.store.engine:
            self._lock = LeaderLock(self.app.store.engine)
        return self._lock

    async def lead(self, now: datetime | None = None) -> bool:
        """Whether this process runs the jobs: on PostgreSQL the one holding the advisory
        lock (`storage.leader`), retried every `standby_seconds` by the others; on SQLite
        always; among shard workers (`bot.shards`) only the primary, since on SQLite
        every process would lead. Each occurrence is claimed under a unique key as well."""
        if not getattr(self.app, "primary", True):
            self.leading = False
            return False
        lock = self.lock
        if lock.held and await lock.check():
            self.leading = True
            return True
        ts = (now or self.app.clock.now()).timestamp()
        retry = self.app.config.section("scheduler").standby_seconds
        if self._last_try is not None and 0 <= ts - self._last_try < retry:
            return False
        self._last_try = ts
        was = self.leading
        try:
            self.leading = await lock.acquire()
        except Exception:
            log.warning("could not ask the database who runs the scheduler; will retry", exc_info=True)
            self.leading = False
        if self.leading and not was and lock.exclusive:
            log.info("this process now runs the scheduled jobs (it holds the PostgreSQL advisory lock)")
        return self.leading

    def handler(self, kind: str) -> Callable[[JobHandler], JobHandler]:
        """Register the coroutine that runs jobs of `kind`: fn(app, group, schedule, fire)."""

        def deco(fn: JobHandler) -> JobHandler:
            self.handlers[kind] = fn
            return fn

        return deco

    # -- schedules from settings --------------------------------------------------
    async def sync_group(self, group: GroupInfo, now: datetime | None = None, existing: dict | None = None) -> None:
        """Write the group's recurring schedules from its current settings.

        `existing` maps job ids to stored schedules (default: the group's, read in one
        query). What changed is written in one transaction through the store's group
        commit: a first sight used to cost a read, a transaction and a re-read per
        schedule (~11 ms of the loop per new group), and its writes, outside the queue,
        waited on SQLite's write lock behind the queue's rounds.
        """
        from bot.points import group_zone

        now = now or self.app.clock.now()
        if existing is None:
            existing = {s.job_id: s for s in await self.agenda.schedules(enabled_only=False, group_pk=group.pk)}
        stored = await self.app.store.get_settings(group.pk)
        cfg: SchedulerSettings = self.app.config.for_group("scheduler", group.platform, group.group_id, stored)
        tz = group_zone(group.timezone or self.app.config.for_group("bot", group.platform, group.group_id, stored).timezone).key
        grace = cfg.grace_minutes * 60.0
        wanted = [
            ("weekly_board", {"day_of_week": cfg.weekly_day, "hour": cfg.weekly_hour, "minute": 0}, cfg.weekly_board, tz, grace),
            ("monthly_bonus", {"day": cfg.monthly_day, "hour": cfg.monthly_hour, "minute": 0}, bool(cfg.monthly_bonus), tz, grace),
            ("daily_digest", {"hour": cfg.digest_hour, "minute": 0}, cfg.daily_digest, tz, grace),
        ]
        for fn in self.group_syncs:
            wanted.extend(await fn(self.app, group))
        changed: list[ScheduleInfo] = []
        for kind, spec, on, zone, grace_s in wanted:
            job_id = f"{kind}:{group.pk}"
            old = existing.get(job_id)
            if old and old.spec == spec and old.timezone == zone and old.enabled == on and old.grace == grace_s:
                continue
            if old is None and not on and kind in self.optional_kinds:
                continue  # never written and not wanted: nothing to disable
            changed.append(ScheduleInfo(job_id, group.pk, kind, "cron", spec, zone, {}, grace_s, on,
                                        old.created_ts if old else now.timestamp()))
        if not changed:
            return
        upserts = [self.agenda.schedule_upsert(s.job_id, s.group_pk, s.kind, s.trigger, s.spec, s.timezone, None,
                                               s.grace, now.timestamp(), enabled=s.enabled) for s in changed]

        async def write(conn) -> None:
            await conn.execute(upserts[0][0], [params for _, params in upserts])

        await self.app.store.writes.run(write)
        for s in changed:
            existing[s.job_id] = s
            await self._put_job(s)

    async def sync_all(self, now: datetime | None = None) -> None:
        """Write every active group's recurring schedules."""
        await self.sights.flush()  # first, with the times those groups were first seen
        existing = {s.job_id: s for s in await self.agenda.schedules(enabled_only=False)}
        for g in await self.app.store.groups():
            if g.active:
                await self.sync_group(g, now, existing)

    async def run_due(self, now: datetime | None = None, sync: bool = True) -> list[RunRecord]:
        """Run every occurrence due at `now` that nobody ran yet (see module docstring).

        `sync` first rewrites the recurring schedules from the current settings.
        """
        now = now or self.app.clock.now()
        if not await self.lead(now):
            return []
        if sync:
            await self.sync_all(now)
        due = []
        for s in await self.agenda.schedules():
            fire = self._due(s, now)
            if fire is not None:
                due.append((s, fire, run_key(s, fire)))
        if not due:
            return []
        claimed = await self.agenda.claimed([k for _, _, k in due])
        out = []
        for s, fire, key in due:
            if key not in claimed:
                rec = await self._run(s, fire, key, now)
                if rec is not None:
                    out.append(rec)
        return out

    async def run_schedule(self, s: ScheduleInfo, now: datetime) -> RunRecord | None:
        """Run schedule `s`'s newest occurrence at or before `now` if not yet claimed."""
        fire = self._due(s, now)
        if fire is None or not await self.lead(now):
            return None
        key = run_key(s, fire)
        if await self.agenda.is_claimed(key):
            return None
        return await self._run(s, fire, key, now)

    @staticmethod
    def _due(s: ScheduleInfo, now: datetime) -> datetime | None:
        fire = last_fire(s, now)
        # Occurrences before the schedule existed were never missed.
        if fire is None or fire.timestamp() <= s.created_ts:
            return None
        return fire

    async def _run(self, s: ScheduleInfo, fire: datetime, key: str, now: datetime) -> RunRecord | None:
        late = (now - fire).total_seconds()
        if late > s.grace:
            if await self.agenda.claim(key, s.job_id, s.group_pk, fire.timestamp(), now.timestamp(), "skipped", f"late {late:.0f}s"):
                log.warning("skipping %s due %s: %.0f s late, grace %.0f s", s.job_id, fire.isoformat(), late, s.grace)
                self.app.metrics.scheduler_misses.labels(s.kind).inc()
                return RunRecord(s.job_id, s.kind, fire, "skipped", f"late {late:.0f}s")
            return None
        if not await self.agenda.claim(key, s.job_id, s.group_pk, fire.timestamp(), now.timestamp()):
            return None  # another instance got there first
        handler = self.handlers.get(s.kind)
        group = await self._group(s.group_pk)
        if handler is None or group is None:
            log.error("no handler or group for %s", s.job_id)
            return RunRecord(s.job_id, s.kind, fire, "failed", "no handler")
        try:
            detail = await handler(self.app, group, s, fire) or ""
        except Exception as exc:
            log.exception("job %s failed", s.job_id)
            return RunRecord(s.job_id, s.kind, fire, "failed", repr(exc))
        log.info("ran %s for %s: %s", s.job_id, fire.isoformat(), detail)
        self.app.metrics.scheduler_runs.labels(s.kind).inc()
        return RunRecord(s.job_id, s.kind, fire, "ran", detail)

    async def _group(self, pk: int) -> GroupInfo | None:
        return next((g for g in await self.app.store.groups() if g.pk == pk), None)

    # -- APScheduler (production) -----------------------------------------------------
    async def start(self, now: datetime | None = None) -> None:
        """Catch up on what was missed, then (real clock only) let APScheduler drive."""
        cfg: SchedulerSettings = self.app.config.section("scheduler")
        try:
            await self.run_due(now)
        except Exception:
            # Start anyway (the database may be away): the resync job catches up later.
            log.exception("scheduler catch-up at start failed; retrying every 10 minutes")
        # Shard workers other than the primary never lead, so they need no timers.
        self._needs_aps = cfg.enabled and not isinstance(self.app.clock, FakeClock) and getattr(self.app, "primary", True)
        if self._needs_aps:
            self.start_apscheduler()
        self.started = True

    @property
    def running(self) -> bool:
        """For /readyz: started, and APScheduler running where it drives the jobs (a
        fake clock's scheduler is driven by `run_due` instead)."""
        if not self.started:
            return False
        return self.aps.running if self.aps is not None else not self._needs_aps

    def start_apscheduler(self) -> AsyncIOScheduler:
        """Start `AsyncIOScheduler` with one job per schedule row (call in a running loop)."""
        self.aps = AsyncIOScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1})
        self.aps.add_job(self._resync, IntervalTrigger(minutes=10), id="scheduler:resync", replace_existing=True)
        standby = self.app.config.section("scheduler").standby_seconds
        self.aps.add_job(self._standby, IntervalTrigger(seconds=standby), id="scheduler:standby", replace_existing=True)
        self.aps.start()
        return self.aps

    async def load_jobs(self) -> int:
        """(Re)build every APScheduler job from the schedule rows; returns the count."""
        n = 0
        for s in await self.agenda.schedules(enabled_only=False):
            n += await self._put_job(s)
        return n

    async def refresh(self, job_id: str) -> None:
        """Re-read one schedule row into APScheduler after it changed."""
        if self.aps is None:
            return
        s = await self.agenda.schedule(job_id)
        if s is None:
            if self.aps.get_job(job_id):
                self.aps.remove_job(job_id)
            return
        await self._put_job(s)

    async def _put_job(self, s: ScheduleInfo) -> int:
        if self.aps is None:
            return 0
        now = self.app.clock.now()
        if not s.enabled or (s.trigger == "date" and last_fire(s, now) is not None):
            if self.aps.get_job(s.job_id):
                self.aps.remove_job(s.job_id)
            return 0
        self.aps.add_job(
            self.fire, make_trigger(s), args=[s.job_id], id=s.job_id, name=s.kind,
            replace_existing=True, coalesce=True, misfire_grace_time=max(1, int(s.grace)),
        )
        return 1

    async def fire(self, job_id: str) -> RunRecord | None:
        """APScheduler's callback for job `job_id`: run its occurrence due now, once."""
        s = await self.agenda.schedule(job_id)
        if s is None or not s.enabled:
            return None
        return await self.run_schedule(s, self.app.clock.now())

    async def _standby(self) -> None:
        # A standby process takes over when the leader's session ends, and catches up
        # on what came due meanwhile (within each job's grace time). On SQLite every
        # process leads from the start, so there is nothing to take over.
        if self.lock.exclusive and not self.leading and await self.lead():
            await self.run_due()

    async def _resync(self) -> None:
        # Settings may have changed (/config set), and APScheduler drops a fire that
        # comes later than its misfire grace (a blocked loop): catch up from the table.
        await self.run_due()
        await self.load_jobs()

    async def stop(self) -> None:
        """Write the schedules of groups first seen just now; stop APScheduler (jobs in
        flight finish)."""
        await self.sights.flush()
        if self.aps is not None and self.aps.running:
            self.aps.shutdown(wait=False)
        self.aps = None
        self.started = False
        if self._lock is not None:
            await self._lock.release()
        self.leading = False


def scheduler_of(app) -> Scheduler:
    """The app's `Scheduler` (created on first use)."""
    s = app.services.get("scheduler")
    if s is None:
        s = app.services["scheduler"] = Scheduler(app)
    return s


async def _on_start(app) -> None:
    sched = scheduler_of(app)
    await sched.start()
    if sched.aps is not None:
        await sched.load_jobs()


async def _on_stop(app) -> None:
    await scheduler_of(app).stop()


def install(app) -> None:
    """Create the scheduler, its start/stop hooks and the recurring jobs."""
    from bot import jobs
    from bot.scheduler_sight import first_sight_step

    scheduler_of(app)
    app.on_start.append(_on_start)
    app.on_stop.append(_on_stop)
    app.pipeline.add_step("scheduler", first_sight_step)
    jobs.register(app)
