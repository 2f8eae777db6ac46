"""Replies and actions as Bot API calls (photos, documents, DMs, topics, long texts,
mute/unmute/kick/title), webhook mode, and the `[telegram]` config checks."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest
from telegram_harness import GROUP, PEOPLE, TgHarness, group, until

from adapters.base import Action, ActionKind, Reply
from bot.config import ConfigError, load_config_text
from bot.telegram import telegram_options

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def reply(**kw) -> Reply:
    return Reply(platform="telegram", group_id=str(GROUP), **kw)


async def test_photo_with_caption_and_document(tg):
    sent = await tg.app.send(reply(text="Activity <this week>", image=PNG, channel_id="40"))
    (photo,) = tg.fake.called("sendPhoto")
    assert photo.files["photo"] == PNG and photo.params["caption"] == "Activity &lt;this week&gt;"
    assert int(photo.params["message_thread_id"]) == 40  # the forum topic it was asked in
    assert sent.ok and sent.message_id
    await tg.app.send(reply(text="export", file=("members.json", b'{"a": 1}')))
    (doc,) = tg.fake.called("sendDocument")
    assert doc.files["document"] == b'{"a": 1}'


async def test_long_text_is_split_and_private_reply_goes_to_the_member(tg):
    lines = "\n".join(f"{i:04d} " + "x" * 95 for i in range(60))  # ~6000 characters
    await tg.app.send(reply(text=lines, reply_to_id="7"))
    first, second = tg.fake.called("sendMessage")
    assert len(first.params["text"]) <= 4096 and first.params["text"].startswith("0000")
    assert second.params["text"].startswith("00") and "reply_parameters" not in second.params
    assert first.params["text"] + "\n" + second.params["text"] == lines
    await tg.app.send(reply(text="your rank: 3", private_to="101"))
    dm = tg.fake.called("sendMessage")[-1]
    assert int(dm.params["chat_id"]) == 101


async def test_dm_to_a_member_who_never_started_the_bot_fails_softly(tg):
    tg.fake.forbidden.add(101)
    await tg.say("alice", "hello")
    sent = await tg.app.send(reply(text="psst", private_to="101"))
    assert not sent.ok and "Forbidden" in sent.error
    assert (await tg.group()).active is True  # a DM refusal says nothing about the group


async def test_actions(tg):
    until_t = datetime(2030, 1, 1, tzinfo=UTC)
    ok = [
        await tg.app.act(Action(ActionKind.MUTE, "telegram", str(GROUP), member_id="101", until=until_t)),
        await tg.app.act(Action(ActionKind.UNMUTE, "telegram", str(GROUP), member_id="101")),
        await tg.app.act(Action(ActionKind.KICK, "telegram", str(GROUP), member_id="102")),
        await tg.app.act(Action(ActionKind.UNBAN, "telegram", str(GROUP), member_id="103")),
        await tg.app.act(Action(ActionKind.SET_TITLE, "telegram", str(GROUP), member_id="900", value="Mentor")),
    ]
    assert ok == [True] * 5
    mute, unmute = tg.fake.called("restrictChatMember")
    assert mute.params["permissions"]["can_send_messages"] is False
    assert int(mute.params["until_date"]) == int(until_t.timestamp())
    assert unmute.params["permissions"]["can_send_messages"] is True  # the chat's defaults
    assert [int(c.params["user_id"]) for c in tg.fake.called("banChatMember")] == [102]
    assert [int(c.params["user_id"]) for c in tg.fake.called("unbanChatMember")] == [102, 103]
    assert tg.fake.called("setChatAdministratorCustomTitle")[0].params["custom_title"] == "Mentor"
    # Not a Telegram thing, or refused by Telegram: False, never an exception.
    assert await tg.app.act(Action(ActionKind.ADD_ROLE, "telegram", str(GROUP), member_id="1", value="r")) is False
    tg.fake.fail("deleteMessage", 400, "Bad Request: message to delete not found")
    assert await tg.app.act(Action(ActionKind.DELETE, "telegram", str(GROUP), message_id="5")) is False


async def test_editing_a_photo_alert_edits_its_caption(tg):
    tg.fake.fail("editMessageText", 400, "Bad Request: there is no text in the message to edit")

    async def api_editMessageCaption(p):
        return {"message_id": int(p["message_id"]), "date": 0, "chat": {"id": GROUP, "type": "supergroup"}}

    tg.fake.api_editMessageCaption = api_editMessageCaption
    sent = await tg.app.send(reply(text="resolved", edit_message_id="4242"))
    assert sent.ok and tg.fake.called("editMessageCaption")[0].params["caption"] == "resolved"


async def test_webhook_mode_checks_the_secret(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("TEST_TG_TOKEN", fake.token)
    monkeypatch.setenv("TEST_TG_SECRET", "s3cret-token_1")
    h = TgHarness(tmp_path, fake, extra_config=(
        'webhook_url = "https://bot.example.org/tg/hook"\nwebhook_port = 0\n'
        'webhook_secret_env = "TEST_TG_SECRET"\n'))
    await h.start()
    try:
        (setwh,) = fake.called("setWebhook")
        assert setwh.params["url"] == "https://bot.example.org/tg/hook"
        assert setwh.params["secret_token"] == "s3cret-token_1"
        assert "chat_member" in setwh.params["allowed_updates"]
        url = f"http://127.0.0.1:{h.adapter.webhook_port}/tg/hook"
        update = {"update_id": 5, "message": {"message_id": 31, "date": h.now(), "chat": group(GROUP, "g"),
                                              "from": PEOPLE["alice"], "text": "via webhook"}}
        async with aiohttp.ClientSession() as http:
            bad = await http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
            assert bad.status == 403
            assert await h.stored() == []
            good = await http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token_1"})
            assert good.status == 200  # answered after the event was stored
            again = await http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token_1"})
            assert again.status == 200
        assert [e.text for e in await h.stored()] == ["via webhook"]
        assert not fake.called("getUpdates")
    finally:
        await h.close()


@pytest.mark.parametrize("body, problem", [
    ('enabled = true\ntoken_env = "NOPE_UNSET"', "NOPE_UNSET, which is not set"),
    ('webhook_url = "http://insecure"\nwebhook_secret_env = "X"', "webhook_url must be an https:// URL"),
    ('webhook_url = "https://ok.example/h"', "webhook_secret_env must name"),
    ("poll_timeout = 90", "poll_timeout must be between 0 and 50"),
    ('tokn_env = "X"', "unknown key 'tokn_env'"),
    ("admin_cache_ttl = -1.0", "admin_cache_ttl must be >= 0"),
])
def test_config_errors_name_the_key(body, problem):
    with pytest.raises(ConfigError, match="telegram") as err:
        load_config_text("[telegram]\n" + body)
    assert problem in str(err.value)


def test_webhook_secret_must_follow_telegrams_rule(monkeypatch):
    monkeypatch.setenv("T", "1:abc")
    monkeypatch.setenv("S", "has spaces!")
    cfg = load_config_text('[telegram]\nenabled = true\ntoken_env = "T"\nwebhook_url = "https://a.example/h"\n'
                           'webhook_secret_env = "S"\n')
    with pytest.raises(ConfigError, match="webhook_secret_env: S must hold"):
        telegram_options(cfg)


async def test_network_fault_on_send_is_retried(tg):
    tg.fake.fail("sendMessage", 502, "Bad Gateway", times=2)
    sent = await tg.app.send(reply(text="hello"))
    assert sent.ok
    await until(lambda: len(tg.fake.called("sendMessage")) == 3, "three attempts")


async def test_webhook_answers_500_until_the_update_is_stored(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("TEST_TG_TOKEN", fake.token)
    monkeypatch.setenv("TEST_TG_SECRET", "abc")
    h = TgHarness(tmp_path, fake, extra_config=(
        'webhook_url = "https://bot.example.org/hook"\nwebhook_port = 0\nwebhook_secret_env = "TEST_TG_SECRET"\n'))
    failing = [True]

    async def sink(event):
        if failing[0]:
            raise ConnectionError("database unreachable")
        await h.app.handle(event)

    await h.start(sink=sink)
    try:
        url = f"http://127.0.0.1:{h.adapter.webhook_port}/hook"
        update = {"update_id": 6, "message": {"message_id": 32, "date": h.now(), "chat": group(GROUP, "g"),
                                              "from": PEOPLE["bob"], "text": "/ping"}}
        headers = {"X-Telegram-Bot-Api-Secret-Token": "abc"}
        async with aiohttp.ClientSession() as http:
            assert (await http.post(url, json=update, headers=headers)).status == 500  # Telegram retries
            failing[0] = False
            assert (await http.post(url, json=update, headers=headers)).status == 200
            assert (await http.post(url, json=update, headers=headers)).status == 200  # a late duplicate
        assert [e.text for e in await h.stored()] == ["/ping"]
        assert [c.params["text"] for c in fake.called("sendMessage")] == ["pong"]
    finally:
        await h.close()
