"""The activity score A = Σ_j w_j · y_j and the least-squares fit of its weights.

`weighted_sum` is the model (features are already decayed by age when `member_features`
was given a half-life). `fit_weights` learns non-negative weights that best predict a
member's engagement in the next period from this period's features, and reports R² on a
period it did not train on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

from scoring.features import DAY, FEATURES, engagement, member_features
from scoring.frame import EventFrame

#: Default weights: answering and being answered count more than talking.
DEFAULT_WEIGHTS: dict[str, float] = {
    "messages": 1.0,
    "active_days": 2.0,
    "replies_given": 1.5,
    "replies_received": 1.5,
    "distinct_responders": 2.0,
    "reactions_given": 0.2,
    "reactions_received": 0.5,
    "mentions_received": 0.5,
    "questions_asked": 1.0,
    "questions_answered": 3.0,
    "threads_started": 1.5,
    "links_shared": 0.5,
    "tenure_days": 0.0,
}


class InsufficientData(ValueError):
    """Too little history to fit weights; the message says what is missing."""


def weight_vector(weights: Mapping[str, float], names: Sequence[str] = FEATURES) -> np.ndarray:
    """Weights by name → a vector over `names` (missing names weigh 0)."""
    unknown = set(weights) - set(names)
    if unknown:
        raise KeyError(f"unknown feature(s) in weights: {', '.join(sorted(unknown))}; known: {', '.join(names)}")
    return np.array([float(weights.get(n, 0.0)) for n in names])


def weighted_sum(X: np.ndarray, w: np.ndarray | Sequence[float]) -> np.ndarray:
    """A = X · w for a matrix (members × features) or one row of features.

    Both inputs must be numeric; strings (the article's "high"/"low" labels) are
    rejected with a clear error instead of being coerced.
    """
    Xa, wa = _numeric(X, "features"), _numeric(w, "weights")
    if Xa.shape[-1] != wa.shape[0]:
        raise ValueError(f"features have {Xa.shape[-1]} columns but there are {wa.shape[0]} weights")
    return Xa @ wa


def _numeric(a, what: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be numbers, got {arr.dtype} values such as {arr.ravel()[:1].tolist()!r}")
    return arr.astype(np.float64)


def r2_score(y: np.ndarray, pred: np.ndarray) -> float:
    """Coefficient of determination; 0 when y is constant and not matched exactly."""
    ss_res = float(np.sum((y - pred) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return 1.0 - ss_res / ss_tot


@dataclass
class LinearFit:
    """Non-negative weights with their R² on training and held-out data."""

    weights: np.ndarray
    r2_train: float
    r2_holdout: float | None
    n_train: int


def fit_nonnegative(X, y, X_test=None, y_test=None, min_rows: int = 10) -> LinearFit:
    """Least squares with w ≥ 0 (scipy's NNLS), no intercept: A = X · w."""
    Xa, ya = _numeric(X, "features"), _numeric(y, "targets")
    if Xa.ndim != 2 or ya.ndim != 1 or Xa.shape[0] != ya.shape[0]:
        raise ValueError(f"need X (rows × features) and y (rows); got shapes {Xa.shape} and {ya.shape}")
    if Xa.shape[0] < max(min_rows, Xa.shape[1]):
        raise InsufficientData(
            f"need at least {max(min_rows, Xa.shape[1])} members with activity to fit "
            f"{Xa.shape[1]} weights, got {Xa.shape[0]}"
        )
    # Scale columns so NNLS is well conditioned; undo the scale on the weights.
    scale = np.abs(Xa).max(axis=0)
    scale[scale == 0] = 1.0
    w_scaled, _ = nnls(Xa / scale, ya)
    w = w_scaled / scale
    r2_test = None
    if X_test is not None and y_test is not None:
        r2_test = r2_score(_numeric(y_test, "targets"), _numeric(X_test, "features") @ w)
    return LinearFit(w, r2_score(ya, Xa @ w), r2_test, int(Xa.shape[0]))


@dataclass
class WeightFit:
    """The result of `fit_weights`: weights by feature, R² and what it was fit on."""

    weights: dict[str, float]
    r2_train: float
    r2_holdout: float
    members: int
    period_days: float
    periods: tuple[float, float, float, float]


def fit_weights(
    frame: EventFrame,
    now: float,
    period_days: float = 28.0,
    half_life_days: float | None = 14.0,
    min_members: int = 10,
    features: Sequence[str] = FEATURES,
) -> WeightFit:
    """Learn activity weights from history: features of period k predict engagement
    (messages + reactions given) in period k+1.

    Trains on the pair (P1 → P2) and reports R² on the later pair (P2 → P3), where P3
    ends at `now`; so it needs three full periods of history. Raises `InsufficientData`
    naming what is missing.
    """
    if frame.n == 0:
        raise InsufficientData("the group has no events yet")
    span_days = (now - float(frame.ts.min())) / DAY
    if span_days < 3 * period_days:
        raise InsufficientData(
            f"need {3 * period_days:g} days of history (three {period_days:g}-day periods: "
            f"train, target, held-out), the group has {span_days:.1f}"
        )
    p = period_days * DAY
    t0, t1, t2, t3 = now - 3 * p, now - 2 * p, now - p, now
    cols = [FEATURES.index(f) for f in features]

    def pair(a: float, b: float, c: float):
        X = member_features(frame, now=b, since=a, until=b, half_life_days=half_life_days).X[:, cols]
        y = engagement(frame, b, c)
        bots = frame.member_bot()
        active = (X[:, 0] > 0) | (y > 0) if "messages" in features else (X.sum(1) > 0) | (y > 0)
        keep = active & ~bots
        return X[keep], y[keep]

    X_tr, y_tr = pair(t0, t1, t2)
    X_te, y_te = pair(t1, t2, t3)
    if X_tr.shape[0] < min_members:
        raise InsufficientData(
            f"need at least {min_members} active members in the training period, got {X_tr.shape[0]}"
        )
    if X_te.shape[0] < 2:
        raise InsufficientData("the held-out period has fewer than 2 active members")
    fit = fit_nonnegative(X_tr, y_tr, X_te, y_te, min_rows=min_members)
    return WeightFit(
        weights={f: round(float(v), 6) for f, v in zip(features, fit.weights, strict=True)},
        r2_train=fit.r2_train,
        r2_holdout=float(fit.r2_holdout),
        members=fit.n_train,
        period_days=period_days,
        periods=(t0, t1, t2, t3),
    )
