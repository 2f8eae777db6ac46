"""Onboarding benchmark: what the feature costs per message and per join, and how fast
due timers run — each against a reference measured in the same run.

    python bench/onboarding.py              # 2,000 messages, 300 joins, 1,000 timers

1. Messages through FakeAdapter → pipeline → store with onboarding installed, against
   the same app without it (ratio: how much of the per-message time is onboarding's).
2. A join raid of N accounts with the gate on (restrict + gate message + timer each),
   against N plain messages through the same app.
3. `run_due()` removing N timed-out newcomers, against appending N events to the store.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/telegram.py would shadow the telegram package when run as a script.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import bot.app as app_module  # noqa: E402
from bot.config import load_config_text  # noqa: E402
from bot.testing import BotHarness  # noqa: E402

CONFIG = '[onboarding]\ngate = "button"\nwelcome_delete_minutes = 10.0\n'


async def harness(tmp: Path, with_onboarding: bool) -> BotHarness:
    config = load_config_text(CONFIG)  # read while every section is registered
    saved = list(app_module.FEATURES)
    if not with_onboarding:
        app_module.FEATURES[:] = [f for f in saved if f != "bot.onboarding"]
    try:
        return await BotHarness.create(tmp, config=config)
    finally:
        app_module.FEATURES[:] = saved


async def messages(bot: BotHarness, n: int, prefix: str) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        await bot.say(f"{prefix}{i % 50}", f"message {i} about pandas and the rubric")
    return time.perf_counter() - t0


async def main(n_msgs: int, n_joins: int, n_timers: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "a").mkdir()
        (root / "b").mkdir()
        (root / "c").mkdir()
        plain = await harness(root / "a", with_onboarding=False)
        full = await harness(root / "b", with_onboarding=True)
        await messages(plain, 50, "w")  # warm both up
        await messages(full, 50, "w")
        # Interleaved rounds, so disk and cache effects fall on both alike.
        t_plain = t_full = 0.0
        for r in range(4):
            t_plain += await messages(plain, n_msgs // 4, f"m{r}-")
            t_full += await messages(full, n_msgs // 4, f"m{r}-")
        print(f"messages: {n_msgs / t_full:,.0f}/s with onboarding, {n_msgs / t_plain:,.0f}/s without "
              f"(ratio {t_plain / t_full:.2f}; onboarding adds {(t_full - t_plain) / n_msgs * 1e6:,.0f} µs per message)")

        t0 = time.perf_counter()
        for i in range(n_joins):
            await full.join(f"raid{i}")
            full.clock.advance(-0.9)  # a burst: ~0.1 s apart
        t_joins = time.perf_counter() - t0
        t_ref = await messages(full, n_joins, "r")
        gates = await full.app.services["onboarding"].store.gates(full.group.pk)
        print(f"joins: {n_joins} gated joins in {t_joins:.2f} s ({n_joins / t_joins:,.0f}/s; {len(gates)} gates), "
              f"{t_joins / t_ref:.1f}× the time of as many messages")
        await plain.close()
        await full.close()

        bot = await harness(root / "c", with_onboarding=True)
        for i in range(n_timers):
            await bot.join(f"late{i}")
            bot.clock.advance(-0.9)  # all inside the gate time: none is due before the end
        bot.clock.advance(3600)
        t0 = time.perf_counter()
        ran = await bot.app.services["onboarding"].run_due()
        t_due = time.perf_counter() - t0
        kicked = sum(1 for a in bot.adapter.actions if a.kind.value == "kick")
        t0 = time.perf_counter()
        await messages(bot, n_timers, "x")
        t_ref = time.perf_counter() - t0
        print(f"timers: run_due ran {len(ran)} timers ({kicked} removals) in {t_due:.2f} s "
              f"({len(ran) / t_due:,.0f}/s), {t_due / t_ref:.2f}× the time of {n_timers} messages")
        await bot.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=2000)
    p.add_argument("--joins", type=int, default=300)
    p.add_argument("--timers", type=int, default=1000)
    a = p.parse_args()
    asyncio.run(main(a.messages, a.joins, a.timers))
