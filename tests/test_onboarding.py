"""Onboarding through the FakeAdapter harness: welcome, rules, the join gate on the fake
clock, the raid gate, introductions and /profile."""

from __future__ import annotations

import re

import pytest

from adapters.base import ActionKind
from bot.testing import BotHarness

GATE_ON = """
[onboarding]
gate = "question"
gate_minutes = 3.0
intro_tags = ["python", "statistics", "career"]
"""


@pytest.fixture
async def gated(tmp_path):
    h = await BotHarness.create(tmp_path, config=GATE_ON)
    yield h
    await h.close()


def raid_config(joins: int, seconds: float, **onboarding: str) -> str:
    """Raid thresholds where they are read: moderation's [check_raid] when installed."""
    from bot.config import SECTIONS

    lines = ["[onboarding]", f"raid_joins = {joins}", f"raid_seconds = {seconds}"]
    lines += [f'{k} = "{v}"' for k, v in onboarding.items()]
    if "check_raid" in SECTIONS:
        lines += ["[check_raid]", f"joins = {joins}", f"join_seconds = {seconds}"]
    return "\n".join(lines) + "\n"


def svc(bot):
    return bot.app.services["onboarding"]


def gate_message(bot, member: str):
    return next(r for r in reversed(bot.adapter.sent) if r.buttons and r.buttons[0][0].data.startswith("gate:") and f"@{member}" in r.text or (r.buttons and r.buttons[0][0].data.startswith("gate:") and member in r.text))


def answer_of(reply) -> str:
    a, b = re.search(r"(\d+) \+ (\d+)", reply.text).groups()
    return str(int(a) + int(b))


def kinds(bot, member: str) -> list[str]:
    return [a.kind.value for a in bot.adapter.actions if a.member_id == member]


async def test_welcome_uses_placeholders_and_is_deleted_later(bot):
    await bot.say("admin", "/setrules Be kind. No ads.")
    out = await bot.ask("admin", "/setwelcome Hi {name}, welcome to {group}! Rules: {rules}")
    assert "Hi admin, welcome to Course 101! Rules: Be kind. No ads." in out
    start = len(bot.adapter.sent)
    await bot.join("dana")
    (welcome,) = bot.adapter.sent[start:]
    assert welcome.text.startswith("Hi dana, welcome to Course 101! Rules: Be kind. No ads.")
    assert any(b.data.startswith("intro:w:dana:") for row in welcome.buttons for b in row)
    mid = bot.adapter.sent_ids[start]
    await bot.later(9 * 60)
    await svc(bot).run_due()
    assert not [a for a in bot.adapter.actions if a.kind is ActionKind.DELETE]
    await bot.later(2 * 60)
    ran = await svc(bot).run_due()
    assert ("delete", f"g1:{mid}") in ran
    assert [a.message_id for a in bot.adapter.actions if a.kind is ActionKind.DELETE] == [mid]


async def test_rules_and_admin_only_setters(bot):
    assert "no rules written down" in await bot.ask("alice", "/rules")
    assert "Only admins" in await bot.ask("alice", "/setrules anything goes")
    await bot.say("admin", "/setrules 1. Be kind\n2. Stay on topic")
    assert "1. Be kind\n2. Stay on topic" in await bot.ask("alice", "/rules")
    assert "Unknown placeholder {nick}" in await bot.ask("admin", "/setwelcome Hi {nick}")


async def test_newcomer_is_restricted_then_released_by_the_right_answer(gated):
    bot = gated
    await bot.join("dana")
    assert kinds(bot, "dana") == ["mute"]
    gate = bot.adapter.sent[-1]
    gate_id = bot.adapter.sent_ids[-1]
    assert "@" not in gate.text or "dana" in gate.text
    assert len(gate.buttons[0]) == 4
    replies = await bot.press("dana", f"gate:{gate.buttons[0][0].data.split(':')[1]}:{answer_of(gate)}", message_id=gate_id)
    assert kinds(bot, "dana") == ["mute", "unmute"]
    assert [a.message_id for a in bot.adapter.actions if a.kind is ActionKind.DELETE] == [gate_id]
    assert any("welcome" in r.text.lower() for r in replies)
    (g,) = await svc(bot).store.gates(bot.group.pk)
    assert g["status"] == "passed"
    # The deadline passing later changes nothing.
    await bot.later(600)
    await svc(bot).run_due()
    assert "kick" not in kinds(bot, "dana")


async def test_silent_newcomer_is_removed_after_the_time_limit(gated):
    bot = gated
    await bot.join("bot123")
    gate_id = bot.adapter.sent_ids[-1]
    await bot.later(170)
    await svc(bot).run_due()
    assert kinds(bot, "bot123") == ["mute"]
    await bot.later(20)
    await svc(bot).run_due()
    assert kinds(bot, "bot123") == ["mute", "kick"]
    assert gate_id in [a.message_id for a in bot.adapter.actions if a.kind is ActionKind.DELETE]
    (g,) = await svc(bot).store.gates(bot.group.pk)
    assert g["status"] == "timeout"
    m = bot.app.metrics.registry
    assert m.get_sample_value("communitybot_onboarding_gates_total", {"platform": "fake", "outcome": "opened"}) == 1
    assert m.get_sample_value("communitybot_onboarding_gates_total", {"platform": "fake", "outcome": "timeout"}) == 1


async def test_wrong_answer_gets_a_new_question_then_removal(gated):
    bot = gated
    await bot.join("dana")
    gate = bot.adapter.sent[-1]
    gid = gate.buttons[0][0].data.split(":")[1]
    wrong = next(b.data.split(":")[2] for b in gate.buttons[0] if b.data.split(":")[2] != answer_of(gate))
    replies = await bot.press("dana", f"gate:{gid}:{wrong}", message_id=bot.adapter.sent_ids[-1])
    assert any("1 attempt(s) left" in r.text for r in replies)
    edited = next(r for r in replies if r.edit_message_id)
    assert kinds(bot, "dana") == ["mute"]
    wrong2 = next(b.data.split(":")[2] for b in edited.buttons[0] if b.data.split(":")[2] != answer_of(edited))
    await bot.press("dana", f"gate:{gid}:{wrong2}")
    assert kinds(bot, "dana") == ["mute", "kick"]


async def test_others_cannot_answer_for_the_newcomer_but_admins_can_let_them_in(gated):
    bot = gated
    await bot.join("dana")
    gate = bot.adapter.sent[-1]
    gid = gate.buttons[0][0].data.split(":")[1]
    (r,) = await bot.press("mallory", f"gate:{gid}:{answer_of(gate)}")
    assert r.ephemeral and "for dana" in r.text
    assert kinds(bot, "dana") == ["mute"]
    await bot.press("admin", f"gate:{gid}:whatever")
    assert kinds(bot, "dana") == ["mute", "unmute"]


async def test_admins_and_members_from_before_the_gate_are_never_gated(tmp_path):
    bot = await BotHarness.create(tmp_path, admins=("admin", "ada"))
    try:
        await bot.say("alice", "hello all")  # alice is known before the gate goes on
        await bot.say("admin", "/gate button")
        await bot.leave("alice")
        await bot.join("alice")
        await bot.join("ada")  # an admin
        assert kinds(bot, "alice") == [] and kinds(bot, "ada") == []
        await bot.join("newbie")
        assert kinds(bot, "newbie") == ["mute"]
        assert bot.adapter.sent[-1].buttons[0][0].data.endswith(":ok")
    finally:
        await bot.close()


async def test_welcome_is_in_chinese_for_a_zh_group(tmp_path):
    bot = await BotHarness.create(tmp_path, config='[bot]\nlanguage = "zh-CN"\n[onboarding]\nintro_tags = ["python"]\n')
    try:
        await bot.join("xiaoming")
        text = bot.adapter.sent[-1].text
        assert "欢迎" in text and "xiaoming" in text and "你对什么感兴趣" in text
        assert bot.adapter.sent[-1].buttons[-1][0].text == "完成"
    finally:
        await bot.close()


async def test_join_burst_turns_the_gate_on_and_tells_moderators_once(tmp_path):
    bot = await BotHarness.create(tmp_path, config=raid_config(5, 60.0, raid_gate="button"))
    try:
        await bot.join("early")  # long before the raid: never gated
        await bot.later(3600)
        welcomes = {}
        for i in range(12):
            await bot.join(f"spam{i}")
            if i < 4:  # before the gate goes up: welcomed (and those welcomes go when it does)
                welcomes[f"spam{i}"] = bot.adapter.sent_ids[-1]
        alerts = [r for r in bot.adapter.sent if "Join gate switched on" in r.text]
        assert len(alerts) == 1
        assert "5 joins within 60s" in alerts[0].text and "button" in alerts[0].text
        # The raid's first accounts (before the gate went up) are gated too, then every later one.
        gated = {a.member_id for a in bot.adapter.actions if a.kind is ActionKind.MUTE}
        assert gated == {f"spam{i}" for i in range(12)}
        assert "early" not in gated
        deleted = {a.message_id for a in bot.adapter.actions if a.kind is ActionKind.DELETE}
        assert set(welcomes.values()) <= deleted
        # One shared gate message for the whole raid, not one per account.
        boards = [(i, r) for i, r in enumerate(bot.adapter.sent) if r.buttons and r.buttons[0][0].data.startswith("gate:")]
        assert len(boards) == 1 and boards[0][1].buttons[0][0].data == "gate:r:ok"
        board_id = bot.adapter.sent_ids[boards[0][0]]
        (r,) = await bot.press("alice", "gate:r:ok")  # not waiting at the gate
        assert r.ephemeral and "not waiting" in r.text
        await bot.press("spam7", "gate:r:ok")  # one account is a person after all
        assert kinds(bot, "spam7") == ["mute", "unmute"]
        assert board_id not in {a.message_id for a in bot.adapter.actions if a.kind is ActionKind.DELETE}
        await bot.later(200)
        await svc(bot).run_due()
        kicked = {a.member_id for a in bot.adapter.actions if a.kind is ActionKind.KICK}
        assert kicked == gated - {"spam7"}
        # The shared message goes once the last account under it is gone.
        assert [a.message_id for a in bot.adapter.actions if a.kind is ActionKind.DELETE].count(board_id) == 1
        assert "button" in await bot.ask("admin", "/gate")
        # After the raid gate's time, joins are welcomed without a gate again.
        await bot.later(31 * 60)
        await bot.join("calm")
        assert "calm" not in {a.member_id for a in bot.adapter.actions}
        assert len([r for r in bot.adapter.sent if "Join gate switched on" in r.text]) == 1
    finally:
        await bot.close()


async def test_a_gated_member_who_writes_anyway_is_deleted_and_leaving_closes_the_gate(gated):
    bot = gated
    await bot.join("dana")
    gate_id = bot.adapter.sent_ids[-1]
    msg = await bot.say("dana", "buy followers http://x.example")
    assert any(a.kind is ActionKind.DELETE and a.message_id == msg.message_id for a in bot.adapter.actions)
    await bot.leave("dana")
    (g,) = await svc(bot).store.gates(bot.group.pk)
    assert g["status"] == "left"
    assert gate_id in [a.message_id for a in bot.adapter.actions if a.kind is ActionKind.DELETE]
    await bot.later(600)
    await svc(bot).run_due()
    assert "kick" not in kinds(bot, "dana")


async def test_the_gate_survives_a_restart(tmp_path):
    bot = await BotHarness.create(tmp_path, config=GATE_ON)
    await bot.join("dana")
    start = bot.clock.now()
    await bot.close()
    again = await BotHarness.create(tmp_path, config=GATE_ON)
    try:
        again.clock.set(start)
        again.clock.advance(300)
        await again.app.services["onboarding"].run_due()
        assert [a.kind for a in again.adapter.actions] == [ActionKind.KICK, ActionKind.DELETE]
    finally:
        await again.close()


async def pick(bot, member: str, *tags: str) -> list:
    welcome_id = next(i for i, r in zip(reversed(bot.adapter.sent_ids), reversed(bot.adapter.sent), strict=True)
                      if any(b.data.startswith(f"intro:w:{member}:") for row in r.buttons for b in row))
    for t in tags:
        await bot.press(member, f"intro:w:{member}:{t}", message_id=welcome_id)
    return await bot.press(member, f"intro:w:{member}:=done", message_id=welcome_id)


async def test_introductions_suggest_matching_members_and_never_opted_out_ones(bot):
    await bot.say("admin", "/config set onboarding.intro_tags python, statistics, career")
    for who, tags in {"chen": ["python"], "olga": ["python", "statistics"], "omar": ["python"], "zoe": ["career"]}.items():
        await bot.say(who, "/intro")
        for t in tags:
            await bot.press(who, f"intro:p:{who}:{t}")
        await bot.press(who, f"intro:p:{who}:=done")
    await bot.say("chen", "/intro on")
    await bot.say("omar", "/intro off")
    for who in ("chen", "olga", "omar", "zoe"):
        await bot.say(who, f"hi, I'm {who}")
    await bot.join("dana")
    start = len(bot.adapter.sent)
    replies = await pick(bot, "dana", "python")
    suggestion = next(r for r in replies if "match" in r.text)
    assert "chen" in suggestion.text and "olga" in suggestion.text
    assert "omar" not in suggestion.text and "zoe" not in suggestion.text
    # Only chen opted in: only chen is told, privately.
    notes = [r for r in bot.adapter.sent[start:] if r.private_to and not r.ephemeral]
    assert [(r.private_to, "dana" in r.text and "python" in r.text) for r in notes] == [("chen", True)]
    # The welcome was edited to show the picks and lose its buttons.
    edit = next(r for r in replies if r.edit_message_id)
    assert "Your picks: python" in edit.text and edit.buttons == []


async def test_only_the_newcomer_can_pick_their_interests(bot):
    await bot.join("dana")
    (r,) = await bot.press("mallory", "intro:w:dana:programming")
    assert r.ephemeral and "for dana" in r.text
    assert (await bot.app.services["onboarding"].store.member(bot.group.pk, "mallory"))["tags"] == []


async def test_profile_starts_from_the_picks(bot):
    await bot.join("dana")
    await pick(bot, "dana", "data", "ai")
    out = await bot.ask("dana", "/profile")
    assert "data 50%" in out and "ai 50%" in out and "introduction" in out
    other = await bot.ask("alice", "/profile")
    assert "has not picked" in other or "no activity" in other  # scoring answers when installed
    assert "/intro" in await bot.ask("alice", "/intro status") or "—" in await bot.ask("alice", "/intro status")


@pytest.mark.parametrize("text, words", [
    ('gate = "maybe"', ["[onboarding]", "gate must be one of off, button, question", "'maybe'"]),
    ('gate_failure = "jail"', ["gate_failure must be kick or ban"]),
    ('welcome_text = "Hi {nick}"', ["welcome_text: unknown placeholder {nick}"]),
    ("gate_minutes = 0", ["gate_minutes must be positive"]),
    ('intro_tags = "python"', ["'intro_tags' must be list[str]"]),
])
def test_bad_settings_are_errors_naming_the_key(text, words):
    from bot.config import ConfigError, load_config_text

    with pytest.raises(ConfigError) as err:
        load_config_text(f"[onboarding]\n{text}\n")
    for w in words:
        assert w in str(err.value)


async def test_gate_switched_on_from_chat_config_gates_the_next_newcomer(bot):
    await bot.say("alice", "hi")
    assert "button" in await bot.ask("admin", "/config set onboarding.gate button")
    await bot.join("newbie")
    assert kinds(bot, "newbie") == ["mute"]
    assert "Join gate: button" in await bot.ask("admin", "/gate")
    await bot.say("admin", "/gate off")
    await bot.join("later")
    assert kinds(bot, "later") == []


async def test_forgetting_a_member_erases_their_introduction(gated):
    pytest.importorskip("bot.privacy")
    from bot.privacy import export_member, forget_member

    bot = gated
    await bot.join("dana")
    gate = bot.adapter.sent[-1]
    await bot.press("dana", f"gate:{gate.buttons[0][0].data.split(':')[1]}:{answer_of(gate)}")
    await pick(bot, "dana", "python")
    data = await export_member(bot.app, bot.group, "dana")
    assert "python" in str(data["onboarding"]["introduction"]) and data["onboarding"]["join_gates"][0]["status"] == "passed"
    await forget_member(bot.app, bot.group, "dana")
    store = svc(bot).store
    assert (await store.member(bot.group.pk, "dana"))["tags"] == []
    assert [g["member_id"] for g in await store.gates(bot.group.pk)] != ["dana"]
