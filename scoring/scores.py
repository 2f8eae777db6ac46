"""One call that computes everything the leaderboards need for a frame and a window:
features, activity, influence and ranks. The bot caches the result per group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from scoring.activity import DEFAULT_WEIGHTS, weight_vector, weighted_sum
from scoring.features import Features, member_features, window_start
from scoring.frame import EventFrame
from scoring.influence import Influence, influence, interaction_graph


@dataclass
class ScoringParams:
    """The knobs of the models (the bot fills these from the group's settings)."""

    half_life_days: float = 14.0
    weights: Mapping[str, float] | None = None
    edge_weights: Mapping[str, float] | None = None
    influence_weights: Mapping[str, float] | None = None
    pagerank_share: float = 0.6
    damping: float = 0.85


@dataclass
class WindowScores:
    """Scores of every member for one window; bots and silent members rank last."""

    window: str
    features: Features
    activity: np.ndarray
    influence: Influence
    eligible: np.ndarray  # members with any activity in the window, not bots

    def ranking(self, board: str) -> np.ndarray:
        """Member codes of eligible members, best first, for "activity" or "influence"."""
        values = self.values(board)
        idx = np.flatnonzero(self.eligible)
        return idx[np.lexsort((idx, -values[idx]))]

    def values(self, board: str) -> np.ndarray:
        """The score array of a board."""
        if board == "activity":
            return self.activity
        if board == "influence":
            return self.influence.score
        raise KeyError(f"unknown board {board!r}: activity or influence")

    def rank_of(self, board: str, code: int) -> tuple[int, int] | None:
        """(1-based rank, number ranked) of a member, or None if not ranked."""
        order = self.ranking(board)
        where = np.flatnonzero(order == code)
        return (int(where[0]) + 1, int(order.size)) if where.size else None


def window_scores(
    frame: EventFrame, now: float, window: str, params: ScoringParams | None = None, since: float | None = None
) -> WindowScores:
    """Features, activity (weighted sum), influence (PageRank blend) for one window
    ("7d", "30d", "all"; or any label with an explicit `since`)."""
    p = params or ScoringParams()
    since = window_start(now, window) if since is None else since
    feats = member_features(frame, now, since=since, half_life_days=p.half_life_days)
    w = weight_vector({**DEFAULT_WEIGHTS, **(p.weights or {})})
    act = weighted_sum(feats.X, w)
    W = interaction_graph(frame, now, since=since, edge_weights=p.edge_weights, half_life_days=p.half_life_days)
    inf = influence(feats, W, pagerank_share=p.pagerank_share, weights=p.influence_weights, alpha=p.damping)
    moved = feats.X[:, :-1].sum(axis=1) > 0  # anything but tenure
    eligible = moved & ~frame.member_bot()
    return WindowScores(window, feats, act, inf, eligible)


def strongest_connections(W, code: int, k: int = 3) -> list[tuple[int, float]]:
    """The members `code` interacts with most, both directions summed."""
    row = np.asarray(W[code].todense()).ravel() + np.asarray(W[:, code].todense()).ravel()
    row[code] = 0
    order = np.argsort(-row, kind="stable")[:k]
    return [(int(j), float(row[j])) for j in order if row[j] > 0]
