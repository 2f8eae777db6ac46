"""Community health figures: active members per day/week/month, weekly cohort
retention, how many questions get answered and how fast, members going quiet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.frame import JOIN, MESSAGE, REACTION, EventFrame

DAY = 86400.0
WEEK = 7 * DAY


def _active_mask(frame: EventFrame, now: float) -> np.ndarray:
    return (
        ~frame.is_bot
        & (frame.member >= 0)
        & (frame.ts < now)
        & ((frame.kind == MESSAGE) | (frame.kind == REACTION))
    )


def active_members(frame: EventFrame, now: float, days: float) -> int:
    """Distinct members who wrote or reacted in the `days` before `now`."""
    m = _active_mask(frame, now) & (frame.ts >= now - days * DAY)
    return int(np.unique(frame.member[m]).size)


def daily_series(frame: EventFrame, now: float, days: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(day starts, messages per day, active members per day) for the last `days` days."""
    starts = now - DAY * np.arange(days, 0, -1)
    m = _active_mask(frame, now) & (frame.ts >= starts[0])
    d = np.floor((frame.ts[m] - starts[0]) / DAY).astype(np.int64)
    msgs = np.bincount(d[frame.kind[m] == MESSAGE], minlength=days)[:days]
    pairs = np.unique(d * max(frame.n_members, 1) + frame.member[m])
    active = np.bincount(pairs // max(frame.n_members, 1), minlength=days)[:days]
    return starts, msgs, active


def cohort_retention(frame: EventFrame, now: float, weeks: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weekly cohorts of the last `weeks` weeks: (cohort week starts, sizes, R) where
    R[c, k] is the share of cohort c active k weeks after joining (nan: not yet)."""
    starts = now - WEEK * np.arange(weeks, 0, -1)
    seen = ~frame.is_bot & (frame.member >= 0) & (frame.ts < now)
    seen &= (frame.kind == MESSAGE) | (frame.kind == REACTION) | (frame.kind == JOIN)
    nm = frame.n_members
    first = np.full(nm, np.inf)
    np.minimum.at(first, frame.member[seen], frame.ts[seen])
    cohort = np.full(nm, -1, np.int64)
    fin = np.isfinite(first) & (first >= starts[0])
    cohort[fin] = np.floor((first[fin] - starts[0]) / WEEK).astype(np.int64)
    sizes = np.bincount(cohort[cohort >= 0], minlength=weeks)[:weeks].astype(float)
    act = _active_mask(frame, now) & (frame.ts >= starts[0])
    mem = frame.member[act]
    wk = np.floor((frame.ts[act] - starts[0]) / WEEK).astype(np.int64)
    c = cohort[mem]
    ok = (c >= 0) & (wk >= c)
    pairs = np.unique((c[ok] * weeks + (wk[ok] - c[ok])) * max(nm, 1) + mem[ok])
    cells = pairs // max(nm, 1)
    counts = np.bincount(cells, minlength=weeks * weeks)[: weeks * weeks].reshape(weeks, weeks).astype(float)
    R = np.full((weeks, weeks), np.nan)
    for ci in range(weeks):  # one row per cohort (8 rows), not per event
        span = weeks - ci
        if sizes[ci] > 0:
            R[ci, :span] = counts[ci, :span] / sizes[ci]
    return starts, sizes, R


@dataclass
class QuestionStats:
    """How the group answers questions."""

    asked: int
    answered: int
    median_first_answer_minutes: float | None

    @property
    def answered_share(self) -> float:
        """Share of questions that got a reply from someone else."""
        return self.answered / self.asked if self.asked else 0.0


def question_stats(frame: EventFrame, now: float, since: float | None = None) -> QuestionStats:
    """Questions asked since `since`, the share answered by another member, and the
    median time from question to its first answer."""
    q = frame.question & ~frame.is_bot & (frame.ts < now)
    if since is not None:
        q &= frame.ts >= since
    asked = np.flatnonzero(q)
    rep = (frame.kind == MESSAGE) & (frame.reply_ev >= 0) & ~frame.is_bot
    rep &= frame.member != frame.member[np.maximum(frame.reply_ev, 0)]
    rep_idx = np.flatnonzero(rep)
    to = frame.reply_ev[rep_idx]
    on_q = q[to]
    # Replies are time-sorted, so the first reply to each question comes first.
    qs, first = np.unique(to[on_q], return_index=True)
    # Clock skew between platforms can put a reply a moment before its question.
    delays = np.maximum(frame.ts[rep_idx[on_q]][first] - frame.ts[qs], 0.0)
    median = float(np.median(delays) / 60.0) if delays.size else None
    return QuestionStats(int(asked.size), int(qs.size), median)


def going_quiet(frame: EventFrame, now: float, quiet_days: float = 14.0, before_days: float = 42.0, min_messages: int = 5) -> np.ndarray:
    """Codes of members who wrote at least `min_messages` in the `before_days` before
    the quiet period and nothing in the last `quiet_days`, most active first."""
    m = (frame.kind == MESSAGE) & ~frame.is_bot & (frame.member >= 0) & (frame.ts < now)
    recent_cut = now - quiet_days * DAY
    before = m & (frame.ts >= recent_cut - before_days * DAY) & (frame.ts < recent_cut)
    nm = frame.n_members
    counts = np.bincount(frame.member[before], minlength=nm)[:nm]
    recent = np.bincount(frame.member[m & (frame.ts >= recent_cut)], minlength=nm)[:nm]
    quiet = np.flatnonzero((counts >= min_messages) & (recent == 0))
    return quiet[np.argsort(-counts[quiet], kind="stable")]


def health(frame: EventFrame, now: float) -> dict:
    """The health figures as one JSON-friendly dict."""
    dau, wau, mau = (active_members(frame, now, d) for d in (1, 7, 30))
    qs = question_stats(frame, now, since=now - 30 * DAY)
    _, sizes, R = cohort_retention(frame, now, weeks=8)
    week1 = R[:, 1] if R.shape[1] > 1 else np.zeros(0)
    quiet = going_quiet(frame, now)
    return {
        "dau": dau,
        "wau": wau,
        "mau": mau,
        "stickiness": round(dau / mau, 4) if mau else 0.0,
        "questions_30d": qs.asked,
        "answered_share_30d": round(qs.answered_share, 4),
        "median_first_answer_minutes": None if qs.median_first_answer_minutes is None else round(qs.median_first_answer_minutes, 1),
        "week1_retention": None if not np.isfinite(week1).any() else round(float(np.nanmean(week1)), 4),
        "cohort_sizes": [int(s) for s in sizes],
        "going_quiet": [str(frame.members[c]) for c in quiet[:20]],
    }
