"""An exclusive file lock taken without blocking the event loop: shard workers that
write one SQLite file take it around each group commit (`storage.batch`)."""

from __future__ import annotations

import asyncio


class ProcessLock:
    """An exclusive `flock` on a file, taken without blocking the event loop."""

    def __init__(self, path: str) -> None:
        import os

        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    async def acquire(self) -> None:
        """Take the lock: at once if free, else wait in a thread until it is."""
        import fcntl

        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        waiting = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, self.fd, fcntl.LOCK_EX))
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # The thread still takes the lock later; give it back then, or every other
            # writer would wait for this process forever.
            waiting.add_done_callback(lambda f: None if f.cancelled() or f.exception() else self.release())
            raise

    def release(self) -> None:
        """Give the lock up."""
        import fcntl

        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def acquire_blocking(self) -> None:
        """Take the lock, waiting in this (non-loop) thread until it is free."""
        import fcntl

        fcntl.flock(self.fd, fcntl.LOCK_EX)
