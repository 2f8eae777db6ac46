"""The community's stage (creation, growth, maturity, decline) from weekly series, with
the rule and the numbers that decided it.

`weekly_series(frame, now)` builds the series from events; `stage(series)` applies the
rules, which read like this:

- **creation**: under `min_weeks` weeks of history, or fewer than `min_active` active
  members in the latest week: too young or too small to have a trend.
- **growth**: active members grow by more than `trend` per week (least-squares slope of
  log(active) over the last `window` weeks), or new members are more than
  `new_share` of the active ones.
- **decline**: active members shrink by more than `trend` per week, or messages per
  active member fall by more than `trend` per week while retention is below
  `retention_floor`.
- **maturity**: everything else: a stable base.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scoring.frame import JOIN, MESSAGE, REACTION, EventFrame

WEEK = 7 * 86400.0


@dataclass
class WeeklySeries:
    """One value per week, oldest first; week k covers [starts[k], starts[k] + 7 days)."""

    starts: np.ndarray
    active: np.ndarray  # members who wrote or reacted
    new: np.ndarray  # members seen for the first time
    messages: np.ndarray
    retention: np.ndarray  # share of last week's active members active again (nan week 0)

    @property
    def messages_per_active(self) -> np.ndarray:
        """Messages per active member each week (0 in empty weeks)."""
        return np.divide(self.messages, self.active, out=np.zeros(len(self.active)), where=self.active > 0)


def weekly_series(frame: EventFrame, now: float, weeks: int | None = None) -> WeeklySeries:
    """Weekly active members, new members, messages and week-over-week retention, for
    the weeks ending at `now` (all history by default)."""
    if frame.n == 0:
        z = np.zeros(0)
        return WeeklySeries(z, z, z, z, z)
    first_ts = float(frame.ts.min())
    total = int(np.ceil((now - first_ts) / WEEK)) or 1
    weeks = total if weeks is None else min(weeks, total)
    starts = now - WEEK * np.arange(weeks, 0, -1)
    humans = ~frame.is_bot & (frame.member >= 0) & (frame.ts < now)
    wk = np.floor((frame.ts - starts[0]) / WEEK).astype(np.int64)
    acts = humans & ((frame.kind == MESSAGE) | (frame.kind == REACTION)) & (wk >= 0)
    nm = frame.n_members
    A = np.zeros((weeks, nm), bool)
    A[wk[acts], frame.member[acts]] = True
    active = A.sum(axis=1).astype(float)
    messages = np.bincount(wk[acts & (frame.kind == MESSAGE)], minlength=weeks)[:weeks].astype(float)
    seen = humans & ((frame.kind == MESSAGE) | (frame.kind == REACTION) | (frame.kind == JOIN))
    first = np.full(nm, np.inf)
    np.minimum.at(first, frame.member[seen], frame.ts[seen])
    fw = np.floor((first[np.isfinite(first)] - starts[0]) / WEEK).astype(np.int64)
    new = np.bincount(fw[fw >= 0], minlength=weeks)[:weeks].astype(float)
    both = (A[1:] & A[:-1]).sum(axis=1)
    prev = A[:-1].sum(axis=1)
    retention = np.concatenate([[np.nan], np.divide(both, prev, out=np.full(weeks - 1, np.nan), where=prev > 0)])
    return WeeklySeries(starts, active, new, messages, retention)


#: The rules in words (English); the bot translates them by rule id with the same args.
RULES = {
    "young": "{weeks} week(s) of history (< {min_weeks})",
    "small": "{active} active members last week (< {min_active})",
    "growing": "active members {growth}/week > +{trend}",
    "shrinking": "active members {growth}/week < -{trend}",
    "disengaging": "messages per active member {mpa}/week < -{trend} and retention {retention} < {floor}",
    "newcomers": "new members are {share} of active ones (> {new_share})",
    "stable": "active members {growth}/week within ±{trend}, retention {retention}",
}


@dataclass
class Stage:
    """The stage, the rule that decided it, and the numbers the rule looked at."""

    stage: str
    rule_id: str
    args: dict[str, str] = field(default_factory=dict)
    numbers: dict[str, float] = field(default_factory=dict)

    @property
    def rule(self) -> str:
        """The deciding rule in English words, with its numbers."""
        return RULES[self.rule_id].format(**self.args)


def _slope(values: np.ndarray) -> float:
    """Relative weekly change fitted on log(1 + v): 0.1 means +10 % a week."""
    if values.size < 2:
        return 0.0
    x = np.arange(values.size, dtype=float)
    k = np.polyfit(x, np.log1p(values), 1)[0]
    return float(np.expm1(k))


def stage(
    s: WeeklySeries,
    window: int = 6,
    min_weeks: int = 4,
    min_active: int = 5,
    trend: float = 0.05,
    new_share: float = 0.3,
    retention_floor: float = 0.5,
) -> Stage:
    """Decide the stage from the last `window` full weeks (see the module docstring)."""
    weeks = len(s.active)
    latest = float(s.active[-1]) if weeks else 0.0
    if weeks < min_weeks:
        return Stage("creation", "young", {"weeks": str(weeks), "min_weeks": str(min_weeks)}, {"weeks": float(weeks)})
    if latest < min_active:
        return Stage("creation", "small", {"active": f"{latest:g}", "min_active": str(min_active)}, {"active_last_week": latest})
    recent = slice(max(0, weeks - window), weeks)
    act = s.active[recent]
    growth = _slope(act)
    mpa = _slope(s.messages_per_active[recent])
    ret = s.retention[recent]
    retention = float(np.nanmean(ret)) if np.isfinite(ret).any() else 0.0
    new_ratio = float(s.new[recent].sum() / max(act.sum(), 1.0))
    numbers = {
        "weeks": float(weeks),
        "active_last_week": latest,
        "active_trend_per_week": round(growth, 4),
        "messages_per_active_trend_per_week": round(mpa, 4),
        "retention": round(retention, 4),
        "new_member_share": round(new_ratio, 4),
    }
    args = {
        "growth": f"{growth:+.1%}", "trend": f"{trend:.0%}", "mpa": f"{mpa:+.1%}", "retention": f"{retention:.0%}",
        "floor": f"{retention_floor:.0%}", "share": f"{new_ratio:.0%}", "new_share": f"{new_share:.0%}",
    }
    if growth > trend:
        return Stage("growth", "growing", args, numbers)
    if growth < -trend:
        return Stage("decline", "shrinking", args, numbers)
    if mpa < -trend and retention < retention_floor:
        return Stage("decline", "disengaging", args, numbers)
    if new_ratio > new_share:
        return Stage("growth", "newcomers", args, numbers)
    return Stage("maturity", "stable", args, numbers)
