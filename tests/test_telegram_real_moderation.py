"""The moderation feature's own alerts and buttons, through the real PTB stack: a
newcomer's spam → an alert with an inline keyboard in the moderators' chat; a
moderator presses "Spam" → deleteMessage, banChatMember, answerCallbackQuery and the
alert edited; a non-admin presses it → refused, nothing done."""

from __future__ import annotations

import pytest
from telegram_harness import GROUP, MODS, PEOPLE, TgHarness, group

SPAM = "Earn $500 a day from home, no experience needed! DM me now https://bit.ly/3xProfit"
ADMIN_ID = PEOPLE["admin"]["id"]


@pytest.fixture
async def fake(fake):
    """The shared fake Bot API, with this module's admins."""
    for chat in (GROUP, MODS):
        fake.set_admins(chat, [ADMIN_ID, 901], owner=901)
    return fake


@pytest.fixture
async def tg(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("TEST_TG_TOKEN", fake.token)
    h = await TgHarness(tmp_path, fake, extra_config=f'\n[moderation]\nalerts_chat = "{MODS}"\n').start()
    yield h
    await h.close()


async def spam_and_alert(tg) -> tuple[dict, dict]:
    await tg.say("alice", "Hi all, when is the capstone due?")
    spam = await tg.say("spammer", SPAM, entities=[{"type": "url", "offset": SPAM.index("https"), "length": 25}])
    (call,) = [c for c in tg.fake.called("sendMessage") if int(c.params["chat_id"]) == MODS]
    alert = {"message_id": call.result["message_id"], "date": tg.now(), "chat": group(MODS, "Mods"), "from": tg.fake.me,
             "text": call.params["text"], "reply_markup": call.params["reply_markup"]}
    return spam, alert


def button(alert: dict, action: str) -> str:
    return next(b["callback_data"] for row in alert["reply_markup"]["inline_keyboard"] for b in row
                if b["callback_data"].split(":")[1] == action)


async def test_newcomer_spam_alerts_the_moderators_chat_with_a_keyboard(tg):
    _, alert = await spam_and_alert(tg)
    assert "Crypto Queen" in alert["text"] and "Earn $500" in alert["text"]
    actions = [b["callback_data"].split(":")[1] for row in alert["reply_markup"]["inline_keyboard"] for b in row]
    assert actions == ["spam", "mute", "ham"]
    assert not tg.fake.called("deleteMessage") and not tg.fake.called("banChatMember")


async def test_moderator_presses_spam(tg):
    spam, alert = await spam_and_alert(tg)
    await tg.press("admin", button(alert, "spam"), alert)
    (delete,) = tg.fake.called("deleteMessage")
    assert (int(delete.params["chat_id"]), int(delete.params["message_id"])) == (GROUP, spam["message_id"])
    (ban,) = tg.fake.called("banChatMember")
    assert (int(ban.params["chat_id"]), int(ban.params["user_id"])) == (GROUP, 666)
    (edit,) = tg.fake.called("editMessageText")
    assert int(edit.params["message_id"]) == alert["message_id"] and "Decision: spam" in edit.params["text"]
    assert tg.fake.called("answerCallbackQuery")


async def test_non_admin_press_is_refused(tg):
    _, alert = await spam_and_alert(tg)
    await tg.press("bob", button(alert, "spam"), alert)
    assert not tg.fake.called("deleteMessage") and not tg.fake.called("banChatMember")
    assert not tg.fake.called("editMessageText")
    (answer,) = tg.fake.called("answerCallbackQuery")
    assert answer.params["show_alert"] == "true" and "moderators" in answer.params["text"]
