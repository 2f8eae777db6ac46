"""`to_event` on Bot API payloads shaped like the ones Telegram sends (parsed by PTB's own
`Update.de_json`), one case per kind of update."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Update

from adapters.telegram_events import TranslateContext, to_event
from storage.events import EventKind

T0 = 1764072000  # 2025-11-25 12:00 UTC
CHAT = {"id": -1001234567890, "title": "Course 101", "type": "supergroup"}
ALICE = {"id": 111, "is_bot": False, "first_name": "Alice", "last_name": "Ng", "username": "alice"}
BOB = {"id": 222, "is_bot": False, "first_name": "Bob", "username": "bob_b"}
CTX = TranslateContext(bot_id=999, bot_username="community_test_bot", usernames={"bob_b": "222"})


def ev(payload: dict, ctx: TranslateContext = CTX):
    return to_event(Update.de_json({"update_id": 1, **payload}, None), ctx)


def msg(**kw) -> dict:
    return {"message_id": 10, "date": T0, "chat": CHAT, "from": ALICE, **kw}


def test_message_with_mentions_links_and_reply():
    (e,) = ev({"message": msg(
        text="Привет @bob_b and @carol, see https://x.io 👀",
        entities=[
            {"type": "mention", "offset": 7, "length": 6},
            {"type": "mention", "offset": 18, "length": 6},
            {"type": "url", "offset": 30, "length": 14},
        ],
        reply_to_message={"message_id": 7, "date": T0 - 60, "chat": CHAT, "from": BOB, "text": "hi"},
    )})
    assert e.kind is EventKind.MESSAGE
    assert (e.platform, e.group_id, e.group_title) == ("telegram", "-1001234567890", "Course 101")
    assert (e.member_id, e.member_name, e.username) == ("111", "Alice Ng", "alice")
    assert e.time == datetime.fromtimestamp(T0, UTC)
    assert (e.message_id, e.reply_to_id, e.target_member_id) == ("10", "7", "222")
    assert e.mentions == ("222", "@carol")  # known username resolved, unknown kept
    assert e.link_count == 1 and e.key == "msg:10"


def test_entity_offsets_count_utf16_units():
    # "😀" is two UTF-16 units: the mention starts at offset 3, not 2.
    (e,) = ev({"message": msg(text="😀 @bob_b", entities=[{"type": "mention", "offset": 3, "length": 6}])})
    assert e.mentions == ("222",)


def test_text_mention_and_text_link():
    (e,) = ev({"message": msg(text="ask Bob here", entities=[
        {"type": "text_mention", "offset": 4, "length": 3, "user": BOB},
        {"type": "text_link", "offset": 8, "length": 4, "url": "https://spam.example"},
    ])})
    assert e.mentions == ("222",) and e.link_count == 1


def test_caption_media_and_forward():
    (e,) = ev({"message": msg(
        caption="slides www.example.com",
        photo=[{"file_id": "a", "file_unique_id": "b", "width": 90, "height": 90}],
        forward_origin={"type": "channel", "chat": {"id": -100555, "title": "News", "type": "channel"},
                        "message_id": 3, "date": T0 - 999},
    )})
    assert (e.text, e.media, e.forwarded) == ("slides www.example.com", "photo", True)
    assert e.link_count == 1  # no entities: counted from the text
    assert e.data["forward"] == {"type": "channel", "from_id": "-100555", "from_name": "News"}


def test_commands_for_us_and_for_other_bots():
    (cmd,) = ev({"message": msg(text="/top@community_test_bot 7d")})
    assert cmd.kind is EventKind.COMMAND and cmd.emoji == "top"
    (other,) = ev({"message": msg(text="/top@other_bot")})
    assert other.kind is EventKind.MESSAGE


def test_forum_topic_is_the_channel_and_not_a_reply():
    forum = {**CHAT, "is_forum": True}
    created = {"message_id": 40, "date": T0 - 900, "chat": forum, "from": BOB,
               "forum_topic_created": {"name": "Homework", "icon_color": 7322096}}
    (e,) = ev({"message": msg(chat=forum, text="done", message_thread_id=40, is_topic_message=True,
                              reply_to_message=created)})
    assert e.channel_id == "40" and e.reply_to_id is None


def test_edit():
    (e,) = ev({"edited_message": msg(text="fixed", edit_date=T0 + 30)})
    assert e.kind is EventKind.EDIT and e.text == "fixed"
    assert e.time == datetime.fromtimestamp(T0 + 30, UTC)


def test_own_messages_and_private_chatter_are_dropped():
    assert ev({"message": msg(**{"from": {"id": 999, "is_bot": True, "first_name": "Me"}}, text="x")}) == []
    dm = {"id": 111, "type": "private", "first_name": "Alice"}
    assert ev({"message": msg(chat=dm, text="hello")}) == []
    (cmd,) = ev({"message": msg(chat=dm, text="/rank")})
    assert cmd.kind is EventKind.COMMAND and cmd.data["chat_type"] == "private"


def test_anonymous_admin_speaks_as_the_group():
    anon = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
    (e,) = ev({"message": msg(**{"from": anon}, sender_chat=CHAT, text="rules updated")})
    assert e.member_id == "-1001234567890" and not e.is_bot


def test_service_joins_and_leaves():
    joins = ev({"message": msg(new_chat_members=[BOB, {"id": 333, "is_bot": False, "first_name": "Chen"}])})
    assert [(j.kind, j.member_id, j.data.get("inviter")) for j in joins] == [
        (EventKind.JOIN, "222", "111"), (EventKind.JOIN, "333", "111")]
    (left,) = ev({"message": msg(**{"from": BOB}, left_chat_member=BOB)})
    assert left.kind is EventKind.LEAVE and left.member_id == "222" and "removed_by" not in left.data


def test_chat_member_join_and_leave():
    cm = {"chat": CHAT, "from": BOB, "date": T0,
          "old_chat_member": {"status": "left", "user": BOB},
          "new_chat_member": {"status": "member", "user": BOB}}
    (j,) = ev({"chat_member": cm})
    (s,) = ev({"message": msg(**{"from": BOB}, new_chat_members=[BOB])})
    assert j.kind is EventKind.JOIN and j.data["via"] == "chat_member"
    assert s.key == "join:10:222"  # the service message's id, as in a chat export
    cm_left = {**cm, "old_chat_member": {"status": "member", "user": BOB},
               "new_chat_member": {"status": "kicked", "user": BOB, "until_date": 0}, "from": ALICE}
    (gone,) = ev({"chat_member": cm_left})
    assert gone.kind is EventKind.LEAVE and gone.data["removed_by"] == "111"


def test_admin_promotion_is_a_service_event():
    admin = {"status": "administrator", "user": BOB, **dict.fromkeys(
        ["can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
         "can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users",
         "can_post_stories", "can_edit_stories", "can_delete_stories"], False)}
    (e,) = ev({"chat_member": {"chat": CHAT, "from": ALICE, "date": T0,
                               "old_chat_member": {"status": "member", "user": BOB}, "new_chat_member": admin}})
    assert e.kind is EventKind.SERVICE and e.data["service"] == "admin_change"


def test_reactions_added_and_removed():
    ctx = TranslateContext(authors={("-1001234567890", "10"): "222"})
    out = ev({"message_reaction": {
        "chat": CHAT, "message_id": 10, "user": ALICE, "date": T0,
        "old_reaction": [{"type": "emoji", "emoji": "👍"}],
        "new_reaction": [{"type": "emoji", "emoji": "🔥"}, {"type": "custom_emoji", "custom_emoji_id": "5368"}],
    }}, ctx)
    assert [(e.emoji, bool(e.data.get("removed"))) for e in out] == [("🔥", False), ("custom:5368", False), ("👍", True)]
    assert {e.target_member_id for e in out} == {"222"} and len({e.key for e in out}) == 3


def test_button_press_keyed_by_the_press():
    now = datetime(2025, 11, 25, 12, 5, tzinfo=UTC)
    payload = {"callback_query": {"id": "77441", "from": BOB, "chat_instance": "ci", "data": "mod:spam:10",
                                  "message": msg(**{"from": {"id": 999, "is_bot": True, "first_name": "Me"}}, text="alert")}}
    (e,) = ev(payload, TranslateContext(now=now))
    (again,) = ev(payload, TranslateContext(now=now.replace(minute=9)))
    assert e.kind is EventKind.BUTTON and e.data["payload"] == "mod:spam:10" and e.member_id == "222"
    assert e.time == now and e.key == again.key == "btn:77441"


def test_migration_notice():
    (e,) = ev({"message": msg(migrate_to_chat_id=-1009999)})
    assert e.kind is EventKind.SERVICE and e.data == {"service": "migrate_to_chat_id", "chat_id": "-1009999"}
