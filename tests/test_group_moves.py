"""`move_group`: a Telegram group upgraded to a supergroup keeps its history, on SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.events import Event, EventKind
from storage.group_moves import move_group
from storage.store import EventStore

T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)


def msg(gid: str, mid: str, member: str, minutes: int, text: str = "hi") -> Event:
    return Event(platform="telegram", group_id=gid, kind=EventKind.MESSAGE, time=T0 + timedelta(minutes=minutes),
                 member_id=member, member_name=member.title(), message_id=mid, text=text, group_title="Course")


async def test_rename_keeps_pk_history_settings_and_roles(db_url):
    store = await EventStore.open(db_url)
    try:
        await store.append_many([msg("-1", "1", "alice", 0), msg("-1", "2", "bob", 1)])
        old = await store.group("telegram", "-1")
        await store.set_setting(old.pk, "bot.language", "zh-CN")
        await store.set_role(old.pk, "alice", "moderator")
        moved = await move_group(store, "telegram", "-1", "-1001")
        assert moved.pk == old.pk and moved.group_id == "-1001"
        assert await store.group("telegram", "-1") is None
        assert [e.message_id for e in await store.events(moved.pk)] == ["1", "2"]
        assert (await store.get_settings(moved.pk))["bot.language"] == "zh-CN"
        assert await store.role(moved.pk, "alice") == "moderator"
        # New events under the new id land in the same group.
        assert await store.append(msg("-1001", "3", "chen", 2))
        assert len(await store.events(moved.pk)) == 3
        # A second notice of the same migration changes nothing.
        again = await move_group(store, "telegram", "-1", "-1001")
        assert again.pk == old.pk and len(await store.events(again.pk)) == 3
    finally:
        await store.close()


async def test_merge_when_both_ids_have_events(db_url):
    store = await EventStore.open(db_url)
    try:
        await store.append_many([msg("-2", "1", "alice", 0), msg("-2", "2", "bob", 1)])
        # Stored under the new id before the migration notice arrived, one of them twice.
        await store.append_many([msg("-1002", "2", "bob", 1), msg("-1002", "3", "chen", 5)])
        old = await store.group("telegram", "-2")
        moved = await move_group(store, "telegram", "-2", "-1002")
        assert moved.pk == old.pk
        assert [e.message_id for e in await store.events(moved.pk)] == ["1", "2", "3"]
        assert len(await store.groups()) == 1
        assert {m["member_id"] for m in await store.group_members(moved.pk)} == {"alice", "bob", "chen"}
    finally:
        await store.close()


async def test_unknown_group_is_a_no_op(db_url):
    store = await EventStore.open(db_url)
    try:
        assert await move_group(store, "telegram", "-7", "-1007") is None
    finally:
        await store.close()
