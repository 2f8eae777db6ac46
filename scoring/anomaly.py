"""Behaviour anomaly: a member's message rate against their own and the group's
baseline (robust z-score), and an IsolationForest over per-member window features.

Robust statistics (median and MAD) because chat rates are heavy-tailed: a mean and a
standard deviation would be dragged by the very bursts we want to see. The forest is
refitted at most once per `forest_every` seconds of event time and its scores cached,
so the per-message cost stays a dictionary lookup.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import IsolationForest

from scoring.checks import Check, CheckContext, CheckSettings, Verdict, _s
from scoring.window import BUCKET, MemberWindow
from storage.events import EventKind

FEATURES = ("msgs_10min", "msgs_1h", "mean_len", "links_per_msg", "mentions_per_msg", "log_age_h")


def robust_z(value: float, sample: Iterable[float], floor: float = 1.0) -> float:
    """(value − median) / (1.4826·MAD), the scale floored so a flat baseline can't explode."""
    arr = np.asarray(list(sample), dtype=float)
    if arr.size == 0:
        return 0.0
    med = float(np.median(arr))
    mad = float(np.median(np.abs(arr - med)))
    scale = max(1.4826 * mad, 0.5 * med, floor)
    return (value - med) / scale


def member_features(m: MemberWindow, now: float) -> np.ndarray:
    """The member's window as a feature vector (see `FEATURES`)."""
    n = max(m.messages, 1)
    age = (now - m.first_ts) / 3600 if m.first_ts is not None else 0.0
    return np.array(
        [
            m.count_since(now - BUCKET),
            m.count_since(now - 3600),
            m.chars / n,
            m.links / n,
            m.mentions / n,
            math.log1p(max(age, 0.0)),
        ],
        dtype=float,
    )


def isolation_scores(features: Mapping[str, np.ndarray], seed: int = 0, trees: int = 64) -> dict[str, float]:
    """IsolationForest decision scores per member: below 0 is unusual, the lower the rarer."""
    if len(features) < 2:
        return {k: 0.0 for k in features}
    ids = list(features)
    X = np.vstack([features[k] for k in ids])
    forest = IsolationForest(n_estimators=trees, random_state=seed, contamination="auto").fit(X)
    return dict(zip(ids, forest.decision_function(X).tolist(), strict=True))


@dataclass
class AnomalySettings(CheckSettings):
    """Message-rate anomaly against the member's and the group's own baseline."""

    enabled: bool = _s(True, "Run the anomaly check.")
    z_threshold: float = _s(5.0, "Robust z-score of the 10-minute message count that is anomalous.")
    min_messages: int = _s(10, "Never anomalous below this many messages in 10 minutes.")
    min_baseline: int = _s(5, "10-minute buckets a baseline needs before it is used.")
    forest: bool = _s(True, "Also score members with an IsolationForest over window features.")
    forest_every: float = _s(3600.0, "Refit the forest at most this often (seconds of event time).")
    forest_min_members: int = _s(20, "Members in the window before the forest is used.")
    forest_min_messages: int = _s(300, "New messages in the group since the last fit before refitting.")
    forest_threshold: float = _s(-0.12, "Forest score below which a busy member is anomalous.")
    severity: str = _s("low", "Severity when flagged (low: alert only).")


class AnomalyCheck(Check):
    """Robust z of the member's 10-minute rate, plus the cached forest score."""

    name = "anomaly"
    kinds = frozenset({EventKind.MESSAGE})
    settings_cls = AnomalySettings

    def check(self, ctx: CheckContext, s: AnomalySettings) -> Verdict:
        m, g = ctx.member, ctx.group
        start = ctx.ts - ctx.ts % BUCKET
        current = m.buckets[-1][1] if m.buckets and m.buckets[-1][0] == start else 0
        if current < s.min_messages:
            # Below the floor nothing can be anomalous; skip the statistics (hot path).
            return self.ok(f"rate {current}/10min (below {s.min_messages})")
        own = [c for b, c in m.buckets if b != start]
        z_own = robust_z(current, own) if len(own) >= s.min_baseline else None
        z_group = robust_z(current, g.group_buckets) if len(g.group_buckets) >= s.min_baseline else None
        parts = [f"rate {current}/10min"]
        if z_own is not None:
            parts.append(f"z own {z_own:.1f}")
        if z_group is not None:
            parts.append(f"z group {z_group:.1f}")
        forest = self._forest(ctx, s)
        if forest is not None:
            parts.append(f"isolation {forest:.2f}")
        reason = ", ".join(parts)
        rate_hit = z_group is not None and z_group >= s.z_threshold and (z_own is None or z_own >= s.z_threshold)
        forest_hit = forest is not None and forest < s.forest_threshold
        if rate_hit or forest_hit:
            score = min(1.0, max(z_group or 0.0, 0.0) / (2 * s.z_threshold))
            return self.hit(reason, s.severity, score)
        return self.ok(reason)

    def _forest(self, ctx: CheckContext, s: AnomalySettings) -> float | None:
        g = ctx.group
        if not s.forest or len(g.members) < s.forest_min_members:
            return None
        if ctx.ts - g.forest_ts >= s.forest_every and (g.total - g.forest_at >= s.forest_min_messages or not g.forest_scores):
            feats = {mid: member_features(mw, ctx.ts) for mid, mw in g.members.items()}
            g.forest_scores = isolation_scores(feats)
            g.forest_ts = ctx.ts
            g.forest_at = g.total
        return g.forest_scores.get(ctx.member.member_id)
