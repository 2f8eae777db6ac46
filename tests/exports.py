"""Small hand-written exports for the importer tests."""

from __future__ import annotations

import json
from pathlib import Path

TG_NEW = {
    "name": "Course 101",
    "type": "private_supergroup",
    "id": 1500000001,
    "messages": [
        {"id": 1, "type": "service", "date": "2026-01-05T09:00:00", "date_unixtime": "1767603600",
         "actor": "Alice", "actor_id": "user11", "action": "join_group_by_link", "inviter": "Group"},
        {"id": 2, "type": "service", "date": "2026-01-05T09:01:00", "date_unixtime": "1767603660",
         "actor": "Alice", "actor_id": "user11", "action": "invite_members", "members": ["Bob", "Chen"]},
        {"id": 3, "type": "message", "date": "2026-01-05T09:02:00", "date_unixtime": "1767603720",
         "from": "Alice", "from_id": "user11", "text": "How do I start the capstone?",
         "text_entities": [{"type": "plain", "text": "How do I start the capstone?"}]},
        {"id": 4, "type": "message", "date": "2026-01-05T09:05:00", "date_unixtime": "1767603900",
         "from": "Chen 陈", "from_id": "user13", "reply_to_message_id": 3,
         "text": ["Start from the ", {"type": "text_link", "text": "rubric", "href": "https://x.test/rubric"},
                  ", ", {"type": "mention_name", "text": "Alice", "user_id": 11}, " and ",
                  {"type": "mention", "text": "@bob"}],
         "text_entities": [{"type": "plain", "text": "Start from the "},
                           {"type": "text_link", "text": "rubric", "href": "https://x.test/rubric"},
                           {"type": "plain", "text": ", "},
                           {"type": "mention_name", "text": "Alice", "user_id": 11},
                           {"type": "plain", "text": " and "}, {"type": "mention", "text": "@bob"}],
         "reactions": [{"type": "emoji", "count": 2, "emoji": "👍",
                        "recent": [{"from": "Alice", "from_id": "user11", "date": "2026-01-05T09:06:00"},
                                   {"from": "Bob", "from_id": "user12", "date": "2026-01-05T09:07:00"}]}]},
        {"id": 5, "type": "message", "date": "2026-01-05T09:10:00", "date_unixtime": "1767604200",
         "from": "Bob", "from_id": "user12", "photo": "photos/p.jpg", "text": "", "text_entities": [],
         "forwarded_from": "Some Channel"},
        {"id": 6, "type": "message", "date": "2026-01-05T09:11:00", "date_unixtime": "1767604260",
         "from": "Bob", "from_id": "user12", "media_type": "sticker", "sticker_emoji": "😀", "text": "",
         "text_entities": []},
        {"id": 7, "type": "service", "date": "2026-01-06T10:00:00", "date_unixtime": "1767693600",
         "actor": "Bob", "actor_id": "user12", "action": "remove_members", "members": ["Bob"]},
        {"id": 8, "type": "service", "date": "2026-01-06T10:01:00", "date_unixtime": "1767693660",
         "actor": "Alice", "actor_id": "user11", "action": "pin_message", "message_id": 3},
        {"id": 9, "type": "unsupported", "date": "2026-01-06T10:02:00", "date_unixtime": "1767693720"},
        {"id": 10, "type": "service", "date": "2026-01-06T10:03:00", "date_unixtime": "1767693780",
         "actor": "Alice", "actor_id": "user11", "action": "brand_new_action"},
    ],
}

# Exports before ~2021: integer from_id, no date_unixtime, basic group.
TG_OLD = {
    "name": "Old Group",
    "type": "private_group",
    "id": 4242,
    "messages": [
        {"id": 1, "type": "message", "date": "2019-03-01T12:00:00", "from": "Dana", "from_id": 77,
         "text": "hello https://example.test/a"},
        {"id": 2, "type": "message", "date": "2019-03-01T12:05:00", "from": "Eli", "from_id": 78,
         "reply_to_message_id": 1, "text": ["see ", {"type": "link", "text": "https://example.test/b"}]},
    ],
}

DISCORD = {
    "guild": {"id": "900000000000000001", "name": "Study Server", "iconUrl": ""},
    "channel": {"id": "910000000000000001", "type": "GuildTextChat", "categoryId": "1", "category": "Text",
                "name": "general", "topic": None},
    "dateRange": {"after": None, "before": None},
    "exportedAt": "2026-01-10T00:00:00+00:00",
    "messages": [
        {"id": "920000000000000001", "type": "GuildMemberJoin", "timestamp": "2026-01-05T09:00:00+00:00",
         "timestampEdited": None, "isPinned": False, "content": "",
         "author": {"id": "111", "name": "alice", "discriminator": "0000", "nickname": "Alice", "isBot": False, "roles": []},
         "attachments": [], "embeds": [], "stickers": [], "reactions": [], "mentions": []},
        {"id": "920000000000000002", "type": "Default", "timestamp": "2026-01-05T09:02:00.123+00:00",
         "timestampEdited": None, "isPinned": False, "content": "How do I start the capstone?",
         "author": {"id": "111", "name": "alice", "discriminator": "0000", "nickname": "Alice", "isBot": False, "roles": []},
         "attachments": [], "embeds": [], "stickers": [], "mentions": [],
         "reactions": [{"emoji": {"id": "", "name": "👍", "code": "thumbsup", "isAnimated": False},
                        "count": 1, "users": [{"id": "222", "name": "chen", "nickname": "Chen"}]}]},
        {"id": "920000000000000003", "type": "Reply", "timestamp": "2026-01-05T09:05:00+00:00",
         "timestampEdited": "2026-01-05T09:06:00+00:00", "isPinned": False,
         "content": "Start from the rubric <@111> https://x.test/r",
         "author": {"id": "222", "name": "chen", "discriminator": "0000", "nickname": "Chen", "isBot": False, "roles": []},
         "attachments": [{"id": "1", "url": "https://cdn.test/a.png", "fileName": "a.png", "fileSizeBytes": 10}],
         "embeds": [], "stickers": [], "reactions": [],
         "mentions": [{"id": "111", "name": "alice", "nickname": "Alice", "isBot": False}],
         "reference": {"messageId": "920000000000000002", "channelId": "910000000000000001", "guildId": "900000000000000001"}},
        {"id": "920000000000000004", "type": "Default", "timestamp": "2026-01-05T09:06:00+00:00",
         "timestampEdited": None, "isPinned": False, "content": "beep",
         "author": {"id": "333", "name": "helperbot", "discriminator": "0000", "nickname": None, "isBot": True, "roles": []},
         "attachments": [], "embeds": [], "stickers": [], "reactions": [], "mentions": []},
        {"id": "920000000000000005", "type": "SomethingNew", "timestamp": "2026-01-05T09:07:00+00:00",
         "content": "", "author": {"id": "111", "name": "alice"}},
    ],
    "messageCount": 5,
}


def write(tmp: Path, name: str, data: dict | str) -> Path:
    p = tmp / name
    p.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return p
