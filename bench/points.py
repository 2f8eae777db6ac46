"""Points benchmark: what the points rules cost per live message, and the scheduler tick.

    python bench/points.py                 # 3,000 live events
    python bench/points.py --events 10000

Runs the same synthetic conversation (messages, replies, thanks, reactions from 200
members) through FakeAdapter → pipeline → store twice in one run: once with the points
and scheduler steps, once without them (the reference). Prints events per second of
both, their ratio, and p50/p99 latency per event; then the cost of one scheduler tick
(`run_due`) with 100 groups' schedules, and the ledger's leaderboard query.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Python puts this script's folder first on sys.path, where bench/telegram.py would
# shadow the python-telegram-bot package the app imports: use the project root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from adapters.fake import FakeAdapter  # noqa: E402
from bot.app import App  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.points import ledger_of  # noqa: E402
from bot.scheduler import scheduler_of  # noqa: E402
from storage.events import Event, EventKind  # noqa: E402

TEXTS = ["How do I start the capstone?", "Start from the rubric, then the outline.", "thanks, that helped!",
         "Use chunksize in read_csv.", "谢谢，解决了", "Is the deadline Friday?", "ok", "Here is my plot of week 3"]


def conversation(n: int, seed: int = 7) -> list[Event]:
    """Synthetic live events: 80 % messages (a third of them replies), 20 % reactions."""
    rng = random.Random(seed)
    t = datetime(2026, 11, 2, 9, tzinfo=UTC)
    out: list[Event] = []
    msgs: list[Event] = []
    for i in range(n):
        t += timedelta(seconds=rng.randint(1, 20))
        member = f"m{rng.randint(1, 200)}"
        if msgs and rng.random() < 0.2:
            target = rng.choice(msgs[-50:])
            out.append(Event("fake", "g1", EventKind.REACTION, t, member_id=member, member_name=member,
                             message_id=target.message_id, target_member_id=target.member_id, emoji="👍"))
            continue
        target = rng.choice(msgs[-20:]) if msgs and rng.random() < 0.33 else None
        e = Event("fake", "g1", EventKind.MESSAGE, t, member_id=member, member_name=member, message_id=str(i),
                  text=rng.choice(TEXTS), reply_to_id=target.message_id if target else None,
                  target_member_id=target.member_id if target else None)
        msgs.append(e)
        out.append(e)
    return out


async def live(events: list[Event], with_points: bool, tmp: Path) -> tuple[float, list[float]]:
    app = await App.create(load_config(None), f"sqlite:///{tmp / ('p.db' if with_points else 'ref.db')}", FakeClock())
    if not with_points:
        app.pipeline.steps = [(n, s) for n, s in app.pipeline.steps if n not in ("points", "scheduler")]
    adapter = FakeAdapter("fake")
    app.add_adapter(adapter)
    await adapter.start(app.handle)
    lat = []
    t0 = time.perf_counter()
    for e in events:
        app.clock.set(e.time)
        t1 = time.perf_counter()
        await adapter.inject(e)
        lat.append(time.perf_counter() - t1)
    rate = len(events) / (time.perf_counter() - t0)
    if with_points:
        g = await app.store.group("fake", "g1")
        t1 = time.perf_counter()
        for _ in range(20):
            await ledger_of(app).top(g.pk, None, None, 10)
        print(f"leaderboard query (/top points all, {len(events)} events): {(time.perf_counter() - t1) / 20 * 1000:.1f} ms")
    await app.store.close()
    return rate, lat


async def tick(tmp: Path, groups: int) -> None:
    app = await App.create(load_config(None), f"sqlite:///{tmp / 'tick.db'}", FakeClock(datetime(2026, 11, 4, 12, tzinfo=UTC)))
    for i in range(groups):
        g = await app.store.ensure_group("fake", f"g{i}", f"Group {i}")
        await scheduler_of(app).sync_group(g)
    sched = scheduler_of(app)
    now = app.clock.now() + timedelta(minutes=30)
    t0 = time.perf_counter()
    for k in range(5):
        await sched.run_due(now + timedelta(minutes=k), sync=False)
    per = (time.perf_counter() - t0) / 5
    n = len(await sched.agenda.schedules())
    print(f"scheduler tick (run_due, {n} schedules of {groups} groups, nothing due): {per * 1000:.1f} ms")
    await app.store.close()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=3000)
    args = ap.parse_args()
    events = conversation(args.events)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ref, ref_lat = await live(events, False, tmp)
        pts, pts_lat = await live(events, True, tmp)
        q = lambda xs, p: statistics.quantiles(xs, n=100)[p - 1] * 1000  # noqa: E731
        print(f"live pipeline without points: {ref:,.0f} events/s (p50 {q(ref_lat, 50):.2f} ms, p99 {q(ref_lat, 99):.2f} ms)")
        print(f"live pipeline with points:    {pts:,.0f} events/s (p50 {q(pts_lat, 50):.2f} ms, p99 {q(pts_lat, 99):.2f} ms)")
        print(f"ratio with/without: {pts / ref:.2f}")
        await tick(tmp, 100)


if __name__ == "__main__":
    asyncio.run(main())
