"""Importers on small hand-written exports: both formats, old and new Telegram, and
idempotency against re-imports and live events."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from adapters.exports import detect_format, iter_export
from bot.importer import import_files
from storage.events import Event, EventKind
from storage.store import EventStore
from tests.exports import DISCORD, TG_NEW, TG_OLD, write


def events_of(path, tz=None):
    skipped: Counter = Counter()
    header = detect_format(path)
    return header, list(iter_export(path, header, skipped, export_tz=tz)), skipped


def test_telegram_new_format(tmp_path):
    header, evs, skipped = events_of(write(tmp_path, "result.json", TG_NEW))
    assert (header.format, header.group_id, header.title) == ("telegram", "-1001500000001", "Course 101")
    kinds = [e.kind for e in evs]
    assert kinds.count(EventKind.JOIN) == 3  # by link + two invited
    assert kinds.count(EventKind.LEAVE) == 1
    q = next(e for e in evs if e.message_id == "3" and e.kind is EventKind.MESSAGE)
    assert q.member_id == "11" and q.member_name == "Alice"
    assert q.time == datetime(2026, 1, 5, 9, 2, tzinfo=UTC)
    a = next(e for e in evs if e.message_id == "4" and e.kind is EventKind.MESSAGE)
    assert a.reply_to_id == "3" and a.member_name == "Chen 陈"
    assert a.text == "Start from the rubric, Alice and @bob"
    assert a.mentions == ("11", "@bob") and a.link_count == 1
    reactions = [e for e in evs if e.kind is EventKind.REACTION]
    assert {(r.member_id, r.emoji, r.target_member_id) for r in reactions} == {("11", "👍", "13"), ("12", "👍", "13")}
    photo = next(e for e in evs if e.message_id == "5")
    assert photo.media == "photo" and photo.forwarded
    assert next(e for e in evs if e.message_id == "6").media == "sticker"
    invited = [e for e in evs if e.message_id == "2"]
    assert {e.data.get("name") for e in invited} == {"Bob", "Chen"} and all(e.member_id is None for e in invited)
    assert skipped == Counter({"type:unsupported": 1, "action:brand_new_action": 1})


def test_telegram_old_format_integer_ids_local_dates(tmp_path):
    header, evs, _ = events_of(write(tmp_path, "old.json", TG_OLD), tz=ZoneInfo("Asia/Shanghai"))
    assert header.group_id == "-4242"
    assert [e.member_id for e in evs] == ["77", "78"]
    # 12:00 in Shanghai is 04:00 UTC.
    assert evs[0].time == datetime(2019, 3, 1, 4, 0, tzinfo=UTC)
    assert evs[0].link_count == 1 and evs[1].link_count == 1 and evs[1].reply_to_id == "1"


def test_discord_export(tmp_path):
    header, evs, skipped = events_of(write(tmp_path, "general.json", DISCORD))
    assert (header.format, header.group_id, header.channel_id) == ("discord", "900000000000000001", "910000000000000001")
    join, q, reaction, a, botmsg = evs
    assert join.kind is EventKind.JOIN and join.member_id == "111"
    assert q.text.startswith("How do I") and q.channel_id == "910000000000000001"
    assert reaction.kind is EventKind.REACTION and reaction.member_id == "222" and reaction.target_member_id == "111"
    assert a.reply_to_id == q.message_id and a.mentions == ("111",) and a.media == "photo" and a.link_count == 1
    assert a.data.get("edited") is True
    assert botmsg.is_bot
    assert skipped == Counter({"type:SomethingNew": 1})


async def test_import_is_idempotent_and_fills_reply_authors(tmp_path):
    store = await EventStore.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    files = [write(tmp_path, "result.json", TG_NEW), write(tmp_path, "d.json", DISCORD)]
    first = await import_files(store, files)
    again = await import_files(store, files)
    assert first.events_new > 0 and first.events_duplicate == 0
    assert again.events_new == 0 and again.events_duplicate == first.events_new
    assert len(first.members) == 6 and first.members_new == 6 and again.members_new == 0
    data = first.as_json()
    assert {g["platform"] for g in data["groups"]} == {"telegram", "discord"}
    g = await store.group("telegram", "-1001500000001")
    reply = next(e for e in await store.events(g.pk) if e.message_id == "4" and e.kind is EventKind.MESSAGE)
    assert reply.target_member_id == "11"
    await store.close()


async def test_import_overlapping_a_live_event_counts_once(tmp_path):
    store = await EventStore.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    live = Event(platform="telegram", group_id="-1001500000001", kind=EventKind.MESSAGE,
                 time=datetime(2026, 1, 5, 9, 2, tzinfo=UTC), member_id="11", member_name="Alice",
                 message_id="3", text="How do I start the capstone?")
    assert await store.append(live)
    res = await import_files(store, [write(tmp_path, "result.json", TG_NEW)])
    fresh = await EventStore.open(f"sqlite:///{tmp_path / 'db2.sqlite'}")
    base = await import_files(fresh, [write(tmp_path, "result2.json", TG_NEW)])
    assert res.events_duplicate == 1 and res.events_new == base.events_new - 1
    await store.close()
    await fresh.close()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_extended_file_imports_only_the_rest(tmp_path, backend):
    store = await EventStore.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    part = copy.deepcopy(TG_NEW)
    part["messages"] = part["messages"][:4]
    a = await import_files(store, [write(tmp_path, "part.json", part)])
    b = await import_files(store, [write(tmp_path, "full.json", TG_NEW)])
    c = await import_files(store, [write(tmp_path, "full2.json", TG_NEW)])
    assert b.events_duplicate == a.events_new and c.events_new == 0
    await store.close()


async def test_a_live_chat_member_join_and_the_exports_join_count_once(tmp_path):
    """Alice's join reached the bot live as a `chat_member` update (no message id, so it
    is keyed by time); the export has it as service message 1. One join."""
    from telegram import Update

    from adapters.telegram_events import TranslateContext, to_event

    alice = {"id": 11, "is_bot": False, "first_name": "Alice"}
    update = Update.de_json({"update_id": 7, "chat_member": {
        "chat": {"id": -1001500000001, "title": "Course 101", "type": "supergroup"}, "from": alice,
        "date": 1767603601, "old_chat_member": {"status": "left", "user": alice},
        "new_chat_member": {"status": "member", "user": alice}}}, None)
    (live,) = [e for e in to_event(update, TranslateContext(bot_id=999, bot_username="b")) if e.kind is EventKind.JOIN]
    store = await EventStore.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert await store.append(live)
    res = await import_files(store, [write(tmp_path, "result.json", TG_NEW)])
    g = await store.group("telegram", "-1001500000001")
    joins = await store.events(g.pk, kinds=[EventKind.JOIN])
    assert [j.member_id for j in joins].count("11") == 1
    assert res.events_duplicate == 1
    again = await import_files(store, [write(tmp_path, "result.json", TG_NEW)])
    assert again.events_new == 0
    assert [j.member_id for j in await store.events(g.pk, kinds=[EventKind.JOIN])].count("11") == 1
    await store.close()
