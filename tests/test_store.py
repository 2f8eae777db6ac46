"""One store suite, every backend: SQLite always, PostgreSQL when configured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.db import current_revision, head_revision
from storage.events import Event, EventKind
from storage.store import EventStore

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def msg(i: int, member: str = "1", group: str = "-1001", **kw) -> Event:
    return Event(
        platform="telegram",
        group_id=group,
        kind=EventKind.MESSAGE,
        time=T0 + timedelta(minutes=i),
        member_id=member,
        member_name=kw.pop("name", f"user{member}"),
        message_id=str(i),
        text=kw.pop("text", f"message {i}"),
        **kw,
    )


@pytest.fixture
async def store(db_url):
    s = await EventStore.open(db_url)
    yield s
    await s.close()


async def test_migrations_bring_empty_database_to_head(store):
    assert await current_revision(store.engine) == head_revision()


async def test_same_event_twice_is_stored_once(store):
    assert await store.append(msg(1)) is True
    assert await store.append(msg(1)) is False
    g = await store.group("telegram", "-1001")
    assert await store.count_events(g.pk) == 1


async def test_batch_counts_new_and_duplicate(store):
    first = await store.append_many([msg(i) for i in range(10)])
    assert (first.new, first.duplicate) == (10, 0)
    again = await store.append_many([msg(i) for i in range(5, 15)])
    assert (again.new, again.duplicate) == (5, 5)


async def test_duplicates_inside_one_batch_count_once(store):
    res = await store.append_many([msg(1), msg(1), msg(2)])
    assert (res.new, res.duplicate) == (2, 1)


async def test_events_round_trip_with_all_fields(store):
    e = msg(
        3,
        member="42",
        name="Chen 陈",
        reply_to_id="2",
        target_member_id="7",
        mentions=("7", "9"),
        link_count=2,
        media="photo",
        forwarded=True,
        text="看这里 https://x.y",
        data={"topic": "intro"},
    )
    await store.append(e)
    g = await store.group("telegram", "-1001")
    [back] = await store.events(g.pk)
    assert back == e
    assert back.member_name == "Chen 陈"
    assert back.data == {"topic": "intro"}


async def test_groups_are_isolated_and_keys_scoped_per_group(store):
    await store.append(msg(1, group="-1001"))
    await store.append(msg(1, group="-1002"))
    a = await store.group("telegram", "-1001")
    b = await store.group("telegram", "-1002")
    assert await store.count_events(a.pk) == 1
    assert await store.count_events(b.pk) == 1


async def test_time_filters_and_member_filter(store):
    await store.append_many([msg(i, member=str(i % 3)) for i in range(30)])
    g = await store.group("telegram", "-1001")
    since = T0 + timedelta(minutes=10)
    evs = await store.events(g.pk, since=since, until=T0 + timedelta(minutes=20))
    assert [int(e.message_id) for e in evs] == list(range(10, 20))
    mine = await store.events(g.pk, member_id="1")
    assert all(e.member_id == "1" for e in mine) and len(mine) == 10


async def test_member_names_update_and_lookup(store):
    await store.append(msg(1, member="5", name="Old Name"))
    await store.append(msg(2, member="5", name="New Name"))
    g = await store.group("telegram", "-1001")
    assert (await store.member_names("telegram"))["5"] == "New Name"
    assert await store.find_member(g, "@new name") == "5"
    assert await store.find_member(g, "5") == "5"
    assert await store.find_member(g, "nobody") is None


async def test_roles_settings_and_audit(store):
    g = await store.ensure_group("console", "course-101", "Course 101")
    assert await store.role(g.pk, "alice") is None
    await store.set_role(g.pk, "alice", "owner")
    assert await store.role(g.pk, "alice") == "owner"
    await store.set_setting(g.pk, "bot.language", "zh-CN")
    assert await store.get_settings(g.pk) == {"bot.language": "zh-CN"}
    await store.audit(g.pk, "alice", "config.set", {"key": "bot.language"})
    [entry] = await store.audit_log(g.pk)
    assert entry["action"] == "config.set" and "bot.language" in entry["detail"]


async def test_find_group_by_title_and_id(store):
    g = await store.ensure_group("console", "course-101", "Course 101")
    assert (await store.find_group("course 101")).pk == g.pk
    assert (await store.find_group("console:course-101")).pk == g.pk
    assert await store.find_group("nope") is None


async def test_find_group_by_a_unique_beginning_of_its_title(store):
    a = await store.ensure_group("telegram", "-1001", "Course 101 · Data Science")
    await store.ensure_group("telegram", "-1002", "Course 102 · Statistics")
    assert (await store.find_group("Course 101")).pk == a.pk
    assert (await store.find_group("course 101 ·")).pk == a.pk
    assert await store.find_group("Course 10") is None  # two groups begin so: neither
    assert await store.find_group("") is None and await store.find_group("  ") is None


async def test_reopen_keeps_data(db_url):
    s = await EventStore.open(db_url)
    await s.append(msg(1))
    await s.close()
    s = await EventStore.open(db_url)
    g = await s.group("telegram", "-1001")
    assert await s.count_events(g.pk) == 1
    assert await s.append(msg(1)) is False
    await s.close()


async def test_group_members_lists_roles_and_names(store):
    await store.append_many([msg(1, member="5", name="Ann"), msg(2, member="6", name="Ben")])
    g = await store.group("telegram", "-1001")
    await store.set_role(g.pk, "5", "admin")
    rows = await store.group_members(g.pk)
    assert [(r["member_id"], r["name"], r["role"]) for r in rows] == [("5", "Ann", "admin"), ("6", "Ben", "member")]


def test_an_event_crosses_the_shard_pipe_unchanged():
    """Events are pickled to shard workers by their own `__reduce__` (values in order,
    the kind by value): every field, the key and the kind's type survive, and a key set by
    hand is not derived again."""
    import pickle

    e = Event(platform="telegram", group_id="-100", group_title="Курс 数据", kind=EventKind.REACTION,
              time=datetime(2026, 3, 2, 9, 0, 1, 250000, tzinfo=UTC), member_id="7", member_name="Дима",
              message_id="12", reply_to_id="9", target_member_id="8", mentions=("a", "b"), text="👍 right",
              link_count=1, media="photo", forwarded=True, emoji="👍", username="dima", data={"removed": True},
              key="custom-key", is_bot=False, channel_id="c1")
    back = pickle.loads(pickle.dumps(e, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == e and back.key == "custom-key" and back.data == {"removed": True}
    assert type(back.kind) is EventKind and back.kind is EventKind.REACTION
    assert back.time == e.time and back.time.tzinfo is not None
    assert [getattr(back, f) for f in Event.__slots__] == [getattr(e, f) for f in Event.__slots__]
