"""Single flight: concurrent calls for the same key share one call.

Under load many handlers meet a group, a member or a group's settings for the first time
at once; without this, each of them would run the same first-sight query (or write) and
a burst of arrivals would turn into a burst of identical database work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any


class SingleFlight:
    """Runs `fn()` once per key at a time; callers arriving meanwhile get its result."""

    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future] = {}

    async def do(self, key: Hashable, fn: Callable[[], Awaitable[Any]]) -> Any:
        """`await fn()`, or the result of the call for `key` already running."""
        fut = self._running.get(key)
        if fut is None:
            fut = asyncio.ensure_future(fn())
            self._running[key] = fut
            fut.add_done_callback(lambda f: self._running.pop(key, None) if self._running.get(key) is f else None)
        # shield: one caller being cancelled must not cancel the others' shared call.
        return await asyncio.shield(fut)
