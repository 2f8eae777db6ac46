"""Alerts with inline keyboards, a moderator's decision, refusals and the admin cache,
through the real PTB stack against the fake Bot API.

The alert comes from a small spam step registered here (a newcomer's first message with
a link), so these tests exercise the adapter's part - keyboards, callback answers,
admin checks, edits, delete and ban - whatever the moderation feature decides."""

from __future__ import annotations

import pytest
from telegram_harness import GROUP, MODS, PEOPLE, TgHarness, group

from adapters.base import Action, ActionKind, Button, Reply
from bot.config import SECTIONS, register_all
from storage.events import EventKind

ADMIN_ID = PEOPLE["admin"]["id"]


def install_test_moderation(app) -> None:
    """An alert to the moderators' chat for a newcomer's first message with a link."""

    async def spam_step(app, turn):
        e = turn.event
        if e.kind is not EventKind.MESSAGE or not e.link_count or e.group_id == str(MODS):
            return
        if len(await app.store.events(turn.group.pk, member_id=e.member_id, kinds=[EventKind.MESSAGE])) > 1:
            return
        data = f"tmod:{{}}:{e.group_id}:{e.message_id}:{e.member_id}"
        turn.replies.append(Reply(
            platform="telegram", group_id=str(MODS), text=f"Possible spam from {e.member_name}: <{e.text}>",
            buttons=[[Button("Spam", data.format("spam")), Button("Not spam", data.format("ok"))]]))

    app.pipeline.add_step("test_spam", spam_step)

    @app.router.button("tmod", admin=True)
    async def decide(ctx):
        verdict, gid, mid, member = ctx.args
        if verdict == "spam":
            ctx.actions.append(Action(ActionKind.DELETE, "telegram", gid, message_id=mid))
            ctx.actions.append(Action(ActionKind.BAN, "telegram", gid, member_id=member))
        return Reply(platform="telegram", group_id=ctx.event.group_id, edit_message_id=ctx.event.message_id,
                     text=f"{verdict}: decided by {ctx.event.member_name}")


def _quiet_moderation() -> str:
    """Keep the moderation feature (when installed) to recording, so the alerts seen
    here are only the test step's."""
    register_all()
    return '\n[moderation]\nmode = "observe"\n' if "moderation" in SECTIONS else ""


def admin_lookups(tg) -> int:
    return len([c for c in tg.fake.called("getChatAdministrators") if int(c.params["chat_id"]) == MODS])


@pytest.fixture
async def fake(fake):
    """The shared fake Bot API, with this module's admins."""
    fake.set_admins(MODS, [ADMIN_ID, 901], owner=901)
    return fake


@pytest.fixture
async def tg(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("TEST_TG_TOKEN", fake.token)
    h = await TgHarness(tmp_path, fake, extra_config=_quiet_moderation()).start()
    install_test_moderation(h.app)
    yield h
    await h.close()


async def alert_for_spam(tg) -> tuple[dict, dict]:
    """The spammer posts a link; returns (their message, the alert as Telegram shows it)."""
    text = "Earn 500% https://crypto.example now"
    spam = await tg.say("spammer", text, entities=[{"type": "url", "offset": text.index("h"), "length": 21}])
    (call,) = [c for c in tg.fake.called("sendMessage") if int(c.params["chat_id"]) == MODS]
    alert = {"message_id": 4242, "date": tg.now(), "chat": group(MODS, "Mods"), "from": tg.fake.me,
             "text": call.params["text"], "reply_markup": call.params["reply_markup"]}
    return spam, alert


async def test_spam_alert_has_an_inline_keyboard_and_escaped_text(tg):
    spam, _ = await alert_for_spam(tg)
    (call,) = [c for c in tg.fake.called("sendMessage") if int(c.params["chat_id"]) == MODS]
    assert call.params["text"] == "Possible spam from Crypto Queen: &lt;Earn 500% https://crypto.example now&gt;"
    assert call.params["parse_mode"] == "HTML"
    (row,) = call.params["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in row] == ["Spam", "Not spam"]
    assert row[0]["callback_data"] == f"tmod:spam:{GROUP}:{spam['message_id']}:666"


async def test_moderator_presses_spam(tg):
    spam, alert = await alert_for_spam(tg)
    await tg.press("admin", alert["reply_markup"]["inline_keyboard"][0][0]["callback_data"], alert)
    (delete,) = tg.fake.called("deleteMessage")
    assert (int(delete.params["chat_id"]), int(delete.params["message_id"])) == (GROUP, spam["message_id"])
    (ban,) = tg.fake.called("banChatMember")
    assert (int(ban.params["chat_id"]), int(ban.params["user_id"])) == (GROUP, 666)
    (edit,) = tg.fake.called("editMessageText")
    assert int(edit.params["message_id"]) == 4242 and edit.params["text"] == "spam: decided by Ada"
    assert "reply_markup" not in edit.params  # the keyboard goes away
    (answer,) = tg.fake.called("answerCallbackQuery")
    assert "show_alert" not in answer.params
    (press,) = await tg.stored(MODS, kinds=[EventKind.BUTTON])
    assert press.member_id == str(ADMIN_ID) and press.data["payload"].startswith("tmod:spam:")


async def test_non_admin_press_is_refused_and_nothing_happens(tg):
    _, alert = await alert_for_spam(tg)
    await tg.press("bob", alert["reply_markup"]["inline_keyboard"][0][0]["callback_data"], alert)
    assert not tg.fake.called("deleteMessage") and not tg.fake.called("banChatMember")
    assert not tg.fake.called("editMessageText")
    (answer,) = tg.fake.called("answerCallbackQuery")
    assert answer.params["show_alert"] == "true" and answer.params["text"]  # only Bob sees why
    assert len(tg.fake.called("sendMessage")) == 1  # just the alert: no message to the group


async def test_admin_list_is_cached_and_refreshed_on_admin_change(tg):
    _, alert = await alert_for_spam(tg)
    data = alert["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
    await tg.press("admin", data, alert)
    await tg.press("bob", data, alert)
    assert admin_lookups(tg) == 1
    # Bob is promoted: Telegram sends a chat_member update and the cache is dropped.
    tg.fake.set_admins(MODS, [ADMIN_ID, 901, 102], owner=901)
    flags = dict.fromkeys(["can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                           "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                           "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
                           "can_delete_stories"], False)
    await tg.push(chat_member={"chat": group(MODS, "Mods"), "from": PEOPLE["admin"], "date": tg.now(),
                               "old_chat_member": {"status": "member", "user": PEOPLE["bob"]},
                               "new_chat_member": {"status": "administrator", "user": PEOPLE["bob"], **flags}})
    await tg.settle()
    await tg.press("bob", data, alert)
    assert admin_lookups(tg) == 2
    assert len(tg.fake.called("editMessageText")) == 2  # the admin's press and Bob's, once promoted
