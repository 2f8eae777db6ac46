"""Per-member features over a time window, with optional exponential decay by age.

`member_features(frame, now, ...)` returns an (members × features) matrix. Every column
is a `np.bincount` over masked event columns, so the cost is a few passes over the
arrays whatever the number of members.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.frame import MESSAGE, REACTION, EventFrame

DAY = 86400.0

#: Feature columns, in matrix order.
FEATURES: tuple[str, ...] = (
    "messages",
    "active_days",
    "replies_given",
    "replies_received",
    "distinct_responders",
    "reactions_given",
    "reactions_received",
    "mentions_received",
    "questions_asked",
    "questions_answered",
    "threads_started",
    "links_shared",
    "tenure_days",
)
COL = {name: i for i, name in enumerate(FEATURES)}


@dataclass
class Features:
    """A feature matrix: row i is member code i of the frame, columns are `FEATURES`."""

    X: np.ndarray
    frame: EventFrame
    now: float
    since: float | None
    half_life_days: float | None

    def column(self, name: str) -> np.ndarray:
        """One feature for every member."""
        if name not in COL:
            raise KeyError(f"unknown feature {name!r}; known: {', '.join(FEATURES)}")
        return self.X[:, COL[name]]

    def as_dict(self, code: int) -> dict[str, float]:
        """One member's features by name."""
        return {name: float(self.X[code, i]) for i, name in enumerate(FEATURES)}


def decay_weights(age_seconds: np.ndarray, half_life_days: float | None) -> np.ndarray:
    """2^(-age / half-life): 1 for an event happening now, 0.5 one half-life ago."""
    if half_life_days is None:
        return np.ones_like(age_seconds, dtype=np.float64)
    if half_life_days <= 0:
        raise ValueError(f"half_life_days must be positive, got {half_life_days}")
    age = np.maximum(age_seconds, 0.0)
    return np.exp2(-age / (half_life_days * DAY))


def _count(idx: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(idx, weights=w, minlength=n)[:n] if idx.size else np.zeros(n)


def _distinct_pairs(a: np.ndarray, b: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """For each a, Σ over distinct partners b of the newest event's weight."""
    if a.size == 0:
        return np.zeros(n)
    key = a.astype(np.int64) * n + b
    # Reverse so np.unique's first occurrence is the newest (events are time-sorted).
    uniq, first = np.unique(key[::-1], return_index=True)
    return np.bincount(uniq // n, weights=w[::-1][first], minlength=n)[:n]


def member_features(
    frame: EventFrame,
    now: float,
    since: float | None = None,
    until: float | None = None,
    half_life_days: float | None = None,
) -> Features:
    """Features of every member from events in [since, until) (until defaults to now).

    With `half_life_days`, each event counts 2^(-age/half-life) instead of 1.
    Bots' events are left out; replies and reactions to oneself count for nothing.
    `tenure_days` is the time from the member's first event to `now`, not decayed.
    """
    n = frame.n_members
    X = np.zeros((n, len(FEATURES)))
    until = now if until is None else until
    ts = frame.ts
    sel = (ts < until) & ~frame.is_bot & (frame.member >= 0)
    if since is not None:
        sel &= ts >= since
    w = decay_weights(now - ts, half_life_days)
    mem, tgt = frame.member, frame.target
    msg = sel & (frame.kind == MESSAGE)
    X[:, COL["messages"]] = _count(mem[msg], w[msg], n)
    X[:, COL["links_shared"]] = _count(mem[msg], (w * frame.link_count)[msg], n)
    X[:, COL["questions_asked"]] = _count(mem[msg & frame.question], w[msg & frame.question], n)

    # Active days: one per (member, calendar day), weighted by the day's newest message.
    day = np.floor(ts / DAY).astype(np.int64)
    X[:, COL["active_days"]] = _distinct_pairs(mem[msg], day[msg] - day.min(initial=0), w[msg], n) if msg.any() else 0

    rep = msg & (frame.reply_ev >= 0) & (tgt >= 0) & (tgt != mem)
    X[:, COL["replies_given"]] = _count(mem[rep], w[rep], n)
    X[:, COL["replies_received"]] = _count(tgt[rep], w[rep], n)
    X[:, COL["distinct_responders"]] = _distinct_pairs(tgt[rep], mem[rep], w[rep], n)
    answered = rep.copy()
    answered[rep] = frame.question[frame.reply_ev[rep]]
    X[:, COL["questions_answered"]] = _count(mem[answered], w[answered], n)
    # A thread starter: a message that drew at least one reply from someone else.
    started = np.unique(frame.reply_ev[rep])
    started = started[sel[started]]
    X[:, COL["threads_started"]] = _count(mem[started], w[started], n)

    rx = sel & (frame.kind == REACTION)
    X[:, COL["reactions_given"]] = _count(mem[rx], w[rx], n)
    rxr = rx & (tgt >= 0) & (tgt != mem)
    X[:, COL["reactions_received"]] = _count(tgt[rxr], w[rxr], n)

    per_event = np.diff(frame.mention_ptr)
    ev_of_mention = np.repeat(np.arange(frame.n), per_event)
    ok = msg[ev_of_mention] & (frame.mention_member != mem[ev_of_mention])
    X[:, COL["mentions_received"]] = _count(frame.mention_member[ok], w[ev_of_mention[ok]], n)

    seen = (ts < until) & (frame.member >= 0)
    first = np.full(n, np.inf)
    np.minimum.at(first, mem[seen], ts[seen])
    tenure = np.where(np.isfinite(first), (now - first) / DAY, 0.0)
    X[:, COL["tenure_days"]] = np.maximum(tenure, 0.0)
    return Features(X, frame, now, since, half_life_days)


def engagement(frame: EventFrame, since: float, until: float) -> np.ndarray:
    """A member's engagement in [since, until): messages + reactions given.

    This is what `fit_weights` learns to predict from the previous period's features.
    """
    f = member_features(frame, now=until, since=since, until=until)
    return f.column("messages") + f.column("reactions_given")


def window_start(now: float, window: str) -> float | None:
    """Start time of a named window ("7d", "30d", "90d", "all") ending at `now`."""
    if window == "all":
        return None
    if window.endswith("d") and window[:-1].isdigit() and int(window[:-1]) > 0:
        return now - int(window[:-1]) * DAY
    raise ValueError(f"unknown window {window!r}: use 7d, 30d, 90d or all")


__all__ = ["COL", "FEATURES", "Features", "decay_weights", "engagement", "member_features"]
