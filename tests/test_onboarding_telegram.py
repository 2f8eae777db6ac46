"""Onboarding through the real python-telegram-bot stack against the fake Bot API: a
newcomer is restricted (restrictChatMember), answers and is released; one who never
answers is removed after the time limit on the fake clock; a join burst raises the gate
and tells the moderators' chat once; admins bypass; the welcome is in Chinese."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest

pytest.importorskip("telegram_harness", reason="the Telegram adapter and its fake Bot API are not on this branch yet")

from telegram_harness import GROUP, MODS, PEOPLE, TgHarness, group, user  # noqa: E402

from bot.app import App  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import load_config_text  # noqa: E402

ADMIN_ID = PEOPLE["admin"]["id"]

GATED = f"""
[onboarding]
gate = "question"
gate_minutes = 3.0
intro_tags = ["python", "career"]
raid_joins = 4
raid_seconds = 60.0
[moderation]
alerts_chat = "{MODS}"
"""


@pytest.fixture
async def fake(fake):
    """The shared fake Bot API, with this module's admins."""
    fake.set_admins(GROUP, [ADMIN_ID], owner=ADMIN_ID)
    return fake


async def harness(tmp_path, fake, monkeypatch, extra: str) -> TgHarness:
    monkeypatch.setenv("TEST_TG_TOKEN", fake.token)
    h = TgHarness(tmp_path, fake, extra)
    text = h.config_text()
    if "[moderation]" in text and "[moderation]" not in _sections():
        text = text.replace(f'[moderation]\nalerts_chat = "{MODS}"\n', "")
    if "[check_raid]" in _sections():  # moderation installed: its raid thresholds count
        text += "[check_raid]\njoins = 4\njoin_seconds = 60.0\n"
    # The bot's clock is a fake one, started at the time the harness stamps updates with.
    h.app = await App.create(load_config_text(text), h.db_url, FakeClock(datetime.fromtimestamp(time.time() - 3600, UTC)))
    return await h.start()


def _sections() -> str:
    from bot.config import SECTIONS, register_all

    register_all()

    return " ".join(f"[{s}]" for s in SECTIONS)


@pytest.fixture
async def tg(tmp_path, fake, monkeypatch):
    h = await harness(tmp_path, fake, monkeypatch, GATED)
    yield h
    await h.close()


async def join(tg, who: dict) -> dict:
    msg = {"message_id": tg.fake.next_message_id(), "date": tg.now(), "chat": group(GROUP, "Course 101"),
           "from": who, "new_chat_members": [who]}
    await tg.push(message=msg)
    await tg.settle()
    return msg


def gate_call(tg, uid: int):
    return next(c for c in reversed(tg.fake.called("sendMessage"))
                if "reply_markup" in c.params and c.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"].startswith("gate:"))


async def gate_row(tg, uid: int) -> dict:
    g = await tg.group()
    return next(r for r in await tg.app.services["onboarding"].store.gates(g.pk) if r["member_id"] == str(uid))


def restricted(tg, uid: int) -> list[dict]:
    return [c.params["permissions"] for c in tg.fake.called("restrictChatMember") if int(c.params["user_id"]) == uid]


async def test_newcomer_is_restricted_answers_and_is_released(tg):
    dana = user(201, "Dana", "dana")
    await join(tg, dana)
    (perms,) = restricted(tg, 201)
    assert perms.get("can_send_messages") is False
    call = gate_call(tg, 201)
    assert call.params["text"].startswith("👋 @dana, welcome to Course 101!")
    a, b = re.search(r"(\d+) \+ (\d+)", call.params["text"]).groups()
    keyboard = call.params["reply_markup"]["inline_keyboard"][0]
    right = next(k["callback_data"] for k in keyboard if k["text"] == str(int(a) + int(b)))
    row = await gate_row(tg, 201)
    gate_msg = {"message_id": int(row["message_id"]), "date": tg.now(), "chat": group(GROUP, "Course 101"), "from": tg.fake.me,
                "text": call.params["text"], "reply_markup": call.params["reply_markup"]}
    await tg.push(callback_query={"id": "cq1", "from": dana, "chat_instance": "x", "data": right, "message": gate_msg})
    await tg.settle()
    assert len(restricted(tg, 201)) == 2  # the release gives the chat's own permissions back
    assert restricted(tg, 201)[1].get("can_send_messages") is True
    deleted = [int(c.params["message_id"]) for c in tg.fake.called("deleteMessage")]
    assert int(row["message_id"]) in deleted
    assert any("Welcome to Course 101, @dana" in t for t in tg.sent_texts())
    (answer,) = [c for c in tg.fake.called("answerCallbackQuery") if c.params["callback_query_id"] == "cq1"]
    assert "write now" in answer.params.get("text", "")
    assert (await gate_row(tg, 201))["status"] == "passed"


async def test_silent_newcomer_is_removed_after_the_time_limit(tg):
    await join(tg, user(202, "Moon", "moon"))
    row = await gate_row(tg, 202)
    tg.app.clock.advance(181)
    await tg.app.services["onboarding"].run_due()
    (ban,) = tg.fake.called("banChatMember")
    (unban,) = tg.fake.called("unbanChatMember")  # a kick: ban, then lift it
    assert int(ban.params["user_id"]) == 202 and int(unban.params["user_id"]) == 202
    assert int(row["message_id"]) in [int(c.params["message_id"]) for c in tg.fake.called("deleteMessage")]
    assert (await gate_row(tg, 202))["status"] == "timeout"


async def test_wrong_answers_remove_the_newcomer(tg):
    eve = user(203, "Eve", "eve")
    await join(tg, eve)
    for attempt in range(2):
        call = gate_call(tg, 203)
        row = await gate_row(tg, 203)
        text = call.params["text"]
        if attempt:
            text = tg.fake.called("editMessageText")[-1].params["text"]
            call = tg.fake.called("editMessageText")[-1]
        a, b = re.search(r"(\d+) \+ (\d+)", text).groups()
        wrong = next(k["callback_data"] for k in call.params["reply_markup"]["inline_keyboard"][0] if k["text"] != str(int(a) + int(b)))
        gate_msg = {"message_id": int(row["message_id"]), "date": tg.now(), "chat": group(GROUP, "Course 101"),
                    "from": tg.fake.me, "text": text}
        await tg.push(callback_query={"id": f"w{attempt}", "from": eve, "chat_instance": "x", "data": wrong, "message": gate_msg})
        await tg.settle()
    assert [int(c.params["user_id"]) for c in tg.fake.called("banChatMember")] == [203]
    assert (await gate_row(tg, 203))["status"] == "failed"


async def test_admins_are_never_gated(tg):
    await join(tg, PEOPLE["admin"])
    assert not tg.fake.called("restrictChatMember")
    assert any("Welcome to Course 101" in t for t in tg.sent_texts())


async def test_join_burst_raises_the_gate_and_tells_moderators_once(tmp_path, fake, monkeypatch):
    h = await harness(tmp_path, fake, monkeypatch, GATED.replace('gate = "question"', 'gate = "off"'))
    try:
        for i in range(8):
            await join(h, user(300 + i, f"moon{i}"))
        mods = h.sent_texts(MODS) or [t for t in h.sent_texts() if "Join gate switched on" in t]
        raid_alerts = [t for t in mods if "Join gate switched on" in t]
        assert len(raid_alerts) == 1 and "4 joins within 60s" in raid_alerts[0]
        assert {int(c.params["user_id"]) for c in fake.called("restrictChatMember")} == set(range(300, 308))
    finally:
        await h.close()


async def test_welcome_is_in_chinese_for_a_zh_group(tmp_path, fake, monkeypatch):
    h = await harness(tmp_path, fake, monkeypatch, '[bot]\nlanguage = "zh-CN"\n[onboarding]\nintro_tags = ["python"]\n')
    try:
        await join(h, user(401, "小明", "xiaoming"))
        (text,) = h.sent_texts()
        assert "欢迎 @xiaoming 加入" in text and "你对什么感兴趣" in text
        buttons = fake.called("sendMessage")[0].params["reply_markup"]["inline_keyboard"]
        assert buttons[-1][0]["text"] == "完成"
    finally:
        await h.close()
