"""Is an event already stored? The live path asks before it handles an event, so that
the event's row can join the same group commit as the writes its handling makes (one
round per event instead of two: `bot.pipeline`).

On a SQLite file the question is one indexed lookup on a plain sqlite3 connection, run
on the caller's thread: a few microseconds, where a trip through aiosqlite's thread and
back cost more of the loop than the lookup. WAL readers never wait for the writer; if
the file is locked anyway (a recovery, a checkpoint that truncates), the lookup falls
back to the async driver, which waits up to the busy timeout. Elsewhere (PostgreSQL, a
SQLite database in memory) it is one SELECT through the engine.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING

from sqlalchemy import select

from storage.models import EventRow
from storage.sync_writer import file_url

if TYPE_CHECKING:
    from storage.store import EventStore

log = logging.getLogger(__name__)

_LOOKUP = "SELECT 1 FROM events WHERE group_pk = ? AND key = ? LIMIT 1"


class StoredCheck:
    """Answers `stored(group_pk, key)` from committed data."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        url = file_url(store.url) if store.dialect == "sqlite" else None
        self._path = None if url is None else store.engine.sync_engine.url.database
        self._conn: sqlite3.Connection | None = None
        self._pool: object | None = None  # the engine's pool when `_conn` was opened

    async def stored(self, group_pk: int, key: str) -> bool:
        """True if an event with this key is committed in the group."""
        if self._path is not None:
            try:
                return self._lookup(group_pk, key)
            except sqlite3.Error as exc:
                log.debug("direct lookup failed (%s); asking through the driver", exc)
                self.close()
        async with self.store.engine.connect() as conn:
            t = EventRow.__table__
            row = (await conn.execute(select(1).where(t.c.group_pk == group_pk, t.c.key == key).limit(1))).first()
        return row is not None

    def _lookup(self, group_pk: int, key: str) -> bool:
        pool = self.store.engine.sync_engine.pool
        if self._conn is not None and self._pool is not pool:
            # The pool was disposed of (a reset after an outage): so is this connection,
            # which might still read a file since replaced.
            self.close()
        if self._conn is None:
            conn = sqlite3.connect(self._path, timeout=0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA query_only = 1")
            self._conn, self._pool = conn, pool
        return self._conn.execute(_LOOKUP, (group_pk, key)).fetchone() is not None

    def close(self) -> None:
        """Close the lookup connection (the write queue went idle, or the store closes);
        the next lookup opens another."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:  # noqa: S110 - dropped either way
                pass
