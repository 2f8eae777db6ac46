"""SQLite's group-commit round in one hop to a writer thread.

Through aiosqlite every statement of a round is a trip from the event loop to the
driver's thread and back, and the round's coroutine then waits its turn behind every
ready handler. Under load that stretched a round of three statements to 20–150 ms while
it held SQLite's write lock, and with shard workers the other process waited that long
for the lock (measured with `bench/load.py --workers 2`). Here the whole round runs in
one call on a thread of its own, on a plain sqlite3 connection: the loop hands it over
once and gets the results back once; the lock is held for the writes' own time.

Checkpoints move off the commit path too: SQLite copies the WAL into the database at
the commit that finds it over 1,000 pages, and under load such a commit took up to 1.1 s
(while every waiting message waited with it). The writer's connection never checkpoints
(`AUTOCHECKPOINT` 0); a second thread runs a PASSIVE checkpoint, which waits for no
reader or writer, at most every `CHECKPOINT_EVERY` seconds while rounds are being
written. Under a steady stream of commits a PASSIVE checkpoint never catches up with
the last frame, so the WAL never starts over and grows; until 2026-11-26 the writer's
own checkpoint at 20,000 pages was the bound, run inside a commit on the event loop's
thread every ~4 s at 1,000 msg/s with two workers, each one a 25–200 ms stall of the
loop (the periodic spikes of `bench/load.py --timeline`). Now the checkpoint thread
bounds it: past `RESTART_FRAMES` it runs a RESTART checkpoint, which finishes the copy,
waits up to `RESTART_WAIT_MS` for readers to move on and makes the next commit start
the WAL over. It holds off writers while it copies what is left and syncs the file, so
PASSIVE passes first catch up with the commits made during the pass before
(`CATCH_UP_PASSES`): the RESTART then copies a few frames. One pass before it, as until
2026-12-07, left it a second of commits: it held writers 10 ms at the median and 16–19 ms
at most, and the messages in flight (both workers wait) were half of those over 20 ms in
`bench/load.py --workers 2`; with the catch-up passes, 1–3 ms and 7–13 ms.

The queued writes are the same `async def fn(conn)` functions as on PostgreSQL: they
only await `conn.execute` / `conn.exec_driver_sql`, which `_Conn` answers at once from
the synchronous connection, so each runs to completion with a single `send`.

Small rounds (the live bot's: a few messages and their writes) now run on the event
loop's own thread, not the writer thread. A round on the writer thread gave up the GIL
at every SQLite call and waited for it again behind the loop (up to the 1 ms switch
interval each time), so a round of 1 ms of work took 13–15 ms at p99 while it held the
shard workers' file lock (`bench/load.py --workers 2`, 30 s); inline, the same rounds take
2.1–2.6 ms at p99. An inline round never waits for SQLite's lock: its connection's busy
timeout is 0, and a round that finds the database locked (a write outside the queue)
runs again on the writer thread, which waits as long as any connection does. Large
rounds (more than `INLINE_MAX` items) go to the thread too, so the loop is never held
for long.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from storage.db import _sqlite_pragmas

if TYPE_CHECKING:
    from storage.process_lock import ProcessLock
    from storage.store import EventStore

log = logging.getLogger(__name__)

#: WAL pages at which the writer's own commit would checkpoint: never (see above;
#: SQLite's default is 1,000).
AUTOCHECKPOINT = 0

#: WAL frames past which the background checkpoint makes the WAL start over (64 MB of
#: 4 KB pages: at 1,000 msg/s with two workers, one RESTART every ~4 s).
RESTART_FRAMES = 16_384

#: Milliseconds a RESTART checkpoint waits for readers (and holds off writers) at most;
#: a reader that stays longer (a report's long query) defers it to the next round.
RESTART_WAIT_MS = 25

#: PASSIVE passes at most after the first before a RESTART (see the module doc), and the
#: seconds a pass must take less than for the RESTART to follow at once (it found little).
CATCH_UP_PASSES = 4
CAUGHT_UP = 0.002

#: Seconds between background checkpoints at most.
CHECKPOINT_EVERY = 1.0

#: Events and writes in a round that may run on the event loop's thread (see above).
INLINE_MAX = 64

#: Milliseconds the writer thread's rounds wait for SQLite's write lock (as every other
#: connection does, `storage.db`); inline rounds wait none.
PATIENT_MS = 5000


def file_url(url: str) -> str | None:
    """The pysqlite URL of a SQLite file database; None for anything else (an
    in-memory database exists per connection, so a second one would not see it)."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:"):
        return None
    return u.set(drivername="sqlite").render_as_string(hide_password=False)


class _Conn:
    """The part of `AsyncConnection` queued writes use, over a synchronous connection."""

    __slots__ = ("sync",)

    def __init__(self, sync: Connection) -> None:
        self.sync = sync

    async def execute(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        """`Connection.execute`, awaitable."""
        return self.sync.execute(statement, parameters, **kw)

    async def exec_driver_sql(self, sql: str, parameters: Any = None, **kw: Any) -> Any:
        """`Connection.exec_driver_sql`, awaitable."""
        return self.sync.exec_driver_sql(sql, parameters, **kw)

    @property
    def dialect(self) -> Any:
        """The connection's dialect."""
        return self.sync.dialect


def _writer_pragmas(dbapi_conn: Any, _record: Any) -> None:  # pragma: no cover - driver callback
    # On the driver connection: a statement through SQLAlchemy would autobegin a
    # transaction, and the round's `begin()` would then refuse to start one.
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT}")
    cur.execute("PRAGMA busy_timeout=0")  # inline rounds never wait; `_patient_round` does
    cur.close()


def _pragma(conn: Connection, pragma: str) -> None:
    # On the driver connection: through SQLAlchemy it would autobegin a transaction.
    conn.connection.dbapi_connection.execute(f"PRAGMA {pragma}")


def _locked(exc: BaseException) -> bool:
    """Whether `exc` is SQLite's "database is locked" / "busy" (another connection writes)."""
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, sqlite3.OperationalError) and ("locked" in str(orig) or "busy" in str(orig))


def drive(coro: Any) -> Any:
    """Run a coroutine that never suspends (it awaits only `_Conn`); return its value."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("a queued write awaited something other than its connection")


class SyncWriter:
    """Runs a round's writes in one transaction on one connection: on the loop's thread for
    a small round, on a dedicated thread for a large one or one that must wait for the lock."""

    def __init__(self, url: str) -> None:
        # Used by the loop's thread (inline rounds) and the writer thread, never by both at
        # once: the queue runs one round at a time.
        self.engine = create_engine(url, poolclass=NullPool, connect_args={"check_same_thread": False})
        event.listen(self.engine, "connect", _sqlite_pragmas)
        event.listen(self.engine, "connect", _writer_pragmas)
        self.path = make_url(url).database
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="communitybot-writer")
        self._conn: Connection | None = None
        self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="communitybot-checkpoint")
        self._ckpt_running = False
        self._last_ckpt = time.monotonic()
        #: Background checkpoints run, and those that made the WAL start over (for tests
        #: and the benchmark).
        self.checkpoints = 0
        self.restarts = 0
        #: Rounds run on the loop's thread / that found the database locked and went to the thread.
        self.inline = 0
        self.busy = 0

    async def round(self, store: EventStore, prepared: Any, writes: list, lock: ProcessLock | None, size: int) -> tuple[list, list]:
        """Write `prepared` events and run each queued write; (new flags, results).
        `size` is the round's number of events and writes: small rounds run inline."""
        out = None
        if size <= INLINE_MAX:
            if lock is not None:
                await lock.acquire()  # the loop goes on while another process writes
            # No garbage collection while this process holds the shared write lock: a
            # young collection (1-10 ms) would hold up every other worker's round too. One
            # due now runs at the first allocation after the round.
            paused = lock is not None and gc.isenabled()
            if paused:
                gc.disable()
            try:
                out = self._round(store, prepared, writes, None)
                self.inline += 1
            except Exception as exc:
                if not _locked(exc):
                    raise
                self.busy += 1  # rolled back: the thread runs it again, waiting for the lock
            finally:
                if lock is not None:
                    lock.release()
                if paused:
                    gc.enable()
        if out is None:
            loop = asyncio.get_running_loop()
            out = await loop.run_in_executor(self._thread, self._patient_round, store, prepared, writes, lock)
        self._maybe_checkpoint()
        return out

    def _patient_round(self, store: EventStore, prepared: Any, writes: list, lock: ProcessLock | None) -> tuple[list, list]:
        if self._conn is None:
            self._conn = self.engine.connect()
        _pragma(self._conn, f"busy_timeout={PATIENT_MS}")
        try:
            return self._round(store, prepared, writes, lock)
        finally:
            if self._conn is not None:  # closed if the round failed
                _pragma(self._conn, "busy_timeout=0")

    def _maybe_checkpoint(self) -> None:
        now = time.monotonic()
        if self._ckpt_running or now - self._last_ckpt < CHECKPOINT_EVERY:
            return
        self._ckpt_running, self._last_ckpt = True, now
        self._checkpointer.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        # A connection per checkpoint (one a second at most): none is left open on a
        # file that an outage or a restore replaces.
        try:
            with closing(sqlite3.connect(self.path, timeout=0, check_same_thread=False)) as conn:
                busy, frames, _done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if not busy and frames > RESTART_FRAMES:
                    # What commits added during the pass, copied without holding anyone off
                    # until a pass finds almost nothing; then the WAL can start over.
                    for _ in range(CATCH_UP_PASSES):
                        started = time.perf_counter()
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                        if time.perf_counter() - started < CAUGHT_UP:
                            break
                    conn.execute(f"PRAGMA busy_timeout={RESTART_WAIT_MS}")
                    if not conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()[0]:
                        self.restarts += 1
            self.checkpoints += 1
        except sqlite3.OperationalError as exc:
            # "locked" / "busy": another process (a shard worker) is checkpointing.
            log.debug("background WAL checkpoint skipped: %s", exc)
        except Exception:  # the writer's own checkpoints remain
            log.warning("background WAL checkpoint failed", exc_info=True)
        finally:
            self._ckpt_running = False

    def _round(self, store: EventStore, prepared: Any, writes: list, lock: ProcessLock | None) -> tuple[list, list]:
        if self._conn is None:
            self._conn = self.engine.connect()
        shim = _Conn(self._conn)
        if lock is not None:
            lock.acquire_blocking()  # this thread's own time: the loop goes on
        try:
            with self._conn.begin():
                new = drive(store.write_events(shim, prepared)) if prepared else []
                results = [drive(fn(shim)) for fn, _ in writes]
        except BaseException:
            self._close()
            raise
        finally:
            if lock is not None:
                lock.release()
        return new, results

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: S110 - a broken connection is dropped either way
                pass

    def close_now(self) -> None:
        """Close the connection before returning (the store's engine was disposed of: a
        reset after an outage, a file about to be replaced); waits for a round in flight."""
        try:
            self._thread.submit(self._close).result()
        except RuntimeError:  # the thread was shut down (the store closed): nothing runs
            self._close()

    async def close_connection(self) -> None:
        """Close the connection (the queue is idle); the next round opens another."""
        if self._conn is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._close)

    async def shutdown(self) -> None:
        """Close the connection and stop the thread (the store closes)."""
        await self.close_connection()
        self._thread.shutdown(wait=False)
        # A checkpoint in progress finishes first (it holds the file open).
        await asyncio.get_running_loop().run_in_executor(self._checkpointer, lambda: None)
        self._checkpointer.shutdown(wait=False)
        self.engine.dispose()
