"""The pure models: weighted sums (with the article's tables), PageRank against
networkx, the weight fit, features and lifecycle stages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from scoring.activity import InsufficientData, fit_nonnegative, fit_weights, weighted_sum
from scoring.features import member_features
from scoring.frame import frame_from_events
from scoring.influence import pagerank
from scoring.lifecycle import WeeklySeries, stage
from storage.events import Event, EventKind

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def ev(member, kind="message", t=0.0, **kw):
    """An event `t` hours after T0."""
    return Event(platform="t", group_id="g", kind=EventKind(kind), time=T0 + timedelta(hours=t), member_id=member, member_name=member, **kw)


# The article's worked examples: weights (0.5, 0.3, 0.2) over three features. It
# printed 1.5 for the first row; 0.5·1 + 0.3·2 + 0.2·3 is 1.7.
ARTICLE_WEIGHTS = [0.5, 0.3, 0.2]
ARTICLE_ROWS = [
    ([1, 2, 3], 1.7),
    ([3, 2, 1], 2.3),
    ([0, 0, 0], 0.0),
    ([10, 5, 2], 6.9),
    ([2, 4, 6], 3.4),
]


@pytest.mark.parametrize(("features", "expected"), ARTICLE_ROWS)
def test_article_weighted_sums_are_computed_correctly(features, expected):
    assert weighted_sum(np.array(features), ARTICLE_WEIGHTS) == pytest.approx(expected)


def test_article_table_as_matrix():
    X = np.array([r for r, _ in ARTICLE_ROWS])
    assert weighted_sum(X, ARTICLE_WEIGHTS) == pytest.approx([e for _, e in ARTICLE_ROWS])
    assert weighted_sum(X, ARTICLE_WEIGHTS)[0] != pytest.approx(1.5)


def test_regression_on_string_labels_is_refused_clearly():
    # The article fits a regression to "high"/"low" labels; that cannot run.
    X = np.array([[1, 2, 3], [3, 2, 1]] * 10)
    with pytest.raises(TypeError, match="targets must be numbers"):
        fit_nonnegative(X, np.array(["high", "low"] * 10))


def test_fit_recovers_planted_weights():
    rng = np.random.default_rng(7)
    X = rng.poisson(5, size=(400, 5)).astype(float)
    planted = np.array([1.0, 0.0, 2.5, 0.3, 0.0])
    y = X @ planted + rng.normal(0, 0.5, 400)
    fit = fit_nonnegative(X[:300], y[:300], X[300:], y[300:])
    assert fit.weights == pytest.approx(planted, abs=0.05)
    assert fit.r2_holdout > 0.9
    assert (fit.weights >= 0).all()


def test_fit_refuses_too_little_data():
    with pytest.raises(InsufficientData, match="at least 10 members"):
        fit_nonnegative(np.ones((3, 2)), np.ones(3))
    f = frame_from_events([ev("a", t=0), ev("b", t=1)])
    with pytest.raises(InsufficientData, match="84 days of history"):
        fit_weights(f, now=f.ts.max() + 3600)


def test_fit_weights_on_generated_history_predicts_next_period():
    # Each member has a steady rate; this period's messages predict next period's.
    rng = np.random.default_rng(3)
    events = []
    mid = 0
    for m in range(40):
        rate = rng.uniform(0.5, 6.0)
        for day in range(85):
            for _ in range(rng.poisson(rate)):
                mid += 1
                events.append(ev(f"m{m}", t=day * 24 + rng.uniform(0, 23), message_id=str(mid), text="hi"))
    f = frame_from_events(events)
    fit = fit_weights(f, now=(T0 + timedelta(days=85)).timestamp())
    assert fit.r2_holdout > 0.8
    assert fit.weights["messages"] > 0 or fit.weights["active_days"] > 0


def random_graph(n, m, seed):
    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    w = rng.uniform(0.1, 2.0, m)
    keep = src != dst
    return sp.coo_matrix((w[keep], (src[keep], dst[keep])), shape=(n, n)).tocsr()


def nx_pagerank(W):
    G = nx.DiGraph()
    G.add_nodes_from(range(W.shape[0]))
    c = W.tocoo()
    G.add_weighted_edges_from(zip(c.row.tolist(), c.col.tolist(), c.data.tolist(), strict=True))
    pr = nx.pagerank(G, alpha=0.85, tol=1e-12, max_iter=500)
    return np.array([pr[i] for i in range(W.shape[0])])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pagerank_matches_networkx_on_random_graphs(seed):
    W = random_graph(300, 1200 + seed * 500, seed)  # sparse enough to have dangling nodes
    assert np.abs(pagerank(W, tol=1e-12) - nx_pagerank(W)).max() < 1e-6


def _from_nx(G):
    nodes = list(G.nodes())
    idx = {v: i for i, v in enumerate(nodes)}
    rows, cols, ws = [], [], []
    for u, v, d in G.edges(data=True):
        w = float(d.get("weight", 1.0))
        for a, b in ((u, v), (v, u)):  # undirected: both directions, as networkx does
            rows.append(idx[a])
            cols.append(idx[b])
            ws.append(w)
    return nodes, sp.coo_matrix((ws, (rows, cols)), shape=(len(nodes), len(nodes))).tocsr()


@pytest.mark.parametrize("graph", [nx.karate_club_graph, nx.les_miserables_graph])
def test_pagerank_matches_networkx_on_real_graphs(graph):
    G = graph()
    nodes, W = _from_nx(G)
    ref = nx.pagerank(G, alpha=0.85, tol=1e-12, max_iter=500)
    ours = pagerank(W, tol=1e-12)
    assert max(abs(ours[i] - ref[v]) for i, v in enumerate(nodes)) < 1e-6


def test_karate_club_leaders_rank_first():
    nodes, W = _from_nx(nx.karate_club_graph())
    top2 = {nodes[i] for i in np.argsort(-pagerank(W))[:2]}
    assert top2 == {0, 33}


def test_star_hub_ranks_first():
    n = 20
    W = sp.coo_matrix((np.ones(n - 1), (np.arange(1, n), np.zeros(n - 1, int))), shape=(n, n)).tocsr()
    pr = pagerank(W)
    assert int(np.argmax(pr)) == 0
    assert pr.sum() == pytest.approx(1.0)


def test_pagerank_rejects_bad_damping():
    with pytest.raises(ValueError, match="alpha"):
        pagerank(sp.csr_matrix((2, 2)), alpha=1.0)


def test_features_count_replies_questions_threads_and_reactions():
    events = [
        ev("alice", t=0, message_id="1", text="How do I start the capstone?"),
        ev("chen", t=1, message_id="2", text="Start from the rubric.", reply_to_id="1"),
        ev("bob", t=2, message_id="3", text="Same question here", reply_to_id="1", target_member_id="alice"),
        ev("alice", "reaction", t=3, message_id="2", target_member_id="chen", emoji="👍"),
        ev("chen", t=4, message_id="4", text="see https://example.com @alice", mentions=("alice",), link_count=1),
        ev("chen", t=5, message_id="5", text="oops"),
        ev("chen", "delete", t=6, message_id="5"),
    ]
    f = frame_from_events(events)
    X = member_features(f, now=f.ts.max() + 1)
    a, b, c = (X.as_dict(f.code(m)) for m in ("alice", "bob", "chen"))
    assert c["messages"] == 2  # the deleted message does not count
    assert a["questions_asked"] == 1 and c["questions_answered"] == 1 and b["questions_answered"] == 1
    assert a["replies_received"] == 2 and a["distinct_responders"] == 2
    assert a["threads_started"] == 1
    assert c["reactions_received"] == 1 and a["reactions_given"] == 1
    assert a["mentions_received"] == 1 and c["links_shared"] == 1


def test_decay_halves_an_event_one_half_life_old():
    f = frame_from_events([ev("a", t=0, message_id="1"), ev("a", t=14 * 24, message_id="2")])
    X = member_features(f, now=f.ts.max() + 1e-3, half_life_days=14)
    assert X.as_dict(0)["messages"] == pytest.approx(1.5, rel=1e-6)


def series(active, new=None, mpa=10.0, retention=0.7):
    a = np.asarray(active, float)
    return WeeklySeries(
        starts=np.arange(a.size) * 7.0,
        active=a,
        new=np.asarray(new if new is not None else np.zeros(a.size), float),
        messages=a * mpa,
        retention=np.concatenate([[np.nan], np.full(a.size - 1, retention)]),
    )


def test_lifecycle_stages_of_generated_series():
    assert stage(series([3, 4])).stage == "creation"
    assert stage(series([10, 13, 17, 22, 29, 38, 50, 65])).stage == "growth"
    assert stage(series([80, 82, 79, 81, 80, 78, 81, 80], new=[3] * 8)).stage == "maturity"
    assert stage(series([90, 80, 70, 60, 50, 42, 35, 30])).stage == "decline"


def test_lifecycle_decline_by_falling_engagement_names_the_rule():
    s = series([50] * 8, retention=0.3)
    s.messages = 50 * np.array([20, 17, 14, 12, 10, 8, 6, 5], float)
    st = stage(s)
    assert st.stage == "decline" and "messages per active member" in st.rule
    assert st.numbers["retention"] == pytest.approx(0.3)


def test_frame_order_of_input_does_not_matter():
    events = [
        ev("alice", t=0, message_id="1", text="Why is it slow?"),
        ev("chen", t=1, message_id="2", text="Profile it first", reply_to_id="1"),
        ev("bob", "reaction", t=2, message_id="2", target_member_id="chen"),
    ]
    a = frame_from_events(events)
    b = frame_from_events(events[::-1])
    fa = member_features(a, now=10 * 3600.0 + a.ts.max())
    fb = member_features(b, now=10 * 3600.0 + b.ts.max())
    for m in ("alice", "bob", "chen"):
        assert fa.as_dict(a.code(m)) == fb.as_dict(b.code(m))
