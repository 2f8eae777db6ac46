"""Influence: PageRank on the interaction graph, blended with a weighted sum of
influence features.

An edge goes from the member who responds (replies, mentions, reacts) to the member
they respond to, so rank flows to the people others answer. PageRank is power
iteration on a `scipy.sparse` matrix with the same conventions as `networkx.pagerank`
(dangling members spread their rank uniformly, convergence when the L1 change is below
N · tol), so the two agree to 1e-6.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from scoring.features import Features, decay_weights
from scoring.frame import MESSAGE, REACTION, EventFrame

DEFAULT_EDGE_WEIGHTS: dict[str, float] = {"reply": 1.0, "mention": 0.5, "reaction": 0.3}
#: Influence features and their weights in the weighted-sum half of the blend.
DEFAULT_INFLUENCE_WEIGHTS: dict[str, float] = {
    "replies_received": 1.0,
    "distinct_responders": 2.0,
    "reactions_received": 0.5,
}


class NotConverged(RuntimeError):
    """Power iteration did not reach the tolerance within max_iter steps."""


def interaction_graph(
    frame: EventFrame,
    now: float,
    since: float | None = None,
    until: float | None = None,
    edge_weights: Mapping[str, float] | None = None,
    half_life_days: float | None = None,
) -> sp.csr_matrix:
    """The weighted adjacency matrix W (members × members): W[i, j] is how much member
    i responded to member j (replies, mentions, reactions; decayed by age)."""
    ew = {**DEFAULT_EDGE_WEIGHTS, **(edge_weights or {})}
    unknown = set(ew) - set(DEFAULT_EDGE_WEIGHTS)
    if unknown:
        raise KeyError(f"unknown edge kind(s): {', '.join(sorted(unknown))}; known: reply, mention, reaction")
    n = frame.n_members
    until = now if until is None else until
    ts = frame.ts
    sel = (ts < until) & ~frame.is_bot & (frame.member >= 0)
    if since is not None:
        sel &= ts >= since
    w = decay_weights(now - ts, half_life_days)
    mem, tgt = frame.member, frame.target
    msg = sel & (frame.kind == MESSAGE)
    rep = msg & (frame.reply_ev >= 0) & (tgt >= 0)
    rx = sel & (frame.kind == REACTION) & (tgt >= 0)
    ev_m = np.repeat(np.arange(frame.n), np.diff(frame.mention_ptr))
    ok_m = msg[ev_m]
    src = np.concatenate([mem[rep], mem[rx], mem[ev_m[ok_m]]])
    dst = np.concatenate([tgt[rep], tgt[rx], frame.mention_member[ok_m]])
    wt = np.concatenate([w[rep] * ew["reply"], w[rx] * ew["reaction"], w[ev_m[ok_m]] * ew["mention"]])
    keep = (src != dst) & (wt > 0)
    W = sp.coo_matrix((wt[keep], (src[keep], dst[keep])), shape=(n, n)).tocsr()
    W.sum_duplicates()
    return W


def pagerank(
    W: sp.spmatrix,
    alpha: float = 0.85,
    tol: float = 1e-10,
    max_iter: int = 200,
    personalization: np.ndarray | None = None,
) -> np.ndarray:
    """PageRank of a weighted directed graph given as a sparse adjacency matrix.

    Rank flows along edges i → j in proportion to W[i, j] / Σ_k W[i, k]. Members
    without out-edges ("dangling") give their rank to everyone in proportion to
    `personalization` (uniform by default), as networkx does. Stops when the L1 change
    between iterations is below n · tol; raises `NotConverged` after `max_iter`.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha (damping) must be in (0, 1), got {alpha}")
    W = sp.csr_matrix(W, dtype=np.float64)
    n = W.shape[0]
    if W.shape != (n, n):
        raise ValueError(f"adjacency matrix must be square, got {W.shape}")
    if n == 0:
        return np.zeros(0)
    if W.nnz and W.data.min() < 0:
        raise ValueError("edge weights must be non-negative")
    out = np.asarray(W.sum(axis=1)).ravel()
    dangling = out == 0
    inv = np.zeros(n)
    inv[~dangling] = 1.0 / out[~dangling]
    # Row-normalise once; iterate with the transpose so each step is one sparse mat-vec.
    P_T = (sp.diags(inv) @ W).T.tocsr()
    if personalization is None:
        p = np.full(n, 1.0 / n)
    else:
        p = np.asarray(personalization, dtype=np.float64)
        if p.shape != (n,) or p.min() < 0 or p.sum() == 0:
            raise ValueError("personalization must be n non-negative numbers, not all zero")
        p = p / p.sum()
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        x_last = x
        x = alpha * (P_T @ x_last + x_last[dangling].sum() * p) + (1 - alpha) * p
        if np.abs(x - x_last).sum() < n * tol:
            return x
    raise NotConverged(f"PageRank did not converge to tol={tol} in {max_iter} iterations")


@dataclass
class Influence:
    """Influence of every member (0–100) and its two ingredients."""

    score: np.ndarray
    pagerank: np.ndarray
    weighted: np.ndarray
    graph: sp.csr_matrix


def _unit(v: np.ndarray) -> np.ndarray:
    top = float(v.max()) if v.size else 0.0
    return v / top if top > 0 else np.zeros_like(v)


def influence(
    features: Features,
    W: sp.csr_matrix,
    pagerank_share: float = 0.6,
    weights: Mapping[str, float] | None = None,
    alpha: float = 0.85,
) -> Influence:
    """Blend PageRank with the weighted sum of influence features, both scaled to the
    group's top member: score = 100 · (s · PR/max PR + (1 − s) · F/max F).

    Members nobody responded to score 0 (their PageRank is only the teleport share).
    """
    if not 0 <= pagerank_share <= 1:
        raise ValueError(f"pagerank_share must be within [0, 1], got {pagerank_share}")
    ws = {**DEFAULT_INFLUENCE_WEIGHTS, **(weights or {})}
    n = W.shape[0]
    pr = pagerank(W, alpha=alpha) if n else np.zeros(0)
    weighted = np.zeros(n)
    for name, wt in ws.items():
        weighted += wt * features.column(name)
    received = np.asarray(W.sum(axis=0)).ravel() > 0
    # Subtract the teleport floor so a member nobody responds to is at 0, not at 1/n.
    base = pr.min(initial=0.0) if n else 0.0
    pr_part = np.where(received, pr - base, 0.0)
    score = 100.0 * (pagerank_share * _unit(pr_part) + (1 - pagerank_share) * _unit(weighted))
    return Influence(score, pr, weighted, W)
