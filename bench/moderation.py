"""Moderation benchmark: every check and the classifier on every message.

    python bench/moderation.py                    # 20,000 messages, 2,000 members
    python bench/moderation.py --messages 100000 --members 20000

Prints p50/p99 latency per message and messages per second of all checks together
(`Screener.screen`: flood, repeat, raid, newcomer, mentions, shouting, symbols,
blocklist, spam classifier, anomaly), on one core; as the reference measured in the
same run, sklearn's own per-message `HashingVectorizer.transform` + `predict_proba`
(the classifier alone, called the ordinary way) and the ratio between them. Then the
memory of the group's window after the run (bounded by its caps), and the whole live
pipeline (FakeAdapter → store → moderation step) with and without moderation.
The checks run twice, interleaved: with the native loops (`bot/native.py`, the default
when a C compiler is at hand) and in pure Python, so their ratio is measured in one run.
Targets: p99 ≤ 2 ms, ≥ 2,000 messages/s on one core, bounded memory per group.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import native  # noqa: E402
from bot.mod_model import base_model  # noqa: E402
from scoring import textnorm  # noqa: E402
from scoring.checks import BlocklistSettings  # noqa: E402
from scoring.screen import Screener, default_checks  # noqa: E402
from scoring.spam_corpus import generate  # noqa: E402
from scoring.window import GroupWindow  # noqa: E402
from storage.events import Event, EventKind, count_links  # noqa: E402

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WORDS_EN = ("the data model python pandas rubric capstone question answer week lecture plot regression "
            "deadline docker error thanks please help review slides notebook join query index table why how").split()
WORDS_ZH = "数据 模型 作业 老师 请问 谢谢 截止 课程 代码 报错 复习 考试 笔记 项目".split()
WORDS_RU = "данные модель задание лекция спасибо вопрос дедлайн ошибка код проект курс".split()


def stream(n: int, members: int, seed: int = 7) -> list[Event]:
    """A group's day-to-day chat (generated corpus, ~3% spam) with a 30-account raid."""
    rng = random.Random(seed)
    corpus = generate()
    vocab = (WORDS_EN + WORDS_ZH + WORDS_RU)
    ham = [s.text for s in corpus if s.label == 0]
    spam = [s.text for s in corpus if s.label == 1]
    out: list[Event] = []
    t = T0
    raid_at = n // 2
    for i in range(n):
        t += timedelta(seconds=rng.expovariate(1 / 4))
        if raid_at <= i < raid_at + 30:
            member, text = f"raider{i}", "Join our crypto signals group t.me/+pumpgroup now!!"
        else:
            member = f"m{int(members * rng.random() ** 2)}"  # a few members talk most
            r = rng.random()
            if r < 0.03:
                text = rng.choice(spam)
            elif r < 0.30:
                text = rng.choice(ham)
            else:  # free chat: the generated templates alone would repeat too often
                text = " ".join(rng.choices(vocab, k=rng.randint(2, 30)))
        out.append(Event("bench", "g1", EventKind.MESSAGE, t, member_id=member, member_name=member,
                         message_id=str(i), text=text, link_count=count_links(text)))
    return out


def pct(xs: list[float], p: float) -> float:
    """The p-th percentile of xs."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def bench_checks(events: list[Event]) -> tuple[list[float], list[float], int, GroupWindow, int]:
    """Screen every event; returns latencies, flagged count, the window and traced bytes."""
    model = base_model()
    screener = Screener(default_checks(model))
    settings = {"blocklist": BlocklistSettings(words=["casino", "free money", "加微信"], regexes=[r"bit\.ly/\w+"])}
    window = GroupWindow()
    for e in events[:200]:  # warm caches the way a running bot has them
        screener.screen(e, GroupWindow(), settings)
    lat: list[float] = []
    cpu: list[float] = []
    flagged = 0
    for e in events:
        c = time.thread_time()
        t = time.perf_counter()
        sc = screener.screen(e, window, settings)
        lat.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
        flagged += bool(sc.flagged)
    # Memory measured in a second pass (tracing would distort the timings above).
    tracemalloc.start()
    traced = GroupWindow()
    for e in events:
        screener.screen(e, traced, settings)
    mem = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return lat, cpu, flagged, window, mem


def bench_reference(events: list[Event]) -> tuple[list[float], list[float]]:
    """The classifier alone, called per message the ordinary sklearn way."""
    model = base_model()
    lat, cpu = [], []
    for e in events:
        c = time.thread_time()
        t = time.perf_counter()
        model.clf.predict_proba(model.vectorizer.transform([e.text]))
        lat.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
    return lat, cpu


async def bench_pipeline(events: list[Event], moderation: bool) -> float:
    """Events per second through FakeAdapter → pipeline → SQLite store."""
    from adapters.fake import FakeAdapter
    from bot.app import App
    from bot.config import load_config

    with tempfile.TemporaryDirectory() as d:
        app = await App.create(load_config(None, require_secrets=False), f"sqlite:///{d}/bench.db")
        if not moderation:
            app.pipeline.steps = [s for s in app.pipeline.steps if s[0] != "moderation"]
        adapter = FakeAdapter("bench")
        app.add_adapter(adapter)
        await app.start()
        t = time.perf_counter()
        for e in events:
            await adapter.inject(e)
        rate = len(events) / (time.perf_counter() - t)
        await app.stop()
    return rate


def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--members", type=int, default=2000)
    ap.add_argument("--pipeline", type=int, default=2000, help="events through the live pipeline (0 to skip)")
    args = ap.parse_args()
    events = stream(args.messages, args.members)
    have_native = native.enable()
    mod = textnorm._native
    if have_native:
        # Interleaved pure / native, best of two each: the machine's speed drifts.
        pure_cpu, nat_cpu = [], []
        for on in (False, True, False, True):
            textnorm.use_native(mod if on else None)
            result = bench_checks(events)
            (nat_cpu if on else pure_cpu).append(sum(result[1]))
        lat, cpu, flagged, window, mem = result  # the last run: native
        print(f"native loops: all checks {len(events) / min(nat_cpu):,.0f} msg/s of the thread's CPU, pure Python "
              f"{len(events) / min(pure_cpu):,.0f} (ratio {min(pure_cpu) / min(nat_cpu):.2f}x, best of two each, interleaved)")
    else:
        print("native loops unavailable (see the warning above): every figure below is pure Python")
        lat, cpu, flagged, window, mem = bench_checks(events)
    ref, ref_cpu = bench_reference(events[: min(len(events), 5000)])
    print(f"messages: {len(events):,} from {len({e.member_id for e in events}):,} members; flagged {flagged:,}")
    for label, xs, ys in (("wall clock", lat, ref), ("CPU time of the thread (immune to other load)", cpu, ref_cpu)):
        rate, ref_rate = len(xs) / sum(xs), len(ys) / sum(ys)
        print(f"{label}:")
        print(f"  all checks + classifier : p50 {statistics.median(xs) * 1e3:.3f} ms  p99 {pct(xs, 99) * 1e3:.3f} ms  "
              f"max {max(xs) * 1e3:.1f} ms  {rate:,.0f} msg/s (one core)")
        print(f"  reference, sklearn transform+predict_proba per message: p50 {statistics.median(ys) * 1e3:.3f} ms  "
              f"p99 {pct(ys, 99) * 1e3:.3f} ms  {ref_rate:,.0f} msg/s")
        print(f"  ratio: all checks / classifier-alone reference = {rate / ref_rate:.2f}x the throughput")
    print(f"window after the run: {len(window.members):,} members kept (cap {window.max_members:,}), "
          f"{len(window.recent):,} indexed texts (cap {window.max_index:,}), {len(window.clusters):,} clusters; "
          f"traced memory {mem / 1e6:.1f} MB")
    if args.pipeline:
        sub = events[: args.pipeline]
        # Interleaved, best of two each: the first run also pays for imports and caches.
        runs = {True: [], False: []}
        for mod in (False, True, False, True):
            runs[mod].append(asyncio.run(bench_pipeline(sub, mod)))
        with_mod, without = max(runs[True]), max(runs[False])
        print(f"live pipeline (FakeAdapter → SQLite store): {with_mod:,.0f} events/s with moderation, "
              f"{without:,.0f} without (ratio {with_mod / without:.2f})")


if __name__ == "__main__":
    main()
