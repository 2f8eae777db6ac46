"""The scheduler's settings section and when a schedule fires.

`last_fire` finds a schedule's newest occurrence at or before a moment (the one
`Scheduler.run_due` claims), `run_key` names that occurrence uniquely in `job_runs`, and
`make_trigger` gives APScheduler the same schedule as a trigger. Split from
`bot.scheduler`, which runs the jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.config import register_section, setting
from storage.agenda import ScheduleInfo

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class SchedulerSettings:
    """Recurring posts: weekly leaderboard, monthly bonus, daily moderator digest."""

    enabled: bool = setting(True, "Run scheduled jobs (APScheduler) while the bot runs.")
    weekly_board: bool = setting(True, "Post the weekly points leaderboard.")
    weekly_day: str = setting("mon", "Day of the weekly leaderboard (mon … sun), group time zone.")
    weekly_hour: int = setting(9, "Hour of the weekly leaderboard (0-23), group time zone.")
    weekly_size: int = setting(10, "Members on the weekly leaderboard.")
    monthly_bonus: list[int] = setting([100, 50, 25], "Bonus points for last month's top 1, 2, 3 … (empty: off).")
    monthly_day: int = setting(1, "Day of month of the monthly bonus post (1-28).")
    monthly_hour: int = setting(9, "Hour of the monthly bonus post, group time zone.")
    daily_digest: bool = setting(True, "Send moderators a daily digest.")
    digest_hour: int = setting(8, "Hour of the moderator digest, group time zone.")
    quiet_days: int = setting(7, "Days without a message after which an active member counts as going quiet.")
    post_channel: str = setting("", "Channel for scheduled posts (empty: the group's main chat).")
    grace_minutes: int = setting(60, "A missed recurring post still runs this late after a restart.")
    standby_seconds: float = setting(30.0, "Several processes on one PostgreSQL: one runs the jobs (it holds an advisory lock); the others try to take over this often.")

    def check(self) -> str | None:
        """Validate days and hours."""
        if self.weekly_day not in _DAYS:
            return f"weekly_day must be one of {', '.join(_DAYS)}, got {self.weekly_day!r}"
        for key in ("weekly_hour", "monthly_hour", "digest_hour"):
            if not 0 <= getattr(self, key) <= 23:
                return f"{key} must be 0-23, got {getattr(self, key)}"
        if not 1 <= self.monthly_day <= 28:
            return f"monthly_day must be 1-28, got {self.monthly_day}"
        if self.standby_seconds <= 0:
            return f"standby_seconds must be positive, got {self.standby_seconds}"
        return None


register_section("scheduler", SchedulerSettings)


def _lookback(s: ScheduleInfo) -> timedelta:
    if "day" in s.spec:
        return timedelta(days=33)
    if "day_of_week" in s.spec:
        return timedelta(days=8)
    return timedelta(days=2)


@lru_cache(maxsize=4096)
def _cron(spec: tuple, timezone: str) -> CronTrigger:
    return CronTrigger(timezone=timezone, **dict(spec))


def run_key(s: ScheduleInfo, fire: datetime) -> str:
    """The unique key of one occurrence: job id and occurrence time."""
    return f"{s.job_id}@{fire.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def last_fire(s: ScheduleInfo, now: datetime) -> datetime | None:
    """The newest occurrence of schedule `s` at or before `now` (UTC), or None."""
    if s.trigger == "date":
        at = datetime.fromtimestamp(float(s.spec["at"]), UTC)
        return at if at <= now else None
    trig = _cron(tuple(sorted(s.spec.items())), s.timezone)
    prev = None
    t = trig.get_next_fire_time(None, now - _lookback(s))
    while t is not None and t <= now:
        prev = t
        t = trig.get_next_fire_time(None, t + timedelta(seconds=1))
    return prev.astimezone(UTC) if prev else None


def make_trigger(s: ScheduleInfo):
    """The APScheduler trigger for a schedule row."""
    if s.trigger == "date":
        return DateTrigger(run_date=datetime.fromtimestamp(float(s.spec["at"]), UTC))
    return CronTrigger(timezone=s.timezone, **s.spec)
