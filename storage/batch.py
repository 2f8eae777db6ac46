"""Group commit: one writer that folds every write the live path makes into one
transaction per round, instead of one transaction (and several driver round trips)
per write.

Under load the bot handles many events at once; each wants to store its event, maybe
update a flag, write an audit row or a trust counter. `WriteQueue` collects them while
the previous round's transaction is in flight and commits the next round as one
transaction: the events first (one multi-row INSERT), then the queued writes in the
order they were queued. On SQLite this also makes the bot its database's only writer, so
concurrent handlers never wait on SQLite's busy lock.

Three ways in:

- `append(event)`: store one event; returns True if it was new, once committed.
- `run(fn)`: run `fn(conn)` inside the next round's transaction; returns its result
  once committed (writes whose result, or whose visibility to a following read, matters:
  flags, ledger rows).
- `defer(fn)`: the same without waiting (trust counters). `defer_insert(table, row)`
  and `defer_update(table, id, values)` are cheaper still: a round writes all rows of a
  table with one executemany, and folds several updates of one row into one (audit
  rows, a flag's growing member list). `barrier()` returns when everything queued
  before it is committed: the pipeline calls it before acknowledging an event, so
  nothing a platform saw acknowledged is lost to a crash.

`stage(event, group_pk)` (`storage.batch_stage`) is the pipeline's way in: the event's
row is held back until its turn queues a write or reaches its barrier, and then commits
in the same round as the writes its handling makes.

If a round's transaction fails, it is rolled back and every item is retried in its own
transaction, so one bad write fails alone (its caller gets the exception; a deferred
write's failure is logged, like a failing pipeline step). `flush()` (at close) commits
whatever is queued.
"""

from __future__ import annotations

import asyncio
import logging
import time as _time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, event

from storage.batch_stage import DEFERRING, StagingMixin, TurnWrites
from storage.batch_writes import ReturningBatch, folded, one_by_one
from storage.process_lock import ProcessLock
from storage.sync_writer import SyncWriter, file_url

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from storage.events import Event
    from storage.store import EventStore

log = logging.getLogger(__name__)

Write = Callable[["AsyncConnection"], Awaitable[Any]]

#: Events per round at most (a round's INSERT stays well under SQLite's variable limit).
MAX_EVENTS = 400

#: Seconds between two back-to-back rounds (see `WriteQueue._rounds`).
ROUND_GAP = 0.001

#: Seconds from one round's start to the next at least. A round costs about a
#: millisecond of the loop's time however little it writes (a transaction, each
#: statement a trip to the driver's thread); unpaced, a bot at half load started a round
#: for every event or two and spent a third of its time on them. Paced, a write waits
#: at most this long for its round, and the rounds of a busy second fold ~200 events.
ROUND_EVERY = 0.005

#: Seconds the writer waits for more writes before it closes its connections.
IDLE_LINGER = 0.05

#: True inside the writer's own task (a round): a write there must not wait for a round.
IN_ROUND: ContextVar[bool] = ContextVar("communitybot_in_round", default=False)


def _virtual_clock() -> bool:
    """Whether a test harness drives the loop's clock (simcord replaces its `call_later`)."""
    loop = vars(asyncio.get_running_loop())
    return "call_later" in loop or "call_at" in loop


async def _pause(seconds: float) -> None:
    """Sleep between rounds on the loop's clock, unless a test harness drives that clock
    virtually: then in a worker thread, on the real one. A thread hop every round was
    7 % of a loaded worker's time."""
    if _virtual_clock():
        await asyncio.to_thread(_time.sleep, seconds)
    else:
        await asyncio.sleep(seconds)


class WriteQueue(StagingMixin):
    """Collects writes and commits them in rounds, one transaction each (see module doc)."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._events: list[tuple[Event, asyncio.Future]] = []
        self._writes: list[tuple[Write, asyncio.Future | None]] = []
        #: Deferred inserts per table and updates per (table, row id), in queue order.
        self._inserts: dict[Table, list[dict]] = {}
        self._updates: dict[tuple[Table, Any], dict] = {}
        #: `insert_returning` batches still open to more rows (until a round takes them).
        self._returning: dict[tuple, ReturningBatch] = {}
        self._init_staging()
        self._task: asyncio.Task | None = None
        self._wake: asyncio.Future | None = None  # set while the writer lingers (`_idle`)
        self._flushing = False
        self._queued = 0  # writes queued so far (a sequence number)
        self._done = 0  # writes queued before the last finished round
        self._waiters: list[tuple[int, asyncio.Future]] = []
        self._last_start = float("-inf")  # monotonic time the last round started
        #: Rounds committed and items written, for tests and the benchmark.
        self.rounds = 0
        self.items = 0
        #: Rounds that failed as a whole and were retried one write at a time.
        self.fallbacks = 0
        self._conn: AsyncConnection | None = None
        #: SQLite files: rounds run in one call on a writer thread (`storage.sync_writer`).
        url = file_url(store.url) if store.dialect == "sqlite" else None
        self._sync = SyncWriter(url) if url else None
        if self._sync is not None:
            # The writer lingers with its connection open (`_idle`); disposing of the
            # store's engine closes it at once, as it does every pooled connection.
            event.listen(store.engine.sync_engine, "engine_disposed", lambda _engine: self._sync.close_now())
        self._pool: object | None = None  # the pool `_conn` came from
        #: Set by `share_with_processes` when several processes write one SQLite file.
        self._xlock: ProcessLock | None = None

    def share_with_processes(self, lock_path: str) -> None:
        """Several processes write this SQLite file (shard workers): take a file lock
        around each round's transaction. SQLite's own busy handler polls with sleeps
        of up to 100 ms, so two busy writers waste most of their time waiting; a
        blocking `flock` hands the lock over the moment the holder releases it."""
        self._xlock = ProcessLock(lock_path)

    # -- ways in -------------------------------------------------------------------
    async def append(self, event: Event) -> bool:
        """Store `event` in the next round; True if it was new."""
        self.release()
        fut = asyncio.get_running_loop().create_future()
        self._events.append((event, fut))
        self._kick()
        return await fut

    async def run(self, fn: Write) -> Any:
        """Run `fn(conn)` in the next round's transaction; its result once committed."""
        fut = asyncio.get_running_loop().create_future()
        self._push(fn, fut)
        return await fut

    def defer(self, fn: Write) -> None:
        """Queue `fn(conn)` for the next round without waiting for it."""
        self._push(fn, None)

    async def insert_returning(self, table: Table, rows: list[dict], conflict: tuple[str, ...]) -> set[tuple]:
        """Insert `rows` (ON CONFLICT (`conflict`) DO NOTHING) in the next round; return
        the `conflict` values of the rows written. Callers inserting into one table with
        one column set before the round starts share one statement: a new member's
        first points were a statement (≈1 ms of the loop) each. Of equal keys from
        several callers, the first queued wins, as it would one transaction at a time."""
        self.release()
        cols = tuple(rows[0]) if rows else ()
        k = (table, conflict, cols)
        batch = self._returning.get(k)
        if batch is None:
            batch = self._returning[k] = ReturningBatch(table, conflict, self.store)
            self._push(batch.write, batch.future)
        else:
            self._mark()
        lo = len(batch.rows)
        batch.rows.extend(rows)
        firsts: dict[tuple, int] = await batch.future
        return {key for key, at in firsts.items() if lo <= at < lo + len(rows)}

    def defer_insert(self, table: Table, row: dict) -> None:
        """Queue one row for `table`; a round inserts a table's rows with one executemany."""
        self.release()
        self._inserts.setdefault(table, []).append(row)
        self._queued += 1
        self._mark()
        self._kick()

    def defer_update(self, table: Table, row_id: Any, values: dict) -> None:
        """Queue `UPDATE table SET values WHERE id = row_id`; updates of one row queued
        before the next round are merged (later values win), so it is written once."""
        self.release()
        key = (table, row_id)
        if key in self._updates:
            self._updates[key].update(values)
        else:
            self._updates[key] = dict(values)
        self._queued += 1
        self._mark()
        self._kick()

    async def barrier(self, turn: TurnWrites | None = None) -> None:
        """Return once every write queued before this call is committed (or failed);
        with `turn`, once every write that turn queued is (its held rows are queued now)."""
        if turn is not None:
            self.release(turn)
        target = self._queued if turn is None else turn.last.get(self, 0)
        if self._done >= target:
            return
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append((target, fut))
        self._kick()
        await fut

    async def flush(self) -> None:
        """Commit everything queued (at close), held rows included."""
        for held in self._held.values():
            self._events.extend(held)
        self._held.clear()
        self._flushing = True
        try:
            while self._has_work() or (self._task is not None and not self._task.done()):
                if self._wake is not None and not self._wake.done():
                    self._wake.set_result(None)  # no lingering: close now
                if self._task is None or self._task.done():
                    self._kick()
                await asyncio.shield(self._task)
        finally:
            self._flushing = False

    @property
    def pending(self) -> int:
        """Events and writes queued and not yet taken by a round."""
        return len(self._events) + len(self._writes) + sum(map(len, self._inserts.values())) + len(self._updates)

    def _has_work(self) -> bool:
        return bool(self._events or self._writes or self._inserts or self._updates)

    # -- the writer ----------------------------------------------------------------
    def _push(self, fn: Write, fut: asyncio.Future | None) -> None:
        self.release()
        self._writes.append((fn, fut))
        self._queued += 1
        self._mark()
        self._kick()

    def _mark(self) -> None:
        turn = DEFERRING.get()
        if isinstance(turn, TurnWrites):
            turn.last[self] = self._queued

    def _kick(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)  # the writer lingers in `_idle`: work came
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._rounds())

    async def _rounds(self) -> None:
        IN_ROUND.set(True)  # this task's context only
        # One turn of the loop first, so handlers that are ready queue their writes too.
        await asyncio.sleep(0)
        first = True
        while self._has_work() or await self._idle():
            # Clamped: a test harness may drive time.monotonic virtually (simcord
            # does), and a clock that jumps must not turn into a long sleep.
            wait = min(ROUND_EVERY, ROUND_EVERY - (_time.monotonic() - self._last_start))
            if not first and self.store.dialect == "sqlite":
                # A breath between back-to-back rounds: on SQLite, a write outside the
                # queue (a command's or the dashboard's, say) would otherwise wait for the
                # write lock until its busy timeout; and the next round gathers more.
                wait = max(wait, ROUND_GAP)
            if wait > 0 and len(self._events) < MAX_EVENTS:
                await _pause(wait)
            first = False
            self._last_start = _time.monotonic()
            events, self._events = self._events[:MAX_EVENTS], self._events[MAX_EVENTS:]
            writes, self._writes = self._writes, []
            self._returning = {}
            if self._inserts or self._updates:
                # Folded writes go first: they were queued by turns that came earlier.
                writes.insert(0, (folded(self._inserts, self._updates), None))
                self._inserts, self._updates = {}, {}
            upto = self._queued
            try:
                await self._round(events, writes)
            except BaseException as exc:  # cancelled mid-round: fail the callers, not hang them
                self._conn = None  # in an unknown state: the next round takes a fresh one
                for _, fut in events:
                    if not fut.done():
                        fut.set_exception(exc)
                for _, fut in writes:
                    if fut is not None and not fut.done():
                        fut.set_exception(exc)
                self._release(upto)
                raise
            self._release(upto)

    async def _connection(self) -> AsyncConnection:
        # Back-to-back rounds share one connection: checking one out of the pool and back
        # in (with its reset) for every round cost more of the loop than its writes.
        # A pool disposed of since (`engine.dispose()`: a reset after an outage) retires it
        # too, as it does every pooled connection.
        pool = self.store.engine.sync_engine.pool
        if self._conn is not None and (self._conn.closed or self._pool is not pool):
            await self.close()
        if self._conn is None:
            self._conn = await self.store.engine.connect()
            self._pool = pool
        return self._conn

    async def shutdown(self) -> None:
        """Close the connection and the writer thread (the store closes)."""
        await self.close()
        if self._sync is not None:
            await self._sync.shutdown()

    async def _idle(self) -> bool:
        # Nothing queued: wait a little for more (`IDLE_LINGER`), then the connections
        # go (held only while rounds follow each other, so an idle bot holds none and a
        # pool reset reaches all). Closed the moment the queue ran dry, they were
        # reopened, with their pragmas, for one round in four at 500 msg/s.
        # True if writes came in meanwhile.
        if not self._flushing and not _virtual_clock():
            self._wake = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait({self._wake}, timeout=IDLE_LINGER)
            finally:
                self._wake = None
            if self._has_work():
                return True
        await self.close()
        return self._has_work()

    async def close(self) -> None:
        """Give the writer's connection back (the store's `close`, and after a failed round)."""
        if self._sync is not None:
            await self._sync.close_connection()
        self.store.reads.close()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # a broken connection: the pool discards it
                log.debug("closing the writer's connection failed", exc_info=True)

    def _release(self, upto: int) -> None:
        self._done = max(self._done, upto)
        keep = []
        for target, fut in self._waiters:
            if target <= self._done:
                if not fut.done():
                    fut.set_result(None)
            else:
                keep.append((target, fut))
        self._waiters = keep

    async def _round(self, events: list[tuple[Event, asyncio.Future]], writes: list[tuple[Write, asyncio.Future | None]]) -> None:
        store = self.store
        try:
            prepared = await store.prepare_events([e for e, _ in events]) if events else None
            if self._sync is not None:
                new, results = await self._sync.round(store, prepared, writes, self._xlock, len(events) + len(writes))
            else:
                new, results = await self._async_round(prepared, writes)
        except Exception:
            self.fallbacks += 1
            await self.close()  # a connection that failed is not reused
            log.debug("a round of %d events and %d writes failed; retrying one by one", len(events), len(writes), exc_info=True)
            await one_by_one(self.store, events, writes)
            return
        if prepared:
            store.remember(prepared)
        self.rounds += 1
        self.items += len(events) + len(writes)
        for (_, fut), is_new in zip(events, new, strict=True):
            if not fut.done():
                fut.set_result(is_new)
        for (_, fut), res in zip(writes, results, strict=True):
            if fut is not None and not fut.done():
                fut.set_result(res)

    async def _async_round(self, prepared: Any, writes: list[tuple[Write, asyncio.Future | None]]) -> tuple[list, list]:
        # PostgreSQL (and SQLite in memory): the round's statements through the async driver.
        results: list[Any] = []
        if self._xlock is not None:
            await self._xlock.acquire()
        try:
            conn = await self._connection()
            async with conn.begin():
                new = await self.store.write_events(conn, prepared) if prepared else []
                for fn, _ in writes:
                    results.append(await fn(conn))
        finally:
            if self._xlock is not None:
                self._xlock.release()
        return new, results
