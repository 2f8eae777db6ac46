"""Member data rights as conversations: /mydata, /forgetme (own confirmation only),
/optout and /optin, the retention purge, and `communitybot forget`."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import func, select

import storage.schema  # noqa: F401  - every table on Base.metadata
from bot.app import App
from bot.cli import main
from bot.config import load_config
from bot.jobs import weekly_board
from bot.points import ledger_of
from bot.privacy import purge_old_texts
from bot.scheduler import scheduler_of
from storage.ledger import LedgerEntry
from storage.models import Base, EventRow, Member
from storage.moderation import ModFlag, ModWarning
from storage.privacy import HANDLED_COLUMNS

LONG = "a long enough message about study plans"


async def _chat(bot) -> None:
    """alice and bob talk in g1; alice also talks in another group g2."""
    await bot.say("alice", f"{LONG} from alice one")
    await bot.say("bob", f"{LONG} from bob", reply_to=0)
    await bot.say("alice", f"{LONG} from alice two", reply_to=1)
    await bot.react("bob", 0)
    await bot.react("alice", 1)
    await bot.say("alice", "g2 secret words of alice", group_id="g2")


async def _rows(bot, table, *where):
    async with bot.app.store.engine.connect() as conn:
        return (await conn.execute(select(table).where(*where))).all()


async def test_mydata_sends_a_private_json_of_this_group_only(bot):
    await _chat(bot)
    await bot.say("alice", "/feedback the course videos are too long")
    replies = await bot.replies_to("alice", "/mydata")
    assert len(replies) == 1
    r = replies[0]
    assert r.private_to == "alice" and r.file is not None and r.file[0] == "mydata.json"
    data = json.loads(r.file[1])
    texts = [e["text"] for e in data["events"]]
    assert f"{LONG} from alice one" in texts and f"{LONG} from alice two" in texts
    assert {e["member_id"] for e in data["events"]} == {"alice"}
    assert any(e["kind"] == "reaction" for e in data["events"])
    assert data["points_ledger"] and {row["member_id"] for row in data["points_ledger"]} == {"alice"}
    assert data["member"]["name"] == "alice" and data["group"]["group_id"] == "g1"
    raw = r.file[1].decode()
    assert "g2 secret" not in raw and "from bob" not in raw
    assert "interests" in data and "rsvps" in data and "moderation" in data
    assert [f["text"] for f in data["feedback"]] == ["the course videos are too long"]


async def test_forgetme_only_the_member_can_confirm(bot):
    await _chat(bot)
    await bot.say("alice", "/feedback the course videos are too long")
    g = bot.group
    total_before = sum(p for _, p in await ledger_of(bot.app).top(g.pk, limit=100))
    ask = (await bot.replies_to("alice", "/forgetme"))[0]
    assert ask.ephemeral and ask.group_id == "g1"  # pressed in the group (a DM press has no group)
    payloads = [b.data for row in ask.buttons for b in row]
    assert "forget:confirm:alice" in payloads
    # bob presses alice's button: refused, nothing erased.
    refused = await bot.press("bob", "forget:confirm:alice")
    assert refused and "Only the member" in refused[0].text
    assert await _rows(bot, EventRow.__table__, EventRow.group_pk == g.pk, EventRow.member_id == "alice")
    done = await bot.press("alice", "forget:confirm:alice")
    assert "Done" in done[0].text and "Nothing that names you was kept" in done[0].text
    ev = EventRow.__table__
    assert not await _rows(bot, ev, ev.c.group_pk == g.pk, ev.c.member_id == "alice")
    assert not await _rows(bot, ev, ev.c.group_pk == g.pk, ev.c.target_member_id == "alice")
    assert not await _rows(bot, ev, ev.c.group_pk == g.pk, ev.c.text.contains("from alice"))
    anon = await _rows(bot, ev, ev.c.group_pk == g.pk, ev.c.member_id.startswith("anon:"))
    assert len(anon) >= 4  # her messages, her reaction and her button press stay as counts
    m = (await _rows(bot, Member.__table__, Member.member_id == "alice"))[0]
    assert m.name == "" and m.username is None
    # Points stay in the totals under the pseudonym but leave every board.
    led = LedgerEntry.__table__
    assert not await _rows(bot, led, led.c.group_pk == g.pk, led.c.member_id == "alice")
    assert sum(p for _, p in await ledger_of(bot.app).top(g.pk, limit=100)) == total_before
    for board in ("points all", "activity all", "influence all"):
        shown = await bot.ask("bob", f"/top {board}")
        assert "anon:" not in shown and "alice" not in shown
    from storage.dashboard import FeedbackItem

    fb = FeedbackItem.__table__
    kept = await _rows(bot, fb, fb.c.group_pk == g.pk)
    assert len(kept) == 1 and kept[0].text == "" and kept[0].member_id.startswith("anon:") and kept[0].member_name == ""
    # The other group is untouched.
    g2 = await bot.app.store.find_group("fake:g2")
    assert await _rows(bot, ev, ev.c.group_pk == g2.pk, ev.c.member_id == "alice", ev.c.text.contains("g2 secret"))


async def test_forget_keeps_what_moderation_needs(bot):
    await _chat(bot)
    g = bot.group
    await bot.ask("admin", "/warn be kind", reply_to=0)
    fl = ModFlag.__table__
    async with bot.app.store.engine.begin() as conn:
        await conn.execute(fl.insert().values(group_pk=g.pk, key="msg:x", ts=1.0, updated_ts=1.0, kind="auto", status="open",
                                              member_id="alice", text="buy cheap coins", action=""))
        await conn.execute(fl.insert().values(group_pk=g.pk, key="msg:y", ts=1.0, updated_ts=1.0, kind="auto", status="ham",
                                              member_id="alice", text="harmless", action=""))
    await bot.ask("alice", "/forgetme")
    text = (await bot.press("alice", "forget:confirm:alice"))[0].text
    assert "1 warning" in text and "1 moderation flag" in text and "recognise" in text
    warn = (await _rows(bot, ModWarning.__table__, ModWarning.group_pk == g.pk))[0]
    assert warn.member_id == "alice" and warn.reason == ""
    flags = {r.key: r for r in await _rows(bot, fl, fl.c.group_pk == g.pk)}
    assert flags["msg:x"].member_id == "alice" and flags["msg:x"].text == ""
    assert flags["msg:y"].member_id.startswith("anon:") and flags["msg:y"].text == ""


async def test_optout_hides_from_boards_and_reports_without_deleting(bot):
    from bot.report import build_report

    await _chat(bot)
    g = bot.group
    assert "alice" in await bot.ask("bob", "/top points all")
    assert "no longer appear" in await bot.ask("alice", "/optout")
    assert "already hidden" in await bot.ask("alice", "/optout")
    for board in ("points all", "activity all", "influence all"):
        assert "alice" not in await bot.ask("bob", f"/top {board}")
    assert "bob" in await bot.ask("bob", "/top activity all")
    await weekly_board(bot.app, g, None, bot.clock.now() + timedelta(minutes=1))
    post = bot.adapter.sent[-1].text
    assert "bob" in post and "alice" not in post
    snap = await bot.app.services["scoring"].snapshot(g, fresh=True)
    settings = await bot.app.settings("scoring", g)
    from bot.privacy import hidden_members

    rep = build_report(g, snap, settings, hidden=await hidden_members(bot.app, g))
    assert "alice" not in {m["member_id"] for m in rep["members"]} and "alice" not in rep["leaderboards"]["influence"]
    assert rep["events"] == build_report(g, snap, settings)["events"]  # totals keep her
    assert await ledger_of(bot.app).balance(g.pk, "alice") > 0  # nothing deleted
    assert "again" in await bot.ask("alice", "/optin")
    assert "alice" in await bot.ask("bob", "/top points all")


async def test_retention_blanks_old_texts_and_keeps_counts(bot):
    await bot.say("alice", "an old message from long ago")
    g = bot.group
    assert await purge_old_texts(bot.app, g) == 0  # default 0: keep forever
    await bot.app.store.set_setting(g.pk, "privacy.retention_days", 30)
    await bot.later(timedelta(days=40))
    await bot.say("bob", "a fresh message from today")
    count = await bot.app.store.count_events(g.pk)
    assert await purge_old_texts(bot.app, g) == 1
    ev = EventRow.__table__
    assert not await _rows(bot, ev, ev.c.text.contains("long ago"))
    assert await _rows(bot, ev, ev.c.text.contains("fresh message"))
    assert await bot.app.store.count_events(g.pk) == count


async def test_retention_runs_as_a_scheduled_job(bot):
    await bot.say("alice", "an old message from long ago")
    g = bot.group
    await bot.app.store.set_setting(g.pk, "privacy.retention_days", 7)
    sched = scheduler_of(bot.app)
    await sched.sync_group(g)
    bot.clock.set(bot.clock.now().replace(hour=2, minute=0) + timedelta(days=10))
    await bot.say("bob", "newer words")
    runs = await sched.run_due(bot.clock.now().replace(hour=3, minute=31))
    mine = [r for r in runs if r.kind == "privacy_retention"]
    assert mine and mine[0].status == "ran" and mine[0].detail == "1 texts blanked"
    assert not await _rows(bot, EventRow.__table__, EventRow.text.contains("long ago"))


def test_every_member_column_is_handled_by_forget():
    """A new table naming members must be taught to `forget` (or listed as kept here)."""
    kept = {("audit_log", "actor")}  # the admin accountability record; actors are admins and the policy
    names = ("member", "reporter", "actor", "_by", "mentions")
    found = {(t.name, c.name) for t in Base.metadata.sorted_tables for c in t.columns
             if any(n in c.name for n in names) and c.name not in ("members_count",)}
    assert found - HANDLED_COLUMNS - kept == set()


async def _seed(url: str) -> None:
    from storage.events import Event, EventKind

    app = await App.create(load_config(None), url)
    from datetime import UTC, datetime

    t = datetime(2026, 11, 2, 9, tzinfo=UTC)
    await app.store.append_many([
        Event("telegram", "-1001", EventKind.MESSAGE, t + timedelta(minutes=i), member_id=who, member_name=who,
              message_id=str(i), text=f"words of {who} {i}", group_title="Course")
        for i, who in enumerate(("alice", "bob", "alice"))
    ])
    await app.stop()


async def _count(url: str, *where) -> int:
    app = await App.create(load_config(None), url)
    async with app.store.engine.connect() as conn:
        n = (await conn.execute(select(func.count()).select_from(EventRow.__table__).where(*where))).scalar()
    await app.stop()
    return n


def test_cli_forget(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    asyncio.run(_seed(url))
    assert main(["forget", "--platform", "telegram", "--member", "alice", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "forgotten as anon:" in out and "texts erased: 2" in out
    assert asyncio.run(_count(url, EventRow.member_id == "alice")) == 0
    assert asyncio.run(_count(url, EventRow.text.contains("bob"))) == 1
    assert main(["forget", "--platform", "telegram", "--member", "x", "--group", "Nope", "--db", url]) == 2
    assert "no group 'Nope'" in capsys.readouterr().err


async def test_export_forget_and_purge_on_each_database(db_url, tmp_path):
    """The same queries on SQLite and PostgreSQL (the table comes from the migration)."""
    from bot.privacy import export_member, forget_member, privacy_store
    from bot.testing import BotHarness

    bot = await BotHarness.create(tmp_path, db_url=db_url)
    try:
        await _chat(bot)
        g = bot.group
        await bot.say("bob", "hello @alice", mentions=("alice",))
        assert await privacy_store(bot.app).set_optout(g.pk, "alice", True, 1.0)
        assert await privacy_store(bot.app).hidden(g.pk) == {"alice"}
        data = await export_member(bot.app, g, "alice")
        assert data["opted_out"] and len([e for e in data["events"] if e["kind"] == "message"]) == 2
        res = await forget_member(bot.app, g, "alice")
        assert res.changed["texts erased"] >= 3 and res.changed["events.mentions"] == 1
        assert await privacy_store(bot.app).hidden(g.pk) == set()
        ev = EventRow.__table__
        assert not await _rows(bot, ev, ev.c.group_pk == g.pk, ev.c.mentions.contains("alice"))
        assert (await export_member(bot.app, g, "alice"))["events"] == []
        await bot.later(timedelta(days=3))
        assert await privacy_store(bot.app).purge_texts(g.pk, bot.clock.now().timestamp()) >= 2  # bob's texts
    finally:
        await bot.close()


async def test_replies_follow_the_group_language(bot):
    await bot.say("alice", "你好")
    await bot.app.store.update_group(bot.group.pk, language="zh-CN")
    assert "公开排行榜" in await bot.ask("alice", "/optout")
    ask = (await bot.replies_to("alice", "/forgetme"))[0]
    assert "不可撤销" in ask.text
    assert "只有" in (await bot.press("bob", "forget:confirm:alice"))[0].text
    assert "已取消" in (await bot.press("alice", "forget:cancel:alice"))[0].text
    assert await _rows(bot, EventRow.__table__, EventRow.member_id == "alice")


async def test_forget_clears_what_memory_holds_about_the_member(bot):
    from bot.points_state import state_of

    await _chat(bot)
    g = bot.group
    st = state_of(bot.app)
    assert any(v.member_id == "alice" for (pk, _), v in st._messages.items() if pk == g.pk)
    assert bot.app.services["moderation"].window(g.pk).has_member("alice")
    await bot.ask("alice", "/forgetme")
    await bot.press("alice", "forget:confirm:alice")
    assert not any(v.member_id == "alice" for (pk, _), v in st._messages.items() if pk == g.pk)
    assert not bot.app.services["moderation"].window(g.pk).has_member("alice")


def test_window_forgets_a_member_at_once():
    from scoring.textnorm import shingles
    from scoring.window import HASHER, GroupWindow

    w = GroupWindow()
    text = "Join my crypto signals group for free money today"
    for i, who in enumerate(["alice", "bob", "alice"]):
        m = w.member(who)
        w.note_message(m, 100.0 + i, text, 0, 0)
        sh = shingles(text)
        sig = HASHER.signature(sh)
        w.note_text(m, 100.0 + i, sig)
        w.cluster_for(100.0 + i, who, str(i), sh, sig, 0.7, 600)
    w.note_join(90.0, "alice", 60, 99)
    (cid,) = w.clusters
    assert cid.startswith("alice:")
    assert w.forget_member("alice") == 2
    assert not w.has_member("alice") and w.has_member("bob")
    assert all(s.member_id != "alice" for s in w.recent)
    assert all(s.member_id != "alice" for bucket in w.buckets() for s in bucket)
    (cluster,) = w.clusters.values()
    assert list(cluster.members) == ["bob"] and "alice" not in cluster.id
    assert all(w.cluster_id(s) == cluster.id for s in w.recent)
    assert [m for _, m in w.joins] == ["~forgotten"]
    # Bob's next copy still joins the same cluster.
    sh = shingles(text)
    got, sim = w.cluster_for(110.0, "bob", "9", sh, HASHER.signature(sh), 0.7, 600)
    assert got is cluster and sim == 1.0


async def test_forgetme_empties_the_moderation_window(bot):
    await _chat(bot)
    w = bot.app.services["moderation"].windows[bot.group.pk]
    assert w.has_member("alice") and any(s.member_id == "alice" for s in w.recent)
    await bot.ask("alice", "/forgetme")
    await bot.press("alice", "forget:confirm:alice")
    assert not w.has_member("alice")
    assert not any(s.member_id == "alice" for s in w.recent)
    assert not any("alice" in c.members or c.id.startswith("alice:") for c in w.clusters.values())
