"""Leader election on PostgreSQL: a session advisory lock held on a connection of its own.

Several bot processes may share one PostgreSQL (webhook replicas, Discord shards). The
one that holds `pg_try_advisory_lock(KEY)` runs the scheduler; the others stand by and
try again now and then. PostgreSQL releases the lock when the holder's session ends
(the process exits, crashes or loses its connection), so a standby takes over within
its retry interval. Each scheduled occurrence is still claimed under a unique key
(`storage.agenda`), so even a moment with two leaders (a network partition the server
has not noticed yet) posts once.

On SQLite there is one machine and one file: every process may lead, and the claims
alone keep posts single.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

#: The advisory lock key of the scheduler ("cbsched" as a number; any constant works, as
#: long as every process of the bot uses the same one).
SCHEDULER_KEY = 0x63627363686564


class LeaderLock:
    """Who leads, among processes on one database (see module docstring)."""

    def __init__(self, engine: AsyncEngine, key: int = SCHEDULER_KEY) -> None:
        self.engine = engine
        self.key = key
        self.exclusive = engine.dialect.name == "postgresql"
        self._conn: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        """Whether this process holds the lock (always, on SQLite)."""
        return not self.exclusive or self._conn is not None

    async def acquire(self) -> bool:
        """Try to take the lock without waiting; True if this process now leads."""
        if self.held:
            return await self.check()
        conn = await self.engine.connect()
        try:
            # Autocommit: holding the connection must not hold a transaction open.
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})).scalar()
        except Exception:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def check(self) -> bool:
        """Whether the lock is still held: the session that holds it still answers."""
        if not self.exclusive:
            return True
        if self._conn is None:
            return False
        try:
            await self._conn.execute(text("SELECT 1"))
            return True
        except Exception:
            log.warning("lost the scheduler lock's database session; standing by")
            await self._drop()
            return False

    async def release(self) -> None:
        """Give the lock up (at shutdown), so a standby process takes over at once."""
        if self._conn is None:
            return
        try:
            await self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        except Exception:
            log.debug("unlocking failed; the session's end releases the lock anyway", exc_info=True)
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                log.debug("closing the lock's connection failed", exc_info=True)
