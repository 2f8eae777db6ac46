"""The service GC settings: start-up objects frozen, thresholds raised, a shorter thread
switch interval, and an object that loses its last reference after the freeze is still
freed."""

from __future__ import annotations

import gc
import sys
import weakref

from bot.gctune import SWITCH_INTERVAL, THRESHOLDS, tune_for_service


class Thing:
    pass


def test_tuning_freezes_start_up_and_raises_thresholds():
    before = gc.get_threshold()
    switch = sys.getswitchinterval()
    kept = Thing()
    try:
        previous = tune_for_service()
        assert previous == before
        assert gc.get_threshold() == THRESHOLDS
        assert sys.getswitchinterval() == SWITCH_INTERVAL < 0.005
        assert gc.get_freeze_count() > 0
        ref = weakref.ref(kept)
        del kept  # frozen, yet freed by reference counting like any object
        assert ref() is None
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
        sys.setswitchinterval(switch)


def test_log_pauses_reports_a_collection_with_its_generation(caplog):
    import gc
    import logging

    from bot.gctune import log_pauses

    cb = log_pauses(min_ms=0.0)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.gctune"):
            gc.collect()
    finally:
        gc.callbacks.remove(cb)
    assert any("gc: generation 2 collection paused" in r.getMessage() for r in caplog.records)
