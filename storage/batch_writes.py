"""The folded writes of a group-commit round (`storage.batch`): every queued insert and
update of a table as one executemany, and `insert_returning` callers' rows as one
statement."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, bindparam

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from storage.batch import Write
    from storage.events import Event
    from storage.store import EventStore

log = logging.getLogger(__name__)


def folded(inserts: dict[Table, list[dict]], updates: dict[tuple[Table, Any], dict]) -> Write:
    """One write doing every queued insert (an executemany per table and column set)
    and update (one statement per table and column set, an executemany over the rows)."""

    async def write(conn: AsyncConnection) -> None:
        for table, rows in inserts.items():
            by_cols: dict[tuple[str, ...], list[dict]] = {}
            for r in rows:
                by_cols.setdefault(tuple(r), []).append(r)
            for group in by_cols.values():
                await conn.execute(_statement(table, None), group)
        by_set: dict[tuple[Table, tuple[str, ...]], list[dict]] = {}
        for (table, row_id), values in updates.items():
            by_set.setdefault((table, tuple(sorted(values))), []).append({"_id": row_id, **{f"_v_{k}": v for k, v in values.items()}})
        for (table, cols), params in by_set.items():
            await conn.execute(_statement(table, cols), params)

    return write


_RETURNING: dict[tuple[str, Table, tuple[str, ...]], Any] = {}


class ReturningBatch:
    """Rows of several `insert_returning` callers, written by one statement."""

    def __init__(self, table: Table, conflict: tuple[str, ...], store: EventStore) -> None:
        self.rows: list[dict] = []
        self.future: asyncio.Future = asyncio.get_running_loop().create_future()
        key = (store.dialect, table, conflict)
        self.stmt = _RETURNING.get(key)
        if self.stmt is None:
            stmt = store._insert(table).on_conflict_do_nothing(index_elements=list(conflict))
            self.stmt = _RETURNING[key] = stmt.returning(*(table.c[c] for c in conflict))
        self.conflict = conflict

    async def write(self, conn: AsyncConnection) -> dict[tuple, int]:
        """Insert every row; map each written key to the first row (index) that has it."""
        written = {tuple(r) for r in (await conn.execute(self.stmt, self.rows)).all()}
        firsts: dict[tuple, int] = {}
        for i, r in enumerate(self.rows):
            key = tuple(r[c] for c in self.conflict)
            if key in written and key not in firsts:
                firsts[key] = i
        return firsts


_STATEMENTS: dict[tuple[Table, tuple[str, ...] | None], Any] = {}


def _statement(table: Table, cols: tuple[str, ...] | None):
    """The INSERT (cols None) or UPDATE-by-id of these columns, built once: building a
    SQLAlchemy expression and its cache key cost more than running it."""
    stmt = _STATEMENTS.get((table, cols))
    if stmt is None:
        if cols is None:
            stmt = table.insert()
        else:
            stmt = table.update().where(table.c.id == bindparam("_id")).values({c: bindparam(f"_v_{c}") for c in cols})
        _STATEMENTS[(table, cols)] = stmt
    return stmt


async def one_by_one(store: EventStore, events: list[tuple[Event, asyncio.Future]], writes: list[tuple[Write, asyncio.Future | None]]) -> None:
    """A round that failed as a whole, again one item at a time in its own transaction:
    one bad write fails alone (its caller gets the exception; a deferred write's failure
    is logged)."""
    for e, fut in events:
        try:
            prepared = await store.prepare_events([e])
            async with store.engine.begin() as conn:
                (is_new,) = await store.write_events(conn, prepared)
            store.remember(prepared)
        except Exception as exc:
            if not fut.done():
                fut.set_exception(exc)
        else:
            if not fut.done():
                fut.set_result(is_new)
    for fn, fut in writes:
        try:
            async with store.engine.begin() as conn:
                res = await fn(conn)
        except Exception as exc:
            if fut is not None:
                if not fut.done():
                    fut.set_exception(exc)
            else:
                log.exception("a deferred write failed")
        else:
            if fut is not None and not fut.done():
                fut.set_result(res)
