"""Community events with RSVPs, the scheduler's schedules and its job-run keys.

The scheduler keeps its schedules here rather than in APScheduler's pickling job store:
a schedule is data (a cron spec or a date, a time zone, a payload), and the jobs are
rebuilt from these rows at start. Every occurrence a job handles is claimed first in
`job_runs` under a unique run key, so a restart or a second instance never repeats it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from storage import fastread
from storage.models import Base

RSVP_STATES = ("going", "maybe", "no")


#: Columns a schedule's upsert rewrites when the job id exists (not its creation time).
_UPSERT_SET = ("group_pk", "kind", "trigger", "spec", "timezone", "payload", "grace", "enabled", "updated_ts")


class CommunityEvent(Base):
    """A meetup, webinar or office hour a group plans."""

    __tablename__ = "community_events"
    __table_args__ = (
        UniqueConstraint("group_pk", "create_key", name="uq_cevents_group_key"),
        Index("ix_cevents_group_start", "group_pk", "start_ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    start_ts: Mapped[float] = mapped_column(Float)
    end_ts: Mapped[float] = mapped_column(Float)
    channel_id: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_ts: Mapped[float] = mapped_column(Float)
    #: "scheduled" or "cancelled".
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    #: The command event that created it: a redelivered /event add creates nothing.
    create_key: Mapped[str] = mapped_column(String(200))
    announce_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Rsvp(Base):
    """A member's answer to an event: going, maybe or no; `remind` asks for a DM."""

    __tablename__ = "event_rsvps"
    __table_args__ = (UniqueConstraint("event_id", "member_id", name="uq_rsvps_event_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("community_events.id", ondelete="CASCADE"))
    member_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    remind: Mapped[bool] = mapped_column(Boolean, default=False)
    ts: Mapped[float] = mapped_column(Float)


class Schedule(Base):
    """One job the scheduler runs: `trigger` "cron" (spec: day_of_week, day, hour,
    minute, in `timezone`) or "date" (spec: {"at": epoch seconds})."""

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("job_id", name="uq_schedules_job"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(128))
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    trigger: Mapped[str] = mapped_column(String(16))
    spec: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    payload: Mapped[str] = mapped_column(Text, default="")
    #: Seconds after its time that a missed occurrence may still run.
    grace: Mapped[float] = mapped_column(Float, default=3600.0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Occurrences before this are not "missed": the schedule did not exist yet.
    created_ts: Mapped[float] = mapped_column(Float)
    updated_ts: Mapped[float] = mapped_column(Float)


class JobRun(Base):
    """A claimed occurrence of a job (posted, awarded, or skipped as missed)."""

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("run_key", name="uq_job_runs_key"),
        Index("ix_job_runs_job", "job_id", "fire_ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_key: Mapped[str] = mapped_column(String(200))
    job_id: Mapped[str] = mapped_column(String(128))
    group_pk: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fire_ts: Mapped[float] = mapped_column(Float)
    ran_ts: Mapped[float] = mapped_column(Float)
    #: "ran" or "skipped" (missed beyond its grace time).
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True, slots=True)
class ScheduleInfo:
    """A schedule row as the scheduler uses it."""

    job_id: str
    group_pk: int
    kind: str
    trigger: str
    spec: dict[str, Any]
    timezone: str
    payload: dict[str, Any]
    grace: float
    enabled: bool
    created_ts: float


def _info(r: Schedule) -> ScheduleInfo:
    return ScheduleInfo(
        r.job_id, r.group_pk, r.kind, r.trigger, json.loads(r.spec or "{}"), r.timezone,
        json.loads(r.payload or "{}"), r.grace, r.enabled, r.created_ts,
    )


class Agenda:
    """Access to community events, RSVPs, schedules and job runs."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._pg = engine.dialect.name == "postgresql"
        self._upsert: Any = None  # `schedule_upsert`'s statement, built on first use

    def _insert(self, table):
        return (postgresql.insert if self._pg else sqlite.insert)(table)

    # -- community events ----------------------------------------------------------
    async def create_event(
        self, group_pk: int, title: str, start_ts: float, end_ts: float, description: str,
        channel_id: str, created_by: str | None, create_key: str, now: float,
    ) -> tuple[CommunityEvent, bool]:
        """Create an event once per `create_key`; returns (event, created_now)."""
        stmt = self._insert(CommunityEvent.__table__).values(
            group_pk=group_pk, title=title, description=description, start_ts=start_ts,
            end_ts=end_ts, channel_id=channel_id, created_by=created_by, created_ts=now,
            status="scheduled", create_key=create_key,
        ).on_conflict_do_nothing(index_elements=["group_pk", "create_key"]).returning(CommunityEvent.__table__.c.id)
        async with self.engine.begin() as conn:
            new = (await conn.execute(stmt)).first() is not None
            ev = (await conn.execute(select(CommunityEvent).where(
                CommunityEvent.group_pk == group_pk, CommunityEvent.create_key == create_key
            ))).one()
        return ev, new

    async def event(self, group_pk: int, event_id: int) -> CommunityEvent | None:
        """One event of the group."""
        async with self.engine.connect() as conn:
            return (await conn.execute(select(CommunityEvent).where(
                CommunityEvent.id == event_id, CommunityEvent.group_pk == group_pk
            ))).first()

    async def events(self, group_pk: int, ending_after: float, include_cancelled: bool = False) -> list[CommunityEvent]:
        """The group's events that end after `ending_after`, soonest first."""
        q = select(CommunityEvent).where(CommunityEvent.group_pk == group_pk, CommunityEvent.end_ts > ending_after)
        if not include_cancelled:
            q = q.where(CommunityEvent.status == "scheduled")
        async with self.engine.connect() as conn:
            return list((await conn.execute(q.order_by(CommunityEvent.start_ts))).all())

    async def set_announcement(self, event_id: int, message_id: str | None) -> None:
        """Remember the announcement message, whose RSVP counts are edited live."""
        async with self.engine.begin() as conn:
            await conn.execute(update(CommunityEvent).where(CommunityEvent.id == event_id).values(announce_message_id=message_id))

    async def cancel_event(self, group_pk: int, event_id: int) -> bool:
        """Cancel a scheduled event; False if there is none to cancel."""
        async with self.engine.begin() as conn:
            res = await conn.execute(update(CommunityEvent).where(
                CommunityEvent.id == event_id, CommunityEvent.group_pk == group_pk, CommunityEvent.status == "scheduled"
            ).values(status="cancelled"))
        return res.rowcount > 0

    async def rsvp(self, event_id: int, member_id: str, status: str, now: float) -> None:
        """Record or change a member's answer."""
        if status not in RSVP_STATES:
            raise ValueError(f"RSVP status must be one of {RSVP_STATES}, got {status!r}")
        stmt = self._insert(Rsvp.__table__).values(event_id=event_id, member_id=member_id, status=status, remind=False, ts=now)
        stmt = stmt.on_conflict_do_update(index_elements=["event_id", "member_id"], set_={"status": status, "ts": now})
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def set_remind(self, event_id: int, member_id: str, remind: bool, now: float) -> None:
        """Ask for (or stop) a private reminder; implies "going" if no answer yet."""
        stmt = self._insert(Rsvp.__table__).values(event_id=event_id, member_id=member_id, status="going", remind=remind, ts=now)
        stmt = stmt.on_conflict_do_update(index_elements=["event_id", "member_id"], set_={"remind": remind})
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def rsvps(self, event_id: int) -> list[Rsvp]:
        """Every answer to an event."""
        async with self.engine.connect() as conn:
            return list((await conn.execute(select(Rsvp).where(Rsvp.event_id == event_id).order_by(Rsvp.id))).all())

    async def rsvp_counts(self, event_id: int) -> dict[str, int]:
        """{"going": n, "maybe": n, "no": n}."""
        q = select(Rsvp.status, func.count()).where(Rsvp.event_id == event_id).group_by(Rsvp.status)
        async with self.engine.connect() as conn:
            counts = dict((await conn.execute(q)).all())
        return {s: int(counts.get(s, 0)) for s in RSVP_STATES}

    # -- schedules -----------------------------------------------------------------
    async def put_schedule(
        self, job_id: str, group_pk: int, kind: str, trigger: str, spec: dict, timezone: str,
        payload: dict | None, grace: float, now: float, enabled: bool = True,
    ) -> None:
        """Create or update a schedule by its stable job id."""
        stmt, params = self.schedule_upsert(job_id, group_pk, kind, trigger, spec, timezone, payload, grace, now, enabled)
        async with self.engine.begin() as conn:
            await conn.execute(stmt, params)

    def schedule_upsert(
        self, job_id: str, group_pk: int, kind: str, trigger: str, spec: dict, timezone: str,
        payload: dict | None, grace: float, now: float, enabled: bool = True,
    ) -> tuple[Any, dict]:
        """The statement `put_schedule` runs and its parameters, for a caller that batches
        several in one transaction (a group's first sight writes all its schedules at
        once, as one executemany). The statement is built once: with the values inlined,
        SQLAlchemy compiled it anew for every schedule, most of a new group's cost."""
        if self._upsert is None:
            ins = self._insert(Schedule.__table__)
            self._upsert = ins.on_conflict_do_update(index_elements=["job_id"], set_={c: ins.excluded[c] for c in _UPSERT_SET})
        return self._upsert, {
            "job_id": job_id, "created_ts": now, "group_pk": group_pk, "kind": kind, "trigger": trigger,
            "spec": json.dumps(spec, sort_keys=True), "timezone": timezone,
            "payload": json.dumps(payload or {}, sort_keys=True), "grace": grace, "enabled": enabled, "updated_ts": now,
        }

    async def disable_schedules(self, prefix: str) -> int:
        """Disable every schedule whose job id starts with `prefix`."""
        async with self.engine.begin() as conn:
            res = await conn.execute(update(Schedule).where(Schedule.job_id.startswith(prefix, autoescape=True)).values(enabled=False))
        return res.rowcount

    async def schedules(self, enabled_only: bool = True, group_pk: int | None = None) -> list[ScheduleInfo]:
        """Schedules by job id."""
        q = select(Schedule)
        if enabled_only:
            q = q.where(Schedule.enabled.is_(True))
        if group_pk is not None:
            q = q.where(Schedule.group_pk == group_pk)
        return [_info(r) for r in await fastread.rows(self.engine, q.order_by(Schedule.job_id))]

    async def schedule(self, job_id: str) -> ScheduleInfo | None:
        """One schedule by job id."""
        async with self.engine.connect() as conn:
            r = (await conn.execute(select(Schedule).where(Schedule.job_id == job_id))).first()
        return _info(r) if r else None

    async def moderators(self, group_pk: int) -> list[str]:
        """Members the store knows as owner, admin or moderator of the group."""
        from storage.models import GroupMember

        q = select(GroupMember.member_id).where(
            GroupMember.group_pk == group_pk, GroupMember.role.in_(("owner", "admin", "moderator"))
        ).order_by(GroupMember.member_id)
        async with self.engine.connect() as conn:
            return [m for (m,) in await conn.execute(q)]

    # -- job runs ------------------------------------------------------------------
    async def claim(self, run_key: str, job_id: str, group_pk: int | None, fire_ts: float, now: float, status: str = "ran", detail: str = "") -> bool:
        """Claim one occurrence; False if it was claimed before (by anyone)."""
        stmt = self._insert(JobRun.__table__).values(
            run_key=run_key, job_id=job_id, group_pk=group_pk, fire_ts=fire_ts, ran_ts=now, status=status, detail=detail,
        ).on_conflict_do_nothing(index_elements=["run_key"]).returning(JobRun.__table__.c.id)
        async with self.engine.begin() as conn:
            return (await conn.execute(stmt)).first() is not None

    async def is_claimed(self, run_key: str) -> bool:
        """Whether an occurrence was claimed already."""
        async with self.engine.connect() as conn:
            return (await conn.execute(select(JobRun.id).where(JobRun.run_key == run_key))).first() is not None

    async def claimed(self, run_keys: list[str]) -> set[str]:
        """Which of these occurrences were claimed already (one query per 500 keys)."""
        out: set[str] = set()
        async with self.engine.connect() as conn:
            for i in range(0, len(run_keys), 500):
                q = select(JobRun.run_key).where(JobRun.run_key.in_(run_keys[i:i + 500]))
                out.update(k for (k,) in await conn.execute(q))
        return out

    async def runs(self, job_id: str | None = None) -> list[JobRun]:
        """Claimed occurrences, oldest first (for tests, `/jobs` and the demo)."""
        q = select(JobRun)
        if job_id is not None:
            q = q.where(JobRun.job_id == job_id)
        async with self.engine.connect() as conn:
            return list((await conn.execute(q.order_by(JobRun.fire_ts, JobRun.id))).all())
