"""The service GC settings: start-up objects frozen, thresholds raised, and an object
that loses its last reference after the freeze is still freed."""

from __future__ import annotations

import gc
import weakref

from bot.gctune import THRESHOLDS, tune_for_service


class Thing:
    pass


def test_tuning_freezes_start_up_and_raises_thresholds():
    before = gc.get_threshold()
    kept = Thing()
    try:
        previous = tune_for_service()
        assert previous == before
        assert gc.get_threshold() == THRESHOLDS
        assert gc.get_freeze_count() > 0
        ref = weakref.ref(kept)
        del kept  # frozen, yet freed by reference counting like any object
        assert ref() is None
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
