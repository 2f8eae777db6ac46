"""Garbage-collector settings for a long-running bot process.

Under load the moderation windows hold a few hundred thousand small objects (the
near-duplicate index, members' recent texts), and CPython's full collection walks all of
them: with the default settings it ran every second or two and paused the event loop
for 150–400 ms each time (measured with `bench/load.py`), which alone put p99 latency
far past 20 ms. Two changes, both standard for services:

- `gc.freeze()` once the bot has started: what start-up built (modules, classes, the
  config, the spam model's base corpus) lives as long as the process, so collections
  stop walking it. Freezing only affects the cycle collector; frozen objects that lose
  their last reference are still freed at once.
- A larger first generation and rarer full collections (`THRESHOLDS`): young cycles are
  still found within 10,000 allocations; a full collection waits for 50 × 1,000 younger
  ones, minutes apart at 1,000 messages a second.

It also shortens the interpreter's thread switch interval (`SWITCH_INTERVAL`).

Called by `communitybot run` (and each shard worker) and the load benchmark, not by
tests or one-shot commands.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import time

log = logging.getLogger(__name__)

#: (first generation, second, third): see the module docstring.
THRESHOLDS = (10_000, 50, 1_000)

#: Seconds a thread may hold the GIL while another waits for it (CPython's default is
#: 0.005). The group-commit writer thread and the event loop take turns on every round;
#: with 5 ms turns a round that needed half a millisecond of Python could wait 5 ms for
#: the loop, and the loop as long for the round. Load, 2 workers, 20 s: p99 22 → 18 ms.
SWITCH_INTERVAL = 0.001


def tune_for_service() -> tuple[int, int, int]:
    """Collect once, freeze what start-up built, set `THRESHOLDS` and `SWITCH_INTERVAL`;
    returns the thresholds that were in force before."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL)
    return before


def log_pauses(min_ms: float = 20.0):
    """Log each collection that paused the process for `min_ms` or more (WARNING, with
    its generation and objects collected). On when `COMMUNITYBOT_GC_LOG` is set, from
    `COMMUNITYBOT_GC_LOG_MS` milliseconds (default 20): for finding where latency spikes
    come from. Returns the callback (in `gc.callbacks`)."""
    started: list[float] = [0.0]

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        ms = 1000 * (time.perf_counter() - started[0])
        if ms >= min_ms:
            log.warning("gc: generation %d collection paused %.0f ms (%d collected)", info["generation"], ms, info["collected"])

    gc.callbacks.append(callback)
    return callback


if os.environ.get("COMMUNITYBOT_GC_LOG"):
    log_pauses(float(os.environ.get("COMMUNITYBOT_GC_LOG_MS", "20")))
