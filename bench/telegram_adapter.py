"""Telegram adapter benchmark: updates from the fake Bot API server through the real
python-telegram-bot stack (HTTP long polling, `Update.de_json`, `to_event`) into the
pipeline and the store, against the pipeline alone on the same events in the same run.

    python bench/telegram_adapter.py                # 4,000 updates in 20 groups, 300 one at a time
    python bench/telegram_adapter.py --updates 20000 --single 1000

Prints:
- throughput: updates per second with a backlog (getUpdates returns up to 100 at a time;
  groups are handled concurrently, each in order), and the pipeline alone on the same
  events (fed to `App.handle` one group after another in the same process), with the ratio;
- latency: one update at a time, from the fake accepting it to the adapter having handled
  it, p50/p99, against the pipeline alone per event; the difference is what the adapter
  adds (HTTP round trip of the long poll, parsing, translation);
- to_event alone: microseconds per update for `Update.de_json` + `to_event`.
Nothing here is asserted: the numbers are to read and compare.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from telegram import Update  # noqa: E402
from telegram_fake_api import FakeBotApi, group, user  # noqa: E402

import bot.telegram  # noqa: E402,F401  (registers [telegram])
from adapters.telegram_events import TranslateContext, to_event  # noqa: E402
from bot.app import App  # noqa: E402
from bot.config import SECTIONS, load_config_text, register_all  # noqa: E402
from bot.telegram import build_telegram_adapter  # noqa: E402

WORDS = "data model python pandas rubric capstone question answer week lecture plot 数据 模型 作业 вопрос".split()


def make_updates(n: int, groups: int, start_id: int, t0: int, seed: int = 7) -> list[dict]:
    """Realistic-ish group messages: replies, mentions, links, a few forwards."""
    rnd = random.Random(seed)
    people = [user(10_000 + i, f"Member {i}", f"member{i}") for i in range(300)]
    out, last = [], {}
    for i in range(n):
        gid = -1002000000000 - rnd.randrange(groups)
        who = rnd.choice(people)
        words = [rnd.choice(WORDS) for _ in range(rnd.randint(3, 25))]
        msg = {"message_id": start_id + i, "date": t0 + i, "chat": group(gid, f"Group {gid}"), "from": who}
        ents = []
        if rnd.random() < 0.15:
            other = rnd.choice(people)
            words.insert(0, "@" + other["username"])
            ents.append({"type": "mention", "offset": 0, "length": len(other["username"]) + 1})
        text = " ".join(words)
        if rnd.random() < 0.05:
            ents.append({"type": "url", "offset": len(text) + 1, "length": 19})
            text += " https://example.org"
        msg["text"] = text
        if ents:
            msg["entities"] = ents
        if gid in last and rnd.random() < 0.3:
            msg["reply_to_message"] = last[gid]
        if rnd.random() < 0.03:
            msg["forward_origin"] = {"type": "user", "sender_user": rnd.choice(people), "date": t0}
        last[gid] = {k: msg[k] for k in ("message_id", "date", "chat", "from", "text")}
        out.append({"update_id": start_id + i, "message": msg})
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


async def run(args) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="tgbench-"))
    t0 = int(time.time()) - 86400
    backlog = make_updates(args.updates, args.groups, 1, t0)
    singles = make_updates(args.single, args.groups, 10_000_000, t0 + args.updates, seed=8)

    # -- to_event alone ----------------------------------------------------------------
    ctx = TranslateContext(bot_id=1, bot_username="b")
    t = time.perf_counter()
    events = [e for u in backlog for e in to_event(Update.de_json(u, None), ctx)]
    single_events = [e for u in singles for e in to_event(Update.de_json(u, None), ctx)]
    translate_us = (time.perf_counter() - t) / (len(backlog) + len(singles)) * 1e6

    # -- reference: the pipeline alone -------------------------------------------------
    # Moderation only records here: its alerts would be sent (and rate limited to 20 a
    # minute per group) on the Telegram path but dropped unsent in the reference.
    register_all()
    quiet = '[moderation]\nmode = "observe"\n' if "moderation" in SECTIONS else ""
    ref = await App.create(load_config_text(quiet), f"sqlite:///{tmp / 'ref.db'}")
    t = time.perf_counter()
    for e in events:
        await ref.handle(e)
    ref_rate = len(events) / (time.perf_counter() - t)
    ref_lat = []
    for e in single_events:
        s = time.perf_counter()
        await ref.handle(e)
        ref_lat.append(time.perf_counter() - s)
    await ref.stop()

    # -- the Telegram path ---------------------------------------------------------------
    fake = FakeBotApi()
    await fake.start()
    os.environ["BENCH_TG_TOKEN"] = fake.token
    cfg = load_config_text(quiet + f'[telegram]\nenabled = true\ntoken_env = "BENCH_TG_TOKEN"\n'
                           f'api_base_url = "{fake.base_url}"\npoll_timeout = 10\n')
    app = await App.create(cfg, f"sqlite:///{tmp / 'tg.db'}")
    adapter = build_telegram_adapter(app)
    app.add_adapter(adapter)
    fake.updates.extend(backlog)
    t = time.perf_counter()
    await app.start()
    while not adapter.handled(backlog[-1]["update_id"]):
        await asyncio.sleep(0.005)
    tg_rate = len(backlog) / (time.perf_counter() - t)
    tg_lat = []
    for u in singles:
        s = time.perf_counter()
        fake.updates.append(u)
        async with fake._new_update:
            fake._new_update.notify_all()
        while not adapter.handled(u["update_id"]):
            await asyncio.sleep(0.0005)
        tg_lat.append(time.perf_counter() - s)
    stored = await app.store.count_events()
    await app.stop()
    await fake.stop()

    ms = 1000
    print(f"Telegram adapter benchmark ({len(backlog)} backlog updates in {args.groups} groups, {len(singles)} one at a time)")
    print(f"  stored events: {stored} (expected {len(backlog) + len(singles)})")
    print(f"  throughput  telegram path: {tg_rate:8.0f} updates/s")
    print(f"              pipeline alone: {ref_rate:8.0f} events/s   ratio {tg_rate / ref_rate:.2f}")
    print(f"  latency     telegram path: p50 {statistics.median(tg_lat) * ms:6.2f} ms  p99 {pct(tg_lat, 0.99) * ms:6.2f} ms")
    print(f"              pipeline alone: p50 {statistics.median(ref_lat) * ms:6.2f} ms  p99 {pct(ref_lat, 0.99) * ms:6.2f} ms")
    print(f"              added by the adapter: p50 {(statistics.median(tg_lat) - statistics.median(ref_lat)) * ms:6.2f} ms")
    print(f"  de_json + to_event alone: {translate_us:.0f} µs/update")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--updates", type=int, default=4000)
    p.add_argument("--groups", type=int, default=20)
    p.add_argument("--single", type=int, default=300)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
