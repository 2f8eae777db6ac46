"""Load benchmark: a steady stream of messages from 500 members in 50 groups through
FakeAdapter → pipeline (every installed feature: moderation, points, commands) → store.
At 1,000 msg/s from 500 members every member sends two messages a second, so the flood
check rightly flags them: the run includes the cost of those flags and alerts.

    python bench/load.py                       # 1,000 msg/s for 60 s into SQLite
    python bench/load.py --rate 1000 --seconds 60 --db postgresql://postgres@127.0.0.1/cbload
    python bench/load.py --rate 1000 --seconds 20 --workers 2   # groups sharded over 2 processes

Open loop, as a bot receives updates: each message is dispatched at its due time as its
own task (at most `--concurrency` handled at once; the rest wait, and the wait counts),
whether or not earlier ones are finished. Latency is due time → fully handled (stored,
every step run, replies sent, the turn's writes committed: the moment a platform would
get its acknowledgement). Concurrent handlers share group commits (`storage.batch`).
Until 2026-11-25 this bench was closed loop (inject, await, next), which measured
1 / latency and left nothing to batch.

Prints offered and achieved throughput (messages handled / time until the last one was),
p50/p99/max latency per message, the most messages in flight, writes per commit, the
process's CPU time per message, peak memory (when the bot falls behind, the queued
messages are part of it), and verifies every message is stored exactly once. Target: no
loss, p99 < 20 ms on SQLite.
With `--workers N` the stream goes through the shard parent (`bot.shards`) to N worker
processes on the same database; latency ends when the worker's acknowledgement is back
in the parent, CPU is the parent's plus the workers' (start-up excluded), and memory is
the parent's peak plus each worker's.
The reference line is the same stream through a bare pipeline (no feature steps) in the
same run, so the cost of the features shows as a ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.fake import FakeAdapter  # noqa: E402
from bot.app import App  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.gctune import tune_for_service  # noqa: E402
from bot.shards import Shards  # noqa: E402
from storage.events import Event, EventKind  # noqa: E402
from storage.store import EventStore  # noqa: E402

#: Messages in flight at most (a bot's update queue is bounded too).
CONCURRENCY = 256

#: Seconds of cold start (first sights of 500 members and 50 groups) that the "after
#: warm-up" p99 leaves out; the plain p99 covers every message.
WARM = 5.0

#: The latency target (seconds): p99 under it. `--timeline` counts the messages over it.
TARGET = 0.020

WORDS = ("capstone rubric pandas regression notebook lecture deadline slides dataset plot model feature "
         "cluster survey interview portfolio matrix gradient python SQL join index query chart metric "
         "数据 模型 作业 课件 面试 项目 图表 指标 данные модель задание лекция").split()
TEXTS = [
    "How do I start the capstone?", "Start from the rubric.", "Thanks, that worked!", "数据清洗应该先做哪一步？",
    "Can someone explain p-values?", "Week 4 lecture was great", "Anyone joining the study session?",
    "Посмотрите слайды третьей недели", "I pushed my notebook to the repo", "What's the deadline for the proposal?",
]


def chat_text(rng: random.Random) -> str:
    """Varied chat, as in a real group: a real community does not post the same line
    hundreds of times (that is what the raid check is for)."""
    return f"{rng.choice(TEXTS)} {' '.join(rng.sample(WORDS, rng.randint(3, 9)))}"


def make_event(i: int, rate: int, rng: random.Random, t0: datetime) -> Event:
    """Message `i` of the stream: a random member of 500, in that member's group of 50."""
    member = rng.randrange(500)
    group = member % 50
    return Event(platform="fake", group_id=f"g{group}", group_title=f"Group {group}", kind=EventKind.MESSAGE,
                 time=t0 + timedelta(milliseconds=1000 * i / rate), member_id=f"u{member}",
                 member_name=f"Member {member}", message_id=str(i), text=chat_text(rng),
                 reply_to_id=str(i - rng.randint(1, 20)) if i > 20 and rng.random() < 0.3 else None)


async def run(url: str, rate: int, seconds: float, bare: bool, concurrency: int = CONCURRENCY, workers: int = 1) -> dict:
    """Offer `rate` msg/s for `seconds` (open loop); latency = due time → fully handled.

    With `workers` > 1 the stream goes through a `bot.shards.Shards` parent to that many
    worker processes, and latency ends when the worker's acknowledgement is back here.
    """
    fake = FakeAdapter()
    if workers > 1:
        shards = Shards(load_config(None), url, workers, bare=bare)
        shards.add_adapter(fake)
        await shards.start()
        before = {s["worker"]: s for s in await shards.stats()}
        app = None
        tune_for_service()  # as `communitybot run` tunes its shard parent
    else:
        app = await App.create(load_config(None), url)
        if bare:
            app.pipeline.steps = []
        app.add_adapter(fake)
        await app.start()
        tune_for_service()
    rng = random.Random(7)
    total = int(rate * seconds)
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    lat: list[float] = []
    warm: list[float] = []  # messages due after the first WARM seconds (cold start excluded)
    per_second: dict[int, list[float]] = {}  # second of the run a message was due in → latencies
    slots = asyncio.Semaphore(concurrency)
    running: set[asyncio.Task] = set()
    peak = 0

    async def one(e: Event, due: float) -> None:
        async with slots:
            await fake.inject(e)
        lat.append(time.perf_counter() - due)
        per_second.setdefault(int(due - start), []).append(lat[-1])
        if due - start >= WARM:
            warm.append(lat[-1])

    start = time.perf_counter()
    cpu0 = time.process_time()
    i = 0
    while i < total:
        now = time.perf_counter()
        # Every message whose time has come is dispatched now, as its own task, as a
        # platform's updates would be; a late dispatch counts in that message's latency.
        while i < total and start + i / rate <= now:
            task = asyncio.create_task(one(make_event(i, rate, rng, t0), start + i / rate))
            running.add(task)
            task.add_done_callback(running.discard)
            i += 1
        peak = max(peak, len(running))
        if i < total:
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
    while running:
        await asyncio.gather(*list(running))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    mem_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    parent_cpu = cpu
    if app is None:
        # The workers' CPU over the same span (their start-up is not part of the run),
        # and their peak memory added to the parent's.
        after = await shards.stats()
        cpu += sum(a["cpu"] - before[a["worker"]]["cpu"] for a in after)
        rounds = sum(a["rounds"] - before[a["worker"]]["rounds"] for a in after)
        items = sum(a["items"] - before[a["worker"]]["items"] for a in after)
        fallbacks = sum(a["fallbacks"] - before[a["worker"]]["fallbacks"] for a in after)
        mem_kb += sum(a["maxrss_kb"] for a in after)
        await shards.stop()
        if shards.error:
            print(f"WORKER FAILURE: {shards.error}", flush=True)
        store = await EventStore.open(url)
    else:
        store = app.store
        writes = app.store.writes
        rounds, items, fallbacks = writes.rounds, writes.items, writes.fallbacks
    stored = await store.count_events()
    async with store.engine.connect() as conn:
        from sqlalchemy import text

        distinct = (await conn.execute(text("SELECT count(DISTINCT group_pk || ':' || key) FROM events"))).scalar()
    if app is None:
        await store.close()
    else:
        await app.stop()
    lat.sort()
    warm.sort()
    return {
        "sent": total, "stored": stored, "distinct": distinct, "elapsed": elapsed, "done": len(lat),
        "p50": lat[len(lat) // 2] * 1000, "p99": lat[int(len(lat) * 0.99)] * 1000, "max": lat[-1] * 1000,
        "peak": peak, "cpu_ms": 1000 * cpu / total, "per_round": items / rounds if rounds else 0.0,
        "warm_p99": warm[int(len(warm) * 0.99)] * 1000 if warm else float("nan"),
        "mem_mb": mem_kb / 1024, "parent_cpu_ms": 1000 * parent_cpu / total, "fallbacks": fallbacks,
        "timeline": [(sec, sorted(v)[int(len(v) * 0.99)] * 1000, max(v) * 1000, sum(x > TARGET for x in v))
                     for sec, v in sorted(per_second.items())],
        "over": sum(x > TARGET for x in lat),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=int, default=1000, help="messages per second offered")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--concurrency", type=int, default=CONCURRENCY, help="messages handled at once at most")
    ap.add_argument("--workers", type=int, default=1,
                    help="shard worker processes (bot.shards); 1 = the bot in this process, as before")
    ap.add_argument("--timeline", action="store_true",
                    help="also print each second's p99 and max latency and its messages over 20 ms (by due time)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        runs = [("full bot", False)] if args.db else [("bare pipeline (reference)", True), ("full bot", False)]
        results: dict[str, dict] = {}
        for label, bare in runs:
            url = args.db or f"sqlite:///{Path(d) / ('bare.db' if bare else 'full.db')}"
            r = asyncio.run(run(url, args.rate, args.seconds, bare, args.concurrency, args.workers))
            ok = "OK" if r["stored"] == r["distinct"] == r["sent"] else "LOSS OR DUPLICATES"
            results[label] = r
            shard_note = f" ({r['parent_cpu_ms']:.2f} in the parent), {args.workers} workers" if args.workers > 1 else ""
            print(f"{label}: offered {args.rate}/s for {args.seconds:.0f} s → {r['done'] / r['elapsed']:,.0f} msg/s; "
                  f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms (after the first {WARM:.0f} s: {r['warm_p99']:.2f} ms), max {r['max']:.1f} ms, {r['over']:,} over {TARGET * 1000:.0f} ms; "
                  f"stored {r['stored']:,}/{r['sent']:,} distinct {r['distinct']:,} → {ok} "
                  f"(≤ {r['peak']} in flight, {r['per_round']:.1f} writes per commit, {r['cpu_ms']:.2f} ms CPU per message"
                  f"{shard_note}; peak memory {r['mem_mb']:.0f} MB)"
                  + (f"; {r['fallbacks']} rounds FAILED and were retried one write at a time" if r["fallbacks"] else ""), flush=True)
            if args.timeline:
                print("  second: p99 / max ms / messages over 20 ms  "
                      + "  ".join(f"{sec}: {p99:.0f}/{mx:.0f}/{n}" for sec, p99, mx, n in r["timeline"]), flush=True)
    if len(results) == 2:
        bare, full = results["bare pipeline (reference)"], results["full bot"]
        print(f"full bot / bare pipeline: throughput {full['done'] / full['elapsed'] / (bare['done'] / bare['elapsed']):.2f}, "
              f"p99 latency {full['p99'] / bare['p99']:.1f}×")
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (this process"
          f"{'; each run above shows its parent + workers' if args.workers > 1 else ''})")


if __name__ == "__main__":
    main()
