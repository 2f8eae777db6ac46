"""Ingest benchmark: import a generated Telegram export, against raw sqlite3 in the same run.

    python bench/ingest.py                  # 200,000 messages
    python bench/ingest.py --messages 1000000

Prints messages per second of `communitybot import` (run as the real command, in a child
process so its peak memory can be read), the rate of raw `sqlite3.executemany` inserting
the same rows into the same schema, their ratio, and live ingestion through
FakeAdapter → pipeline → store (events per second, p50/p99 latency per event).
Targets on a 2-core machine: ratio ≥ 0.3, 1M messages < 60 s, peak memory < 500 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sqlite3
import subprocess
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
from storage.db import make_engine, upgrade  # noqa: E402
from storage.events import Event, EventKind  # noqa: E402

WORDS = "data model python pandas rubric capstone question answer week lecture plot regression 数据 模型 作业".split()


def generate(path: Path, n: int, members: int = 5000, seed: int = 1) -> None:
    """A synthetic Telegram Desktop export: messages, replies, links, some reactions."""
    rng = random.Random(seed)
    t = datetime(2025, 1, 1, tzinfo=UTC)
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"name": "Bench Group", "type": "private_supergroup", "id": 1999999999, "messages": [')
        for i in range(1, n + 1):
            t += timedelta(seconds=rng.randint(1, 60))
            u = rng.randint(1, members)
            text = " ".join(rng.choices(WORDS, k=rng.randint(3, 14)))
            msg = {"id": i, "type": "message", "date": t.strftime("%Y-%m-%dT%H:%M:%S"),
                   "date_unixtime": str(int(t.timestamp())), "from": f"Member {u}", "from_id": f"user{u}",
                   "text": text, "text_entities": [{"type": "plain", "text": text}]}
            if i > 1 and rng.random() < 0.3:
                msg["reply_to_message_id"] = rng.randint(max(1, i - 50), i - 1)
            if rng.random() < 0.05:
                msg["text_entities"].append({"type": "link", "text": "https://example.test"})
            f.write(("," if i > 1 else "") + "\n" + json.dumps(msg, ensure_ascii=False))
        f.write("\n]}\n")


def raw_sqlite(path: Path, n_rows: int, db: Path) -> float:
    """Rows per second of raw sqlite3.executemany into the same schema (WAL, same indexes)."""
    async def schema() -> None:
        engine = make_engine(f"sqlite:///{db}")
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(schema())
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("INSERT INTO groups(platform, group_id, title, active, created_ts) VALUES ('telegram','-1001999999999','b',1,0)")
    rng = random.Random(2)
    rows = [(1, f"msg:{i}", "message", 1.7e9 + i, "", str(rng.randint(1, 5000)), str(i), None, None, "",
             " ".join(rng.choices(WORDS, k=8)), 0, None, 0, None, 0, "") for i in range(n_rows)]
    sql = ("INSERT OR IGNORE INTO events(group_pk, key, kind, ts, channel_id, member_id, message_id, reply_to_id, "
           "target_member_id, mentions, text, link_count, media, forwarded, emoji, is_bot, data) "
           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
    t0 = time.perf_counter()
    for s in range(0, n_rows, 2000):
        con.executemany(sql, rows[s : s + 2000])
        con.commit()
    dt = time.perf_counter() - t0
    con.close()
    return n_rows / dt


async def live(n: int, db: Path) -> tuple[float, float, float]:
    """Events per second and p50/p99 latency through FakeAdapter → pipeline → store."""
    app = await App.create(load_config(None), f"sqlite:///{db}")
    fake = FakeAdapter()
    app.add_adapter(fake)
    await app.start()
    rng = random.Random(3)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    lat = []
    t0 = time.perf_counter()
    for i in range(n):
        e = Event(platform="fake", group_id=f"g{i % 10}", kind=EventKind.MESSAGE, time=t + timedelta(seconds=i),
                  member_id=str(rng.randint(1, 500)), member_name="m", message_id=str(i), text="hello world")
        s = time.perf_counter()
        await fake.inject(e)
        lat.append(time.perf_counter() - s)
    total = time.perf_counter() - t0
    await app.stop()
    lat.sort()
    return n / total, lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--live", type=int, default=5000, help="events for the live-ingestion run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        export = d / "result.json"
        t0 = time.perf_counter()
        generate(export, args.messages)
        print(f"generated {args.messages:,} messages ({export.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "bot", "import", str(export), "--db", f"sqlite:///{d / 'import.db'}", "--json"],
                           cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        dt = time.perf_counter() - t0
        if r.returncode:
            sys.exit(f"import failed: {r.stderr}")
        summary = json.loads(r.stdout)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        ours = args.messages / dt
        print(f"communitybot import: {dt:.1f} s, {ours:,.0f} messages/s, {summary['events_new']:,} events stored, "
              f"peak memory {peak_mb:.0f} MB (whole process, including Python start-up)")

        raw = raw_sqlite(export, args.messages, d / "raw.db")
        print(f"raw sqlite3.executemany, same schema: {raw:,.0f} rows/s")
        print(f"ratio import / raw sqlite3: {ours / raw:.2f}   (target ≥ 0.30)")
        print(f"projected 1,000,000 messages: {1e6 / ours:.0f} s   (target < 60 s)")

        eps, p50, p99 = asyncio.run(live(args.live, d / "live.db"))
        print(f"live FakeAdapter → pipeline → store: {eps:,.0f} events/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms per event")


if __name__ == "__main__":
    main()
