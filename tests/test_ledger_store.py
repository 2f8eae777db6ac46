"""The ledger, catalog, redemption, event and schedule tables on every backend."""

from __future__ import annotations

import pytest

from storage.agenda import Agenda
from storage.ledger import Ledger
from storage.store import EventStore


@pytest.fixture
async def store(db_url):
    s = await EventStore.open(db_url)
    yield s
    await s.close()


async def test_ledger_rows_are_idempotent_and_sum(store):
    g = await store.ensure_group("fake", "g1", "G")
    led = Ledger(store.engine)
    assert await led.add(g.pk, "a", 10, "message", "msg:1", 1.0, ref_message_id="1")
    assert not await led.add(g.pk, "a", 10, "message", "msg:1", 2.0)
    assert await led.add(g.pk, "b", 7, "award", "award:x", 3.0)
    assert await led.add(g.pk, "a", -4, "redeem", "redeem:1", 4.0)
    assert await led.balance(g.pk, "a") == 6
    assert await led.xp(g.pk, "a") == 10
    assert await led.top(g.pk) == [("a", 10), ("b", 7)]
    assert await led.top(g.pk, since=2.5) == [("b", 7)]
    assert [r.key for r in await led.for_message(g.pk, "1")] == ["msg:1"]
    assert await led.last_ts(g.pk, "a", "message") == 1.0


async def test_redemption_reserves_then_decides_once(store):
    g = await store.ensure_group("fake", "g1", "G")
    led = Ledger(store.engine)
    await led.add(g.pk, "a", 150, "award", "seed", 1.0)
    await led.set_reward(g.pk, "Mentoring", 100, 1, 1.0)
    r = await led.request(g.pk, "a", "mentoring", "cmd:1", 2.0)
    assert r.status == "pending" and r.cost == 100
    assert (await led.request(g.pk, "a", "mentoring", "cmd:1", 2.0)).status == "duplicate"
    assert (await led.request(g.pk, "a", "mentoring", "cmd:2", 2.0)).status == "out_of_stock"
    assert await led.reserved(g.pk, "a") == 100
    d = await led.decide(g.pk, r.redemption_id, True, "admin", 3.0)
    assert d.status == "approved"
    assert (await led.decide(g.pk, r.redemption_id, False, "admin", 3.0)).status == "already_decided"
    assert await led.balance(g.pk, "a") == 50 and await led.reserved(g.pk, "a") == 0
    assert (await led.rewards(g.pk))[0].stock == 0


async def test_claims_are_unique_across_connections(store, db_url):
    g = await store.ensure_group("fake", "g1", "G")
    ag = Agenda(store.engine)
    other = await EventStore.open(db_url)
    try:
        ag2 = Agenda(other.engine)
        assert await ag.claim("weekly:1@t", "weekly:1", g.pk, 10.0, 11.0)
        assert not await ag2.claim("weekly:1@t", "weekly:1", g.pk, 10.0, 12.0)
        assert await ag2.is_claimed("weekly:1@t")
    finally:
        await other.close()


async def test_schedules_upsert_by_job_id_and_keep_creation_time(store):
    g = await store.ensure_group("fake", "g1", "G")
    ag = Agenda(store.engine)
    await ag.put_schedule("weekly_board:1", g.pk, "weekly_board", "cron", {"hour": 9}, "UTC", None, 60, 100.0)
    await ag.put_schedule("weekly_board:1", g.pk, "weekly_board", "cron", {"hour": 10}, "Asia/Shanghai", None, 60, 200.0)
    (s,) = await ag.schedules()
    assert s.spec == {"hour": 10} and s.timezone == "Asia/Shanghai" and s.created_ts == 100.0
    assert await ag.disable_schedules("weekly_board:") == 1
    assert await ag.schedules() == []


async def test_events_and_rsvps(store):
    g = await store.ensure_group("fake", "g1", "G")
    ag = Agenda(store.engine)
    ev, new = await ag.create_event(g.pk, "AMA", 1000.0, 4600.0, "", "", "admin", "cmd:9", 1.0)
    again, new2 = await ag.create_event(g.pk, "AMA", 1000.0, 4600.0, "", "", "admin", "cmd:9", 1.0)
    assert new and not new2 and again.id == ev.id
    await ag.rsvp(ev.id, "a", "going", 2.0)
    await ag.rsvp(ev.id, "b", "maybe", 2.0)
    await ag.rsvp(ev.id, "b", "going", 3.0)
    await ag.set_remind(ev.id, "c", True, 3.0)
    assert await ag.rsvp_counts(ev.id) == {"going": 3, "maybe": 0, "no": 0}
    with pytest.raises(ValueError, match="RSVP status"):
        await ag.rsvp(ev.id, "a", "perhaps", 4.0)
    assert await ag.cancel_event(g.pk, ev.id) and not await ag.cancel_event(g.pk, ev.id)
    assert await ag.events(g.pk, 0.0) == []


async def test_member_stats_in_one_query(store):
    g = await store.ensure_group("fake", "g1", "G")
    led = Ledger(store.engine)
    await led.add(g.pk, "a", 1, "message", "msg:1", 50.0)  # yesterday
    await led.add(g.pk, "a", 1, "message", "msg:2", 150.0)
    await led.add(g.pk, "a", 3, "reaction", "react:2:b", 160.0)
    await led.add(g.pk, "a", 20, "award", "award:1", 170.0)
    await led.add(g.pk, "a", -5, "redeem", "redeem:1", 180.0)
    s = await led.stats(g.pk, "a", 100.0, ("message", "reaction"))
    assert (s.last_message, s.today_capped, s.today_reaction, s.today_messages, s.xp) == (150.0, 4, 3, 1, 25)
    empty = await led.stats(g.pk, "nobody", 100.0, ("message",))
    assert (empty.last_message, empty.xp) == (None, 0)
    assert await led.top(g.pk, exclude=("award",)) == [("a", 5)]


async def test_claimed_lookup_and_moderators(store):
    g = await store.ensure_group("fake", "g1", "G")
    ag = Agenda(store.engine)
    await ag.claim("x@1", "x", g.pk, 1.0, 1.0)
    await ag.claim("y@1", "y", g.pk, 1.0, 1.0, status="skipped")
    assert await ag.claimed(["x@1", "y@1", "z@1"]) == {"x@1", "y@1"}
    assert [r.status for r in await ag.runs()] == ["ran", "skipped"]
    await store.set_role(g.pk, "boss", "admin")
    await store.set_role(g.pk, "pleb", "member")
    assert await ag.moderators(g.pk) == ["boss"]
