"""Moderation driven like a chat: alerts with reasons and buttons, moderator decisions,
raids, edits, trust, and the modes."""

from __future__ import annotations

import pytest

from adapters.base import ActionKind
from bot.testing import BotHarness

SPAM = "Earn $500 a day from home, no experience needed! DM me now https://bit.ly/3xProfit"


def alerts(bot) -> list:
    """New alerts (messages with moderation's buttons, not edits) the bot sent; other
    features' buttons (onboarding's welcome) are not alerts."""
    return [r for r in bot.adapter.sent if r.buttons and r.buttons[0][0].data.startswith("mod:") and not r.edit_message_id]


def flag_id(reply) -> str:
    return reply.buttons[0][0].data.split(":")[-1]


async def test_spam_gets_an_alert_with_reasons_and_buttons(bot):
    await bot.say("alice", "Hi all, when is the capstone due?")
    sent = await bot.replies_to("spammer", SPAM)
    assert len(sent) == 1
    alert = sent[0]
    assert "spammer" in alert.text and "Earn $500" in alert.text
    assert "• spam: spam " in alert.text and "≥ 0.85" in alert.text
    assert "newcomer: new member" in alert.text
    assert [b.data.split(":")[1] for row in alert.buttons for b in row] == ["spam", "mute", "ham"]
    assert not bot.adapter.actions  # alert mode never acts on its own
    audit = await bot.app.store.audit_log(bot.group.pk)
    assert audit[0]["action"] == "flagged"
    assert "spam: spam " in audit[0]["detail"] and "newcomer: new member" in audit[0]["detail"]


async def test_clean_chat_gets_no_alert(bot):
    for who, text in [("alice", "Does anyone know if lesson 4 is due Friday?"), ("chen", "Yes, Friday 18:00 UTC, see the rubric."),
                      ("bob", "Thanks! My Docker container keeps exiting with code 137 though"), ("chen", "Give it more memory in the settings.")]:
        await bot.say(who, text)
    assert alerts(bot) == []


async def test_non_moderator_press_is_refused_and_changes_nothing(bot):
    (alert,) = await bot.replies_to("spammer", SPAM)
    fid = flag_id(alert)
    svc = bot.app.services["moderation"]
    before = svc.model.probability(SPAM)
    out = await bot.press("bob", f"mod:spam:{fid}")
    assert len(out) == 1 and out[0].private_to == "bob" and "moderators" in out[0].text
    assert bot.adapter.actions == []
    flag = await svc.store.flag(int(fid))
    assert flag["status"] == "open" and flag["decided_by"] is None
    assert await svc.store.labels() == []
    assert svc.model.probability(SPAM) == before
    assert all(a["actor"] != "bob" for a in await bot.app.store.audit_log(bot.group.pk))


async def test_moderator_spam_press_acts_records_edits_and_fires_hook(bot):
    confirmed = []

    async def hook(app, ev):
        confirmed.append((ev.member_id, ev.message_id, ev.by))

    bot.app.services["moderation"].on_spam_confirmed.append(hook)
    (alert,) = await bot.replies_to("spammer", SPAM)
    spam_msg = bot.messages[-1]
    out = await bot.press("admin", f"mod:spam:{flag_id(alert)}")
    kinds = [(a.kind, a.member_id, a.message_id) for a in bot.adapter.actions]
    assert (ActionKind.DELETE, "spammer", spam_msg.message_id) in kinds and (ActionKind.BAN, "spammer", None) in kinds
    (edit,) = out
    assert edit.edit_message_id == bot.adapter.sent_ids[bot.adapter.sent.index(alert)]
    assert "Decision: spam" in edit.text and "admin" in edit.text and edit.buttons == []
    flag = await bot.app.services["moderation"].store.flag(int(flag_id(alert)))
    assert flag["status"] == "spam" and flag["decided_by"] == "admin"
    assert confirmed == [("spammer", spam_msg.message_id, "admin")]
    # A second press says it was decided and does nothing more.
    again = await bot.press("admin", f"mod:ham:{flag_id(alert)}")
    assert "Already decided" in again[0].text and len(bot.adapter.actions) == 2


async def test_not_spam_lowers_the_score_next_time_and_persists(tmp_path):
    text = "Join the best crypto signals group now, daily profit t.me/+pumpgroup"
    bot = await BotHarness.create(tmp_path)
    try:
        (alert,) = await bot.replies_to("newbie", text)
        first = (await bot.app.services["moderation"].store.flag(int(flag_id(alert))))["score"]
        await bot.press("admin", f"mod:ham:{flag_id(alert)}")
        p_after = bot.app.services["moderation"].model.probability(text)
        assert p_after < first - 0.3
    finally:
        await bot.close()
    # A restarted bot on the same database learns the decision again from the label table.
    bot2 = await BotHarness.create(tmp_path)
    try:
        assert bot2.app.services["moderation"].model.probability(text) < first - 0.3
    finally:
        await bot2.close()


async def test_raid_of_twenty_new_accounts_is_one_alert_with_a_count(bot):
    for i in range(20):
        await bot.say(f"raider{i}", f"Join our crypto signals group t.me/+pumpgroup now{'!' * (i % 3)}", advance=2)
    assert len(alerts(bot)) == 1
    flag = (await bot.app.services["moderation"].store.flags(bot.group.pk))[0]
    assert flag["kind"] == "raid" and flag["count"] == 20
    last_edit = [r for r in bot.adapter.sent if r.edit_message_id][-1]
    assert "Raid: 20 members" in last_edit.text
    # One moderator press handles all twenty.
    await bot.press("admin", f"mod:spam:{flag['id']}")
    bans = {a.member_id for a in bot.adapter.actions if a.kind is ActionKind.BAN}
    assert bans == {f"raider{i}" for i in range(20)}


async def test_join_raid_is_one_alert(bot):
    for i in range(14):
        await bot.join(f"bot{i}")
    (alert,) = alerts(bot)
    assert "Join raid" in alert.text and "joins 10/10" in alert.text


async def test_edited_message_is_rechecked(bot):
    await bot.say("alice", "hello everyone")
    await bot.say("sneaky", "Thanks for the lecture, very helpful!")
    assert alerts(bot) == []
    await bot.edit(-1, SPAM)
    (alert,) = alerts(bot)
    assert "Earn $500" in alert.text


async def test_admin_is_trusted_for_content_but_not_raid(bot):
    await bot.say("admin", "FREE COURSE ACCESS, CLICK https://bit.ly/3xProfit NOW!!!")
    assert alerts(bot) == []
    for i in range(5):
        await bot.say("admin" if i == 0 else f"r{i}", "Join our crypto signals group t.me/+pumpgroup now")
    assert len(alerts(bot)) == 1


async def test_enforce_mode_deletes_and_bans(tmp_path):
    bot = await BotHarness.create(tmp_path, config="[moderation]\nmode = 'enforce'\n")
    fired = []

    async def confirmed(app, ev):
        fired.append(("confirmed", ev.member_id, ev.by))

    async def cleared(app, ev):
        fired.append(("cleared", ev.member_id, ev.by))

    bot.app.services["moderation"].on_spam_confirmed.append(confirmed)
    bot.app.services["moderation"].on_spam_cleared.append(cleared)
    try:
        (alert,) = await bot.replies_to("spammer", SPAM)
        kinds = {a.kind for a in bot.adapter.actions}
        assert kinds == {ActionKind.DELETE, ActionKind.BAN}
        assert fired == [("confirmed", "spammer", "policy")]
        assert "Done automatically: delete, ban" in alert.text
        # "Not spam" on an enforced flag undoes the ban.
        await bot.press("admin", f"mod:ham:{flag_id(alert)}")
        assert bot.adapter.actions[-1].kind is ActionKind.UNBAN
        assert fired[-1] == ("cleared", "spammer", "admin")
    finally:
        await bot.close()


async def test_dry_run_shows_what_enforce_would_do(tmp_path):
    bot = await BotHarness.create(tmp_path, config="[moderation]\nmode = 'dry_run'\n")
    try:
        (alert,) = await bot.replies_to("spammer", SPAM)
        assert "Enforce mode would: delete, ban" in alert.text
        assert bot.adapter.actions == []
    finally:
        await bot.close()


async def test_observe_mode_records_without_alerting(tmp_path):
    bot = await BotHarness.create(tmp_path, config="[moderation]\nmode = 'observe'\n")
    try:
        await bot.say("spammer", SPAM)
        assert alerts(bot) == [] and bot.adapter.actions == []
        flags = await bot.app.services["moderation"].store.flags(bot.group.pk)
        assert len(flags) == 1 and flags[0]["member_id"] == "spammer"
    finally:
        await bot.close()


async def test_alerts_go_to_the_moderators_chat(tmp_path):
    bot = await BotHarness.create(tmp_path, config="[moderation]\nalerts_chat = 'mods'\n")
    try:
        (alert,) = await bot.replies_to("spammer", SPAM)
        assert alert.group_id == "mods"
        bot.adapter.admins.add(("mods", "helper"))  # in the mods chat, but not a group admin
        bot.group_id = "mods"
        out = await bot.press("helper", f"mod:spam:{flag_id(alert)}")
        assert "not a moderator of the group" in out[0].text and bot.adapter.actions == []
        bot.adapter.admins.add(("mods", "admin"))
        out = await bot.press("admin", f"mod:spam:{flag_id(alert)}")
        assert out[0].group_id == "mods" and out[0].edit_message_id
        assert {a.group_id for a in bot.adapter.actions} == {"g1"}
    finally:
        await bot.close()


async def test_chinese_group_gets_chinese_alerts(tmp_path):
    bot = await BotHarness.create(tmp_path, config="[bot]\nlanguage = 'zh-CN'\n")
    try:
        (alert,) = await bot.replies_to("spammer", "兼职日结，在家动动手指日赚300，有意者加vx：abc8866 https://t.me/+zhuanqian888")
        assert "疑似垃圾消息" in alert.text and "删除并封禁" in alert.buttons[0][0].text
    finally:
        await bot.close()


def test_settings_errors_name_the_key():
    import pytest

    from bot.config import ConfigError, load_config_text

    with pytest.raises(ConfigError, match=r"\[moderation\].*mode must be one of observe, alert, enforce, dry_run"):
        load_config_text("[moderation]\nmode = 'bogus'\n")
    with pytest.raises(ConfigError, match=r"\[check_flood\].*severity must be one of low, medium, high"):
        load_config_text("[check_flood]\nseverity = 'extreme'\n")
    with pytest.raises(ConfigError, match=r"\[check_blocklist\].*not a valid regular expression"):
        load_config_text("[check_blocklist]\nregexes = ['(']\n")
    with pytest.raises(ConfigError, match=r"\[check_raid\]: key 'members' must be int"):
        load_config_text("[check_raid]\nmembers = 'five'\n")


async def test_group_override_of_a_check(tmp_path):
    cfg = "[[groups]]\nplatform = 'fake'\nid = 'g1'\n[groups.check_blocklist]\nwords = ['casino']\n"
    bot = await BotHarness.create(tmp_path, config=cfg)
    try:
        (alert,) = await bot.replies_to("alice", "best c.a.s.i.n.o in town, come")
        assert "blocklist: blocked: 'casino'" in alert.text
    finally:
        await bot.close()


async def test_config_set_in_chat_takes_effect_at_once(bot):
    await bot.say("alice", "best c.a.s.i.n.o in town, come")
    assert alerts(bot) == []
    out = await bot.ask("admin", "/config set check_blocklist.words casino")
    assert "casino" in out
    (alert,) = await bot.replies_to("bob", "best c.a.s.i.n.o in town, come")
    assert "blocked: 'casino'" in alert.text


async def test_report_on_an_auto_flag_adds_reporters_to_the_same_alert(bot):
    await bot.say("alice", "hi")
    (alert,) = await bot.replies_to("spammer", SPAM)
    await bot.say("bob", "/report", reply_to=1)
    assert len(alerts(bot)) == 1
    edit = [r for r in bot.adapter.sent if r.edit_message_id][-1]
    assert "Reporters: bob" in edit.text and "• spam: spam" in edit.text


async def test_enforce_mode_bans_a_whole_raid(tmp_path):
    bot = await BotHarness.create(tmp_path, config="[moderation]\nmode = 'enforce'\n")
    try:
        for i in range(8):
            await bot.say(f"raider{i}", "Meet new friends in our chat t.me/+friendsgroup here", advance=2)
        bans = {a.member_id for a in bot.adapter.actions if a.kind is ActionKind.BAN}
        assert bans == {f"raider{i}" for i in range(8)}
        deleted = {a.message_id for a in bot.adapter.actions if a.kind is ActionKind.DELETE}
        assert deleted >= {m.message_id for m in bot.messages[-4:]}
    finally:
        await bot.close()


async def test_a_flooding_member_is_one_alert_until_a_moderator_decides(bot):
    for i in range(30):  # two messages a second for fifteen seconds: a flood
        await bot.say("flooder", f"look at this, number {i} of my many thoughts", advance=0.5)
    (alert,) = alerts(bot)  # one alert for the member, not one per flagged message
    flag = await bot.app.services["moderation"].store.flag(int(flag_id(alert)))
    audit = await bot.app.store.audit_log(bot.group.pk, limit=100)
    flagged = [a for a in audit if a["action"] == "flagged"]  # each message is still audited
    assert len(flagged) >= 20
    assert flag["count"] == 1 and len(flag["members"]) == len(flagged)  # every flagged message on it
    # "Spam" acts on every message the flag holds.
    await bot.press("admin", f"mod:spam:{flag_id(alert)}")
    deleted = {a.message_id for a in bot.adapter.actions if a.kind is ActionKind.DELETE}
    assert deleted == {m for _, m in flag["members"]}
    # After a decision, a member who goes on flooding gets a new flag and alert.
    for i in range(8):
        await bot.say("flooder", f"still going, thought {i} of many more to come", advance=0.5)
    assert len(alerts(bot)) == 2


@pytest.mark.parametrize("fresh", [0.0, 1e9])
async def test_a_decision_made_elsewhere_reaches_a_flooding_members_flag_when_it_is_read_again(bot, monkeypatch, fresh):
    """The policy keeps a flooding member's flag in memory and reads it again after
    MEMBER_FLAG_FRESH (less up to half, at random, so a flood's flags are not all read at
    once): a decision another process wrote is seen then, and the flood starts a new flag."""
    from bot import mod_policy

    monkeypatch.setattr(mod_policy, "MEMBER_FLAG_FRESH", fresh)
    for i in range(12):
        await bot.say("flooder", f"look at this, number {i} of my many thoughts", advance=0.5)
    (alert,) = alerts(bot)
    store = bot.app.services["moderation"].store
    await store.update_flag(int(flag_id(alert)), status="ham", decided_by="dashboard:mod2")
    for i in range(8):
        await bot.say("flooder", f"still going, thought {i} of many more to come", advance=0.5)
    assert len(alerts(bot)) == (2 if fresh == 0 else 1)  # trusted for a day, the copy hides it


def test_flags_kept_in_memory_are_read_again_at_spread_out_times(monkeypatch):
    import time

    from bot import mod_policy

    now = time.monotonic()
    untils = [mod_policy._fresh_until() - now for _ in range(200)]
    assert all(mod_policy.MEMBER_FLAG_FRESH / 2 - 1 <= u <= mod_policy.MEMBER_FLAG_FRESH + 1 for u in untils)
    assert max(untils) - min(untils) > mod_policy.MEMBER_FLAG_FRESH / 4


async def test_a_long_flood_keeps_the_members_last_hundred_messages_on_its_flag(bot):
    from bot.mod_policy import MEMBER_FLAG_KEEP

    sent = [await bot.say("flooder", f"flood line {i} with some words in it", advance=0.5) for i in range(MEMBER_FLAG_KEEP + 30)]
    (alert,) = alerts(bot)
    flag = await bot.app.services["moderation"].store.flag(int(flag_id(alert)))
    assert flag["count"] == 1 and len(flag["members"]) == MEMBER_FLAG_KEEP
    assert [m for _, m in flag["members"]] == [e.message_id for e in sent[-MEMBER_FLAG_KEEP:]]


def test_a_flags_pairs_are_written_as_the_json_of_the_whole_list():
    """The policy encodes each (member, message) pair once and joins them; what it writes
    must be exactly what encoding the whole list gives, as the list slides."""
    import json

    from bot.mod_policy import _members_json

    caches: dict = {}
    pairs = [("u1", str(i)) for i in range(150)] + [("дима", None), ('q"uote', "1")]
    windows = [pairs[lo:hi] for lo, hi in ((0, 1), (0, 50), (40, 140), (52, 152))]
    windows += [pairs[0:hi] for hi in range(1, 101)] + [pairs[lo : lo + 100] for lo in range(1, 53)]  # one in, one out
    windows += [pairs[52:100] + pairs[101:152], pairs[53:100] + pairs[101:152] + [("u2", "x")], []]  # an edit's pair moved
    for window in windows:
        assert _members_json(caches, 7, list(window)) == json.dumps([list(p) for p in window], ensure_ascii=False)
        assert len(caches[7][1]) == len(window)  # only the pairs on the list are kept
