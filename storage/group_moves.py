"""Moving a group to a new platform id without losing its history.

Telegram gives a group a new chat id when it is upgraded to a supergroup. Everything
the bot knows about the group (events, members, points, flags, settings, audit) hangs
off the group's primary key, so the move is a rename of `groups.group_id`. When rows
under the new id exist already (a message in the new supergroup was stored before the
migration notice arrived), the two groups are merged into the older one: every table
with a column pointing at the group is repointed, and rows that would then collide with one of the
kept group's unique keys (the same event seen under both ids) are dropped first.
"""

from __future__ import annotations

import logging

from sqlalchemy import Table, and_, delete, exists, select, update

from storage import schema  # noqa: F401  (every table on Base.metadata)
from storage.models import Base, Group
from storage.store import EventStore, GroupInfo

log = logging.getLogger(__name__)


def _group_columns(table: Table) -> list[str]:
    """Columns of `table` that point at groups.id (by convention `group_pk`)."""
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table.name == Group.__tablename__]


def _unique_sets(table: Table, col: str) -> list[list[str]]:
    """Column-name sets of the table's unique constraints and indexes that include `col`."""
    sets = []
    for c in table.constraints:
        cols = [x.name for x in getattr(c, "columns", [])]
        if c.__class__.__name__ == "UniqueConstraint" and col in cols:
            sets.append(cols)
    for ix in table.indexes:
        cols = [x.name for x in ix.columns]
        if ix.unique and col in cols:
            sets.append(cols)
    return sets


async def move_group(store: EventStore, platform: str, old_id: str, new_id: str) -> GroupInfo | None:
    """Give group (`platform`, `old_id`) the id `new_id`, keeping (and merging) its history.

    Returns the moved group, or None if neither id is known. Safe to call twice: a
    second call finds nothing under `old_id` and returns the group under `new_id`.
    """
    if old_id == new_id:
        return await store.group(platform, new_id)
    async with store.engine.begin() as conn:
        rows = {
            r.group_id: r
            for r in (
                await conn.execute(
                    select(Group).where(Group.platform == platform, Group.group_id.in_([old_id, new_id]))
                )
            ).all()
        }
        old, new = rows.get(old_id), rows.get(new_id)
        if old is None:
            pass
        elif new is None:
            await conn.execute(update(Group).where(Group.id == old.id).values(group_id=new_id))
        else:
            keep, drop = (old, new) if old.id < new.id else (new, old)
            for table in Base.metadata.sorted_tables:
                for col in _group_columns(table):
                    for cols in _unique_sets(table, col):
                        others = [c for c in cols if c != col]
                        kept = table.alias("kept")
                        clash = exists().where(
                            and_(kept.c[col] == keep.id, *[kept.c[c] == table.c[c] for c in others])
                        )
                        await conn.execute(delete(table).where(table.c[col] == drop.id, clash))
                    await conn.execute(update(table).where(table.c[col] == drop.id).values({col: keep.id}))
            await conn.execute(delete(Group).where(Group.id == drop.id))
            title = keep.title or drop.title
            await conn.execute(update(Group).where(Group.id == keep.id).values(group_id=new_id, title=title))
            log.info("merged group %s:%s into %s (pk %s)", platform, old_id, new_id, keep.id)
    # The store caches groups and memberships by key; both may have changed.
    store._groups.clear()
    store._group_members.clear()
    store._channels.clear()
    return await store.group(platform, new_id)
