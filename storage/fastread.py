"""Reads on the live path that must not cost a trip through the async driver.

Through aiosqlite a read is a hop to the driver's thread and back, plus SQLAlchemy's
async connection checkout and reset: ≈ 0.45 ms of the loop for a one-row query, against
≈ 0.015 ms for the same statement on a plain synchronous connection (both measured
here). A group's first sight makes about eight such reads (settings, trust, onboarding,
points, schedules), and under load 50 first sights in one second held every message
behind them. So on a SQLite file these reads run on a synchronous connection on the
caller's thread. WAL readers never wait for the writer; if the file is locked anyway
(a recovery, a truncating checkpoint), the read falls back to the async driver, which
waits up to the busy timeout. Elsewhere (PostgreSQL, SQLite in memory) every read goes
through the async engine as before.

Each store registers its reader for its engine (`register`), so the store classes that
hold only an engine (ledger, agenda, onboarding, moderation) read through `rows(engine,
statement)`.

The connection is closed whenever the write queue goes idle and when the engine is
disposed of (a reset after an outage), so it never outlives a file that is replaced.
"""

from __future__ import annotations

import logging
import sqlite3
import weakref
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, create_engine, event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from storage import fresh
from storage.models import EventRow
from storage.sync_writer import file_url

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row
    from sqlalchemy.ext.asyncio import AsyncEngine

    from storage.store import EventStore

log = logging.getLogger(__name__)

_READERS: weakref.WeakKeyDictionary[Any, FastReads] = weakref.WeakKeyDictionary()

_EVENTS = EventRow.__table__
_STORED_SQL = "SELECT 1 FROM events WHERE group_pk = ? AND key = ? LIMIT 1"
_STORED = select(1).where(_EVENTS.c.group_pk == bindparam("g"), _EVENTS.c.key == bindparam("k")).limit(1)


def _reader_pragmas(dbapi_conn: Any, _record: Any) -> None:  # pragma: no cover - driver callback
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA query_only = 1")
    cur.execute("PRAGMA busy_timeout = 0")  # never block the loop: fall back instead
    cur.close()


class FastReads:
    """Synchronous reads of committed data on a SQLite file (see module doc)."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        url = file_url(store.url) if store.dialect == "sqlite" else None
        self._engine = None
        if url is not None:
            self._engine = create_engine(url, poolclass=NullPool)
            event.listen(self._engine, "connect", _reader_pragmas)
        self._conn: Connection | None = None
        #: Reads that fell back to the async driver (the file was locked).
        self.fallbacks = 0
        register(store.engine, self)
        # Disposing of the engine (an outage's reset; a file restored) closes this too:
        # a connection left open on a replaced file shares SQLite's per-file state with
        # the new ones and turns their reads into "disk I/O error".
        event.listen(store.engine.sync_engine, "engine_disposed", lambda _engine: self.close())

    @property
    def fast(self) -> bool:
        """Whether reads skip the async driver (a SQLite file)."""
        return self._engine is not None

    async def stored(self, group_pk: int, key: str) -> bool:
        """True if an event with this key is committed in the group."""
        if fresh.unread(self.store.engine, group_pk):  # created in this turn: nothing committed
            return False
        if self._engine is not None:
            try:
                # The driver's own cursor: asked for every message, SQLAlchemy's execution
                # context cost ten times the lookup (8 % of a loaded worker's time).
                if self._conn is None:
                    self._conn = self._engine.connect()
                cur = self._conn.connection.dbapi_connection.execute(_STORED_SQL, (group_pk, key))
                return bool(cur.fetchall())  # stepped to the end: no read transaction left open
            except sqlite3.Error as exc:  # locked (a recovery, a checkpoint): fall back as `rows` does
                self.fallbacks += 1
                log.debug("direct lookup failed (%s); asking through the driver", exc)
                self.close()
        async with self.store.engine.connect() as conn:
            return (await conn.execute(_STORED, {"g": group_pk, "k": key})).first() is not None

    async def rows(self, statement: Any, params: Any = None) -> list[Row]:
        """Every row `statement` returns, from committed data."""
        if self._engine is not None:
            try:
                return self._sync_rows(statement, params)
            except OperationalError as exc:
                self.fallbacks += 1
                log.debug("direct read failed (%s); reading through the driver", exc)
                self.close()
        async with self.store.engine.connect() as conn:
            return list((await conn.execute(statement, params)).all())

    def _sync_rows(self, statement: Any, params: Any) -> list[Row]:
        if self._conn is None:
            self._conn = self._engine.connect()
        try:
            return list(self._conn.execute(statement, params).all())
        finally:
            # End the read transaction at once: an open one would pin the WAL snapshot
            # (and keep the checkpoint from reusing the log).
            self._conn.rollback()

    def close(self) -> None:
        """Close the connection (the write queue went idle, or the store closes)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: S110 - dropped either way
                pass

    def dispose(self) -> None:
        """Close for good (the store closes)."""
        self.close()
        if _READERS.get(self.store.engine.sync_engine) is self:
            del _READERS[self.store.engine.sync_engine]
        if self._engine is not None:
            self._engine.dispose()


def register(engine: AsyncEngine, reader: FastReads) -> None:
    """Make `reader` the one `rows(engine, …)` uses."""
    _READERS[engine.sync_engine] = reader


async def rows(engine: AsyncEngine, statement: Any, params: Any = None) -> list[Row]:
    """Every row `statement` returns: through the engine's store's fast reader if it has
    one (a SQLite file), else through the engine."""
    reader = _READERS.get(engine.sync_engine)
    if reader is not None:
        return await reader.rows(statement, params)
    async with engine.connect() as conn:
        return list((await conn.execute(statement, params)).all())
