"""Person links: the store on every backend, and /link across two platforms."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.links import combine, person_ids
from bot.testing import BotHarness
from storage.events import Event, EventKind
from storage.links import LinkStore, normalise_code, own_person_id
from storage.store import EventStore


async def test_code_links_two_accounts_once(db_url):
    store = await EventStore.open(db_url)
    try:
        ls = LinkStore(store)
        code = await ls.create_code("telegram", "42", now=1000.0)
        assert len(code) == 6 and normalise_code(f" {code[:3].lower()}-{code[3:]} ") == code
        r = await ls.redeem(code, "discord", "777", now=1100.0)
        assert r.ok and (r.other_platform, r.other_member_id) == ("telegram", "42")
        assert await ls.person_id("telegram", "42") == await ls.person_id("discord", "777") == r.person_id
        assert (await ls.redeem(code, "discord", "778", now=1101.0)).error == "unknown"  # used up
        assert await ls.person_ids("discord", ["777", "5"]) == {"777": r.person_id, "5": own_person_id("discord", "5")}
        assert sorted(await ls.accounts(r.person_id)) == [("discord", "777"), ("telegram", "42")]
        assert await ls.accounts("discord:5") == [("discord", "5")]
        both = await ls.person_map([("telegram", "42"), ("discord", "777"), ("discord", "5")])
        assert both[("telegram", "42")] == both[("discord", "777")] != both[("discord", "5")]
        assert await ls.unlink("discord", "777")
        assert await ls.person_id("discord", "777") == "discord:777"
        assert await ls.person_id("telegram", "42") == r.person_id
        assert not await ls.unlink("discord", "777")
    finally:
        await store.close()


async def test_code_errors(db_url):
    store = await EventStore.open(db_url)
    try:
        ls = LinkStore(store)
        code = await ls.create_code("telegram", "42", now=0.0, ttl=600)
        assert (await ls.redeem(code, "telegram", "42", now=1.0)).error == "self"
        assert (await ls.redeem(code, "telegram", "43", now=1.0)).error == "same_platform"
        assert (await ls.redeem("ZZZZZZ", "discord", "1", now=1.0)).error == "unknown"
        assert (await ls.redeem(code, "discord", "1", now=601.0)).error == "expired"
        # A new code replaces the old one of the same account.
        newer = await ls.create_code("telegram", "42", now=700.0)
        assert (await ls.redeem(code, "discord", "1", now=701.0)).error == "unknown"
        assert (await ls.redeem(newer, "discord", "1", now=701.0)).ok
    finally:
        await store.close()


async def test_a_third_account_joins_the_same_person(db_url):
    store = await EventStore.open(db_url)
    try:
        ls = LinkStore(store)
        p = (await ls.redeem(await ls.create_code("telegram", "1"), "discord", "2")).person_id
        # The Discord account (already linked) hands a code to a second Telegram account.
        q = (await ls.redeem(await ls.create_code("discord", "2"), "telegram", "3")).person_id
        assert p == q
        assert len(await ls.accounts(p)) == 3
    finally:
        await store.close()


def _cmd(platform: str, member: str, text: str, mid: str) -> Event:
    return Event(platform=platform, group_id="g-" + platform, kind=EventKind.COMMAND,
                 time=datetime(2026, 11, 20, 9, 0, tzinfo=UTC), member_id=member, member_name=member,
                 message_id=mid, text=text)


async def test_link_command_across_platforms(tmp_path):
    bot = await BotHarness.create(tmp_path, platform="telegram")
    try:
        from adapters.fake import FakeAdapter

        other = FakeAdapter("discord")
        bot.app.add_adapter(other)
        await other.start(bot.app.handle)
        await bot.say("alice", "/link")
        shown = bot.adapter.sent[-1]
        assert shown.private_to == "alice" and shown.ephemeral and "/link " in shown.text
        code = shown.text.split("/link ")[1].split(" ")[0]
        await other.inject(_cmd("discord", "alice#d", f"/link {code}", "m1"))
        assert "now count as one person" in other.sent[-1].text and "Telegram" in other.sent[-1].text
        ids = await person_ids(bot.app, "discord", ["alice#d"])
        assert ids["alice#d"] == (await person_ids(bot.app, "telegram", ["alice"]))["alice"]
        totals = await combine(bot.app, {("telegram", "alice"): 3.0, ("discord", "alice#d"): 4.0, ("discord", "bo"): 1.0})
        assert sorted(totals.values()) == [1.0, 7.0]
        await other.inject(_cmd("discord", "carl", f"/link {code}", "m2"))
        assert "not valid" in other.sent[-1].text
        await other.inject(_cmd("discord", "alice#d", "/unlink", "m3"))
        assert "no longer linked" in other.sent[-1].text
    finally:
        await bot.close()


async def test_link_replies_in_chinese(tmp_path):
    bot = await BotHarness.create(tmp_path, config='[bot]\nlanguage = "zh-CN"\n')
    try:
        text = await bot.ask("alice", "/link WRONG1")
        assert "关联码无效" in text
    finally:
        await bot.close()
