"""Scoring benchmark: one million events from 20,000 members.

Prints the time of each step of a full recomputation (frame, features + activity +
influence for three windows, interests), peak memory, PageRank against
`networkx.pagerank` on the same graph in the same run, and `/top` answered through the
real app from a SQLite store holding the million events (cold, warm, and right after a
new message).

    python bench/scoring.py [--events 1000000] [--members 20000] [--no-store]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring.frame import build_frame  # noqa: E402
from scoring.influence import interaction_graph, pagerank  # noqa: E402
from scoring.interest import interests  # noqa: E402
from scoring.scores import window_scores  # noqa: E402

DAY = 86400.0
NOW = 1_800_000_000.0
TOPICS = {
    "programming": ["python code review", "my javascript bug", "写代码遇到问题", "программирование на python"],
    "data": ["sql query for the dashboard", "pandas data cleaning", "数据分析报告", "анализ данных"],
    "design": ["figma design critique", "ui colours feedback", "设计配色建议", "дизайн интерфейса"],
    "career": ["resume and interview tips", "salary negotiation", "面试经验分享", "собеседование и резюме"],
}
FILLER = ["thanks!", "great point", "agree", "谢谢分享", "спасибо", "how did you do that?", "为什么会这样？", "а как это работает?"]


def current_rss_mb() -> float:
    """Resident memory of this process right now, in MB (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(n_events: int, n_members: int, seed: int = 1) -> dict:
    """Synthetic columns: Zipf-like activity, replies to recent messages, reactions,
    mentions, multilingual texts about four topics, 20 channels over 180 days."""
    rng = np.random.default_rng(seed)
    ts = np.sort(NOW - rng.uniform(0, 180 * DAY, n_events))
    weight = 1.0 / np.arange(1, n_members + 1) ** 0.9
    member = rng.choice(n_members, n_events, p=weight / weight.sum())
    r = rng.random(n_events)
    kind = np.where(r < 0.72, "message", np.where(r < 0.97, "reaction", "join")).astype(object)
    is_msg = kind == "message"
    msg_idx = np.flatnonzero(is_msg)
    # Replies and reactions point at a message among the previous ~200 messages.
    pos = np.searchsorted(msg_idx, np.arange(n_events)) - 1
    back = np.maximum(pos - rng.integers(0, 200, n_events), 0)
    tgt_ev = np.where(pos >= 0, msg_idx[np.clip(back, 0, msg_idx.size - 1)], -1)
    replying = is_msg & (rng.random(n_events) < 0.35) & (tgt_ev >= 0)
    reacting = (kind == "reaction") & (tgt_ev >= 0)
    mid = np.array([f"m{i}" for i in range(n_events)], dtype=object)
    member_s = np.array([f"u{i}" for i in range(n_members)], dtype=object)[member]
    target = np.where(replying | reacting, member_s[np.maximum(tgt_ev, 0)], "")
    reply_to = np.where(replying, mid[np.maximum(tgt_ev, 0)], "")
    message_id = np.where(is_msg | (kind == "join"), mid, mid[np.maximum(tgt_ev, 0)])
    fav = rng.integers(0, len(TOPICS), n_members)[member]
    pool = [t for ts_ in TOPICS.values() for t in ts_]
    on_topic = rng.random(n_events) < 0.6
    text_idx = np.where(on_topic, fav * 4 + rng.integers(0, 4, n_events), len(pool) + rng.integers(0, len(FILLER), n_events))
    pool_all = pool + FILLER
    texts = [pool_all[i] if m else "" for i, m in zip(text_idx.tolist(), is_msg.tolist(), strict=True)]
    mentions = np.where(is_msg & (rng.random(n_events) < 0.04), member_s[rng.integers(0, n_events, n_events)], "")
    channel = np.array([f"c{i}" for i in range(20)], dtype=object)[(fav * 5 + rng.integers(0, 5, n_events)) % 20]
    return {
        "ts": ts, "kind": kind.tolist(), "member": member_s.tolist(), "target": target.tolist(),
        "channel": channel.tolist(), "message_id": message_id.tolist(), "reply_to": reply_to.tolist(),
        "mentions": mentions.tolist(), "texts": texts, "link_count": np.zeros(n_events, np.int32),
        "is_bot": np.zeros(n_events, bool),
    }


CPU: list[float] = []


def timed(label: str, fn, *a, **kw):
    """Run fn, print its wall and CPU time, return (result, wall seconds).

    CPU time is printed too because the machine is shared: under load the wall time
    grows while the CPU time stays what the work costs.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*a, **kw)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print(f"  {label:<48} {dt:7.3f} s wall {dc:7.3f} s cpu")
    CPU.append(dc)
    return out, dt


def bench_pure(cols: dict) -> None:
    """Full recomputation from columns in memory, and PageRank vs networkx."""
    from bot.scoring_feature import DEFAULT_TAXONOMY

    print(f"Full recomputation ({len(cols['ts']):,} events):")
    CPU.clear()
    base = rss_mb()
    frame, t_frame = timed("frame (intern ids, resolve replies, questions)", build_frame, **cols)
    print(f"    members {frame.n_members:,}, channels {frame.channels.size}")
    t_scores = 0.0
    for w in ("7d", "30d", "all"):
        _, dt = timed(f"features + activity + influence, window {w}", window_scores, frame, NOW, w)
        t_scores += dt
    _, t_int = timed("interests (taxonomy + vocabulary + char TF-IDF)", interests, frame, DEFAULT_TAXONOMY, 8)
    total = t_frame + t_scores + t_int
    print(f"  {'total':<48} {total:7.3f} s wall {sum(CPU):7.3f} s cpu")
    print(f"  peak RSS {rss_mb():.0f} MB (before the recomputation: {base:.0f} MB, data generation included)")

    import networkx as nx

    W = interaction_graph(frame, NOW)
    print(f"\nPageRank on the interaction graph: {W.shape[0]:,} members, {W.nnz:,} weighted edges")
    ours, t_ours = timed("scoring.influence.pagerank (scipy.sparse)", pagerank, W, tol=1e-6)
    G = nx.DiGraph()
    G.add_nodes_from(range(W.shape[0]))
    c = W.tocoo()
    G.add_weighted_edges_from(zip(c.row.tolist(), c.col.tolist(), c.data.tolist(), strict=True))
    ref, t_nx = timed("networkx.pagerank (same graph, tol=1e-6)", nx.pagerank, G, alpha=0.85, tol=1e-6)
    diff = max(abs(ours[i] - ref[i]) for i in range(W.shape[0]))
    print(f"  ratio networkx / ours: {t_nx / t_ours:.1f}x   max |difference|: {diff:.2e}")
    print(f"  peak RSS {rss_mb():.0f} MB (networkx graph included)")


def load_store(cols: dict, path: Path) -> None:
    """Write the events straight into a migrated SQLite store (bench setup only)."""
    import sqlite3

    from storage.store import EventStore

    async def migrate():
        store = await EventStore.open(f"sqlite:///{path}")
        g = await store.ensure_group("fake", "g1", "Bench group")
        await store.close()
        return g.pk

    gpk = asyncio.run(migrate())
    con = sqlite3.connect(path)
    n = len(cols["ts"])
    rows = (
        (gpk, f"k{i}", cols["kind"][i], float(cols["ts"][i]), cols["channel"][i], cols["member"][i], cols["message_id"][i],
         cols["reply_to"][i] or None, cols["target"][i] or None, cols["mentions"][i], cols["texts"][i], 0, 0, 0, "")
        for i in range(n)
    )
    con.executemany(
        "INSERT INTO events (group_pk, key, kind, ts, channel_id, member_id, message_id, reply_to_id, "
        "target_member_id, mentions, text, link_count, forwarded, is_bot, data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    con.commit()
    con.close()


async def bench_top(path: Path) -> None:
    """/top through the real app: cold, warm, and right after a new message."""
    from datetime import UTC, datetime

    from bot.testing import BotHarness

    before = current_rss_mb()
    started = time.perf_counter()
    bot = await BotHarness.create(path.parent, db_url=f"sqlite:///{path}")
    bot.clock.set(datetime.fromtimestamp(NOW, UTC))
    print("\n/top through the app (SQLite store, FakeAdapter):")
    svc = bot.app.services["scoring"]
    t0 = time.perf_counter()
    out = await bot.ask("u1", "/top")
    print(f"  {'first, right after start':<44} {(time.perf_counter() - t0) * 1000:8.1f} ms   reply: {out.splitlines()[0]!r}")
    warm = getattr(svc, "_warm_task", None)
    if warm is not None:
        await warm
        print(f"  {'warm-up finished (load 1M rows, frame, scores)':<44} {(time.perf_counter() - started):8.1f} s after start")
    for label in ("warm (cached)", "warm again"):
        t0 = time.perf_counter()
        out = await bot.ask("u1", "/top")
        print(f"  {label:<44} {(time.perf_counter() - t0) * 1000:8.1f} ms   first line: {out.splitlines()[1]!r}")
    await bot.say("u2", "a new message")
    await bot.later(61)  # past refresh_seconds: the next read starts a background refresh
    t0 = time.perf_counter()
    await bot.ask("u1", "/top influence")
    print(f"  {'after a new message (stale, refresh in bg)':<44} {(time.perf_counter() - t0) * 1000:8.1f} ms")
    task = svc.groups[bot.group.pk].task
    if task is not None:
        t0, c0 = time.perf_counter(), time.process_time()
        await task
        print(f"  {'background refresh (1 new row)':<44} {(time.perf_counter() - t0) * 1000:8.1f} ms wall "
              f"{(time.process_time() - c0) * 1000:8.1f} ms cpu")
    print(f"  resident memory: {before:.0f} MB before the app, {current_rss_mb():.0f} MB with the group's scores cached")
    await bot.close()


def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--members", type=int, default=20_000)
    ap.add_argument("--no-store", action="store_true", help="skip the /top-through-SQLite part")
    ap.add_argument("--no-pure", action="store_true", help="skip the in-memory recomputation part")
    args = ap.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    t0 = time.perf_counter()
    cols = generate(args.events, args.members)
    print(f"generated {args.events:,} events from {args.members:,} members in {time.perf_counter() - t0:.1f} s\n")
    if not args.no_pure:
        bench_pure(cols)
    if not args.no_store:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "bench.db"
            t0 = time.perf_counter()
            load_store(cols, path)
            print(f"\n(loaded the store in {time.perf_counter() - t0:.1f} s)")
            del cols
            asyncio.run(bench_top(path))


if __name__ == "__main__":
    main()
