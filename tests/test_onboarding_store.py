"""The onboarding tables on every backend: gates close once, timers run once, member
records round-trip, the gate-on time is kept."""

from __future__ import annotations

import pytest

from storage.onboarding import OnboardingStore
from storage.store import EventStore


@pytest.fixture
async def ostore(db_url):
    store = await EventStore.open(db_url)
    g = await store.ensure_group("fake", "g1", "G")
    yield OnboardingStore(store.engine, store._insert), g.pk, store
    await store.close()


async def test_a_gate_closes_once(ostore):
    s, pk, _ = ostore
    gid = await s.create_gate(pk, "m1", "question", "7", "3 + 4", 100.0, 280.0)
    assert (await s.pending_gate(pk, "m1"))["id"] == gid
    assert await s.wrong_answer(gid) == 1
    assert await s.finish_gate(gid, "passed", 150.0, "answered")
    assert not await s.finish_gate(gid, "timeout", 281.0, "late")  # the timer lost the race
    g = await s.gate(gid)
    assert (g["status"], g["attempts"], g["decided_ts"]) == ("passed", 1, 150.0)
    assert await s.pending_gate(pk, "m1") is None
    with pytest.raises(ValueError, match="status must be one of"):
        await s.finish_gate(gid, "maybe", 1.0)


async def test_timers_are_due_in_order_and_claimed_once(ostore):
    s, pk, _ = ostore
    await s.add_timer(pk, "delete", "g1:5", 200.0, {"chat": "g1", "message_id": "5"})
    await s.add_timer(pk, "gate", "1", 100.0)
    await s.add_timer(pk, "gate", "1", 999.0)  # same key: ignored
    assert await s.next_due() == 100.0
    assert [t["key"] for t in await s.due_timers(150.0)] == ["1"]
    due = await s.due_timers(250.0)
    assert [(t["kind"], t["data"]) for t in due] == [("gate", {}), ("delete", {"chat": "g1", "message_id": "5"})]
    assert await s.claim_timer(due[0]["id"], 250.0)
    assert not await s.claim_timer(due[0]["id"], 251.0)
    assert await s.cancel_timer(pk, "delete", "g1:5", 252.0)
    assert await s.due_timers(1000.0) == [] and await s.next_due() is None


async def test_member_records_and_gate_state(ostore):
    s, pk, store = ostore
    assert (await s.member(pk, "m1"))["tags"] == []
    await s.save_member(pk, "m1", tags=["python", "数据"], tags_ts=5.0)
    await s.save_member(pk, "m1", optin="in")
    await s.save_member(pk, "m1", released_ts=7.0, warm_count=0)
    assert await s.count_warm(pk, "m1") == 1
    rec = await s.member(pk, "m1")
    assert (rec["tags"], rec["optin"], rec["released_ts"], rec["warm_count"]) == (["python", "数据"], "in", 7.0, 1)
    assert [m["member_id"] for m in await s.members(pk)] == ["m1"]
    assert await s.note_gate_mode(pk, "off", 10.0) is None
    assert await s.note_gate_mode(pk, "button", 20.0) == 20.0
    assert await s.note_gate_mode(pk, "question", 30.0) == 20.0  # still on since 20
    assert await s.note_gate_mode(pk, "off", 40.0) is None
    assert await s.note_gate_mode(pk, "button", 50.0) == 50.0
    await s.set_raid(pk, 900.0, alert_ts=60.0)
    st = await s.group_state(pk)
    assert (st["raid_until_ts"], st["raid_alert_ts"]) == (900.0, 60.0)
    assert await s.first_seen(pk, "nobody") is None
    assert await s.member_name("fake", "nobody") == ("", None)
