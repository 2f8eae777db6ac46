"""The issue's scenarios through the real python-telegram-bot stack over HTTP against the
fake Bot API server, asserting on the calls the fake received and on the store."""

from __future__ import annotations

import pytest
from telegram_harness import GROUP, OTHER, PEOPLE, TgHarness, group, until

from adapters.telegram import TelegramStartError
from storage.events import EventKind


async def test_messages_are_stored_with_member_reply_and_mentions(tg):
    text = "How do I start the capstone? cc @chen_w"
    q = await tg.say("alice", text, entities=[{"type": "mention", "offset": text.index("@"), "length": 7}])
    text = "Start from the rubric: https://course.example/rubric"
    await tg.say("chen", text, reply_to=q, entities=[{"type": "url", "offset": text.index("h"), "length": 29}])
    first, second = await tg.stored()
    assert (first.member_id, first.member_name, first.kind) == ("101", "Alice", EventKind.MESSAGE)
    assert first.mentions == ("@chen_w",)  # not seen yet: kept as the username
    assert (second.member_id, second.reply_to_id, second.target_member_id) == ("103", str(q["message_id"]), "101")
    assert second.link_count == 1
    g = await tg.group()
    assert g.title == f"Chat {GROUP}"
    assert await tg.app.store.find_member(g, "@chen_w") == "103"


async def test_command_with_botname_gets_an_html_escaped_reply(tg):
    await tg.say("bob", "/help@community_test_bot")
    (call,) = tg.fake.called("sendMessage")
    assert int(call.params["chat_id"]) == GROUP and call.params["parse_mode"] == "HTML"
    assert "/ping" in call.params["text"]
    assert str(call.params["reply_parameters"]["message_id"]) == (await tg.stored())[0].message_id
    await tg.say("bob", "/help@some_other_bot")
    assert len(tg.fake.called("sendMessage")) == 1  # a command for another bot is not ours


async def test_bots_own_messages_and_other_updates_are_ignored(tg):
    await tg.say("alice", "hi")
    await tg.push(message={"message_id": 5, "date": tg.now(), "chat": group(GROUP, "x"), "from": tg.fake.me, "text": "me"})
    await tg.push(channel_post={"message_id": 6, "date": tg.now(), "chat": {"id": -100777, "type": "channel", "title": "c"}, "text": "post"})
    await tg.settle()
    assert [e.member_id for e in await tg.stored()] == ["101"]


@pytest.mark.parametrize("service_first", [True, False])
async def test_a_join_reported_twice_is_stored_once(tg, service_first):
    date = tg.now()
    service = {"message": {"message_id": tg.fake.next_message_id(), "date": date, "chat": group(GROUP, "g"),
                           "from": PEOPLE["bob"], "new_chat_members": [PEOPLE["bob"]]}}
    member = {"chat_member": {"chat": group(GROUP, "g"), "from": PEOPLE["bob"], "date": date + 1,
                              "old_chat_member": {"status": "left", "user": PEOPLE["bob"]},
                              "new_chat_member": {"status": "member", "user": PEOPLE["bob"]}}}
    for update in (service, member) if service_first else (member, service):
        await tg.push(**update)
    await tg.settle()
    joins = await tg.stored(kinds=[EventKind.JOIN])
    assert [j.member_id for j in joins] == ["102"], [j.key for j in joins]


async def test_reaction_target_known_after_restart(tg):
    m = await tg.say("alice", "Here are my notes")
    await tg.stop()
    await tg.start()  # a fresh adapter remembers nothing: the author comes from the store
    await tg.push(message_reaction={"chat": group(GROUP, "g"), "message_id": m["message_id"], "user": PEOPLE["bob"],
                                    "date": tg.now(), "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "🔥"}]})
    await tg.settle()
    (r,) = await tg.stored(kinds=[EventKind.REACTION])
    assert (r.member_id, r.target_member_id, r.emoji) == ("102", "101", "🔥")


async def test_crash_before_storing_redelivers_and_stores_once(tg):
    await tg.stop()
    attempts = []

    async def crash(event):
        attempts.append(event.key)
        raise RuntimeError("the store is unreachable")

    await tg.start(sink=crash)
    uid = await tg.push(message={"message_id": 77, "date": tg.now(), "chat": group(GROUP, "g"),
                                 "from": PEOPLE["alice"], "text": "/ping"})
    await until(lambda: len(attempts) >= 3, "retries while the store fails")
    await tg.stop(ack=False)
    assert max(tg.fake.offsets) <= uid  # never acknowledged
    assert await tg.stored() == []
    await tg.start()
    await tg.settle()
    assert [e.message_id for e in await tg.stored()] == ["77"]
    assert tg.sent_texts() == ["pong"]


async def test_crash_after_storing_redelivers_and_stores_once(tg):
    await tg.stop()
    handled = []

    async def store_then_crash(event):
        await tg.app.handle(event)
        handled.append(event.key)
        raise RuntimeError("crashed before acknowledging")

    await tg.start(sink=store_then_crash)
    uid = await tg.push(message={"message_id": 78, "date": tg.now(), "chat": group(GROUP, "g"),
                                 "from": PEOPLE["alice"], "text": "/ping"})
    await until(lambda: handled, "stored once")
    await tg.stop(ack=False)
    assert max(tg.fake.offsets) <= uid
    await tg.start()
    await tg.settle()
    assert [e.message_id for e in await tg.stored()] == ["78"]
    assert tg.sent_texts() == ["pong"]  # the redelivery was a duplicate: no second answer
    assert max(tg.fake.offsets) > uid


async def test_network_errors_back_off_and_reconnect(tg):
    tg.fake.fail("getUpdates", 502, "Bad Gateway", times=3)
    await tg.say("alice", "still here?")
    assert len(await tg.stored()) == 1
    assert len(tg.fake.called("getUpdates")) >= 4


async def test_429_is_waited_out_and_retried(tg):
    tg.fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await tg.say("bob", "/ping")
    # The first call was refused with 429; the rate limiter waited and sent it again.
    await until(lambda: len(tg.fake.called("sendMessage")) == 2, "the retried send")
    assert tg.sent_texts() == ["pong", "pong"]


async def test_403_marks_group_inactive_and_others_keep_working(tg):
    await tg.say("alice", "hello", chat=OTHER)
    tg.fake.forbidden.add(OTHER)
    await tg.say("alice", "/ping", chat=OTHER)
    await until(lambda: tg.fake.called("sendMessage"), "the refused send")
    assert (await tg.group(OTHER)).active is False
    await tg.say("bob", "/ping")
    await until(lambda: tg.sent_texts() == ["pong"], "pong in the healthy group")
    assert (await tg.group()).active is True


async def test_bot_removed_and_readded_updates_active_flag(tg):
    await tg.say("alice", "hello")
    me = tg.fake.me

    def status(old, new):
        return {"my_chat_member": {"chat": group(GROUP, "g"), "from": PEOPLE["admin"], "date": tg.now(),
                                   "old_chat_member": {"status": old, "user": me},
                                   "new_chat_member": {"status": new, "user": me, **({"until_date": 0} if new == "kicked" else {})}}}

    await tg.push(**status("member", "kicked"))
    await tg.settle()
    assert (await tg.group()).active is False
    await tg.push(**status("left", "member"))
    await tg.settle()
    assert (await tg.group()).active is True


async def test_migration_on_send_moves_group_and_keeps_history(tg):
    small, big = -4001, -1004001
    await tg.say("alice", "first", chat=small)
    await tg.say("bob", "second", chat=small)
    tg.fake.migrated[small] = big
    await tg.say("alice", "/ping", chat=small)
    await until(lambda: tg.sent_texts(big) == ["pong"], "pong resent to the supergroup")
    assert await tg.group(small) is None
    assert [e.text for e in await tg.stored(big)] == ["first", "second", "/ping"]


async def test_migration_notices_merge_both_ids(tg):
    small, big = -4002, -1004002
    await tg.say("alice", "old history", chat=small)
    await tg.say("bob", "new chat, notice not handled yet", chat=big)
    await tg.push(message={"message_id": 9, "date": tg.now(), "chat": group(small, "g", "group"),
                           "from": PEOPLE["admin"], "migrate_to_chat_id": big})
    await tg.push(message={"message_id": 1, "date": tg.now(), "chat": group(big, "g"),
                           "from": PEOPLE["admin"], "migrate_from_chat_id": small})
    await tg.settle()
    assert await tg.group(small) is None
    events = await tg.stored(big)
    assert [e.text for e in events if e.kind is EventKind.MESSAGE] == ["old history", "new chat, notice not handled yet"]
    assert len([e for e in events if e.kind is EventKind.SERVICE]) == 1


async def test_unreachable_api_at_start_is_retried_in_the_background(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("TEST_TG_TOKEN", fake.token)
    fake.fail("getMe", 502, "Bad Gateway", times=2)
    h = await TgHarness(tmp_path, fake).start()
    try:
        await h.say("alice", "made it")
        assert [e.text for e in await h.stored()] == ["made it"]
        assert len(fake.called("getMe")) == 3
    finally:
        await h.close()


async def test_a_wrong_token_is_a_clear_error(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("TEST_TG_TOKEN", "123:WRONG")
    h = TgHarness(tmp_path, fake)
    try:
        with pytest.raises(TelegramStartError, match="token_env"):
            await h.start()
    finally:
        await h.close()


async def test_command_in_a_forum_topic_is_answered_in_that_topic(tg):
    forum = {**group(GROUP, "Forum"), "is_forum": True}
    await tg.push(message={"message_id": 500, "date": tg.now(), "chat": forum, "from": PEOPLE["bob"],
                           "text": "/ping", "message_thread_id": 40, "is_topic_message": True,
                           "reply_to_message": {"message_id": 40, "date": tg.now(), "chat": forum,
                                                "from": PEOPLE["admin"],
                                                "forum_topic_created": {"name": "Homework", "icon_color": 7322096}}})
    await tg.settle()
    (call,) = tg.fake.called("sendMessage")
    assert int(call.params["message_thread_id"]) == 40 and call.params["text"] == "pong"
    (e,) = await tg.stored()
    assert e.channel_id == "40" and e.reply_to_id is None


async def test_communitybot_run_killed_mid_stream_loses_nothing(tmp_path, fake):
    """`communitybot run` with [telegram] enabled, as a real process: killed (SIGKILL)
    while updates stream in, then restarted: every update stored, none twice; it answers
    commands and stops cleanly on SIGTERM."""
    import asyncio
    import os
    import signal
    import sqlite3
    import sys

    from storage.store import EventStore

    n = 60
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[telegram]\nenabled = true\ntoken_env = "RUN_TG_TOKEN"\n'
                   f'api_base_url = "{fake.base_url}"\npoll_timeout = 1\n'
                   # 60 near-identical messages in a minute would rightly alert moderators;
                   # this test is about durability, so moderation only records.
                   '[moderation]\nmode = "observe"\n', encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'run.db'}"
    env = {**os.environ, "RUN_TG_TOKEN": fake.token}
    argv = [sys.executable, "-m", "bot", "run", "--config", str(cfg), "--db", db]
    ids = []
    for i in range(n):
        ids.append(await fake.push(message={"message_id": 1000 + i, "date": 1764072000 + i,
                                            "chat": group(GROUP - i % 3, "G"), "from": PEOPLE["alice"],
                                            "text": f"message {i}"}))

    def stored_now() -> int:
        try:
            with sqlite3.connect(tmp_path / "run.db") as conn:
                return conn.execute("select count(*) from events").fetchone()[0]
        except sqlite3.OperationalError:
            return 0  # not migrated yet

    proc = await asyncio.create_subprocess_exec(*argv, env=env, stderr=asyncio.subprocess.DEVNULL)
    await until(lambda: stored_now() >= 10, "some updates stored", tries=12000)
    proc.kill()  # SIGKILL: no shutdown, no final acknowledgement
    await proc.wait()
    before = stored_now()
    assert 10 <= before < n  # killed in the middle of the stream
    assert max(fake.offsets) <= ids[before]  # nothing past the stored prefix was acknowledged

    proc = await asyncio.create_subprocess_exec(*argv, env=env, stderr=asyncio.subprocess.PIPE)
    try:
        await until(lambda: max(fake.offsets) > ids[-1], "all updates acknowledged", tries=12000)
        await fake.push(message={"message_id": 5000, "date": 1764079999, "chat": group(GROUP, "G"),
                                 "from": PEOPLE["bob"], "text": "/ping"})
        await until(lambda: [c for c in fake.called("sendMessage") if c.params["text"] == "pong"], "the answer",
                    tries=12000)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    # Moderation may alert about the stream; the command was answered exactly once.
    assert [c.params["text"] for c in fake.called("sendMessage")].count("pong") == 1
    store = await EventStore.open(db)
    try:
        texts = []
        for g in await store.groups():
            texts += [e.text for e in await store.events(g.pk)]
    finally:
        await store.close()
    assert sorted(texts) == sorted([f"message {i}" for i in range(n)] + ["/ping"])
