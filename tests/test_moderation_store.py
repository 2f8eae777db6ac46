"""The moderation tables on every backend: flags, reports, trust, warnings, labels."""

from __future__ import annotations

from storage.moderation import ModerationStore
from storage.store import EventStore


async def _open(db_url):
    store = await EventStore.open(db_url)
    group = await store.ensure_group("fake", "g1", "Course")
    return store, ModerationStore(store.engine, store._insert), group


async def test_flags_are_unique_per_key_and_updatable(db_url):
    store, mod, g = await _open(db_url)
    try:
        flag, created = await mod.create_flag(g.pk, "msg:1", 100.0, kind="auto", member_id="u1", message_id="1",
                                              text="spam text", verdicts=[{"name": "spam", "flagged": True}], members=[["u1", "1"]])
        assert created and flag["verdicts"][0]["name"] == "spam" and flag["status"] == "open"
        again, created2 = await mod.create_flag(g.pk, "msg:1", 200.0, kind="report")
        assert not created2 and again["id"] == flag["id"] and again["kind"] == "auto"
        await mod.update_flag(flag["id"], status="spam", decided_by="admin", members=[["u1", "1"], ["u2", "2"]])
        got = await mod.flag(flag["id"])
        assert got["status"] == "spam" and got["members"] == [("u1", "1"), ("u2", "2")]
        assert await mod.flags(g.pk) == []
        assert [f["id"] for f in await mod.flags(g.pk, status=None)] == [flag["id"]]
    finally:
        await store.close()


async def test_reports_count_once_per_member(db_url):
    store, mod, g = await _open(db_url)
    try:
        flag, _ = await mod.create_flag(g.pk, "msg:9", 10.0, kind="report")
        assert await mod.add_report(g.pk, flag["id"], "bob", 10.0)
        assert not await mod.add_report(g.pk, flag["id"], "bob", 11.0)
        assert await mod.add_report(g.pk, flag["id"], "carol", 12.0)
        assert await mod.reporters(flag["id"]) == ["bob", "carol"]
        assert await mod.reports_since(g.pk, "bob", 0.0) == 1
        assert await mod.reports_since(g.pk, "bob", 10.5) == 0
    finally:
        await store.close()


async def test_trust_warnings_and_labels(db_url):
    store, mod, g = await _open(db_url)
    try:
        assert await mod.trust(g.pk, "u1") is None
        await mod.save_trust(g.pk, "u1", 5.0, 3, 0, 0, 6.0)
        await mod.save_trust(g.pk, "u1", 5.0, 30, 1, 2, 7.0)
        t = await mod.trust(g.pk, "u1")
        assert (t["messages"], t["spam"], t["ham"]) == (30, 1, 2)
        await mod.add_warning(g.pk, "u1", "admin", "rude", 100.0)
        await mod.add_warning(g.pk, "u1", "admin", "rude again", 200.0)
        assert await mod.warnings_since(g.pk, "u1", 150.0) == 1
        await mod.add_label(1, "buy now", 1.0, g.pk, "moderator:admin")
        await mod.add_label(0, "привет всем", 2.0)
        assert await mod.labels() == [(1, "buy now"), (0, "привет всем")]
    finally:
        await store.close()
