"""`to_event` on gateway payloads parsed by discord.py's own ConnectionState.

The payloads in tests/data/discord/gateway.json follow the shapes Discord documents
(members carry "flags": 0, without which discord.py keeps them as plain `User`s).
Each payload goes through the real parser; the object it dispatches goes through the
adapter's pure translation.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import discord
import pytest
from discord.user import ClientUser

import adapters.discord as discord_adapter
from adapters import discord_events as dev
from adapters.discord import intents
from storage.events import EventKind

PAYLOADS = json.loads((Path(__file__).parent / "data" / "discord" / "gateway.json").read_text(encoding="utf-8"))
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
GUILD = "1200000000000000001"
ALICE, CHEN = "1300000000000000001", "1300000000000000002"


class Gateway:
    """A discord.py ConnectionState fed recorded dispatches; keeps what it dispatched."""

    def __init__(self) -> None:
        self.client = discord.Client(intents=intents(), chunk_guilds_at_startup=False)
        self.state = self.client._connection
        self.dispatched: list[tuple[str, tuple]] = []
        self.state.dispatch = lambda name, *args: self.dispatched.append((name, args))
        self.state.user = ClientUser(state=self.state, data=PAYLOADS["bot_user"])
        self.feed("GUILD_CREATE")

    def feed(self, kind: str, key: str | None = None):
        """Parse one payload; return the first object dispatched for it."""
        start = len(self.dispatched)
        self.state.parsers[kind](PAYLOADS[key or kind])
        return self.dispatched[start][1][0]


@pytest.fixture
async def gw():
    g = Gateway()
    yield g
    await g.client.close()


def test_the_module_named_discord_imports_the_library():
    # adapters/discord.py shares the library's name; its `discord` must be discord.py.
    assert discord_adapter.discord is discord
    assert "site-packages" in discord.__file__
    assert discord_adapter.__name__ == "adapters.discord"


async def test_message_with_link(gw):
    ev = dev.message_to_event(gw.feed("MESSAGE_CREATE", "MESSAGE_CREATE_question"))
    assert (ev.platform, ev.group_id, ev.group_title) == ("discord", GUILD, "Capstone Cohort")
    assert ev.kind is EventKind.MESSAGE
    assert (ev.member_id, ev.member_name, ev.username) == (ALICE, "Alice", "alice")
    assert ev.channel_id == "1400000000000000001" and ev.message_id == "1573261620019200000"
    assert ev.link_count == 1 and ev.reply_to_id is None and not ev.is_bot
    assert ev.time == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert ev.key == "msg:1573261620019200000"


async def test_reply_with_mentions_and_attachment(gw):
    ev = dev.message_to_event(gw.feed("MESSAGE_CREATE", "MESSAGE_CREATE_reply"))
    assert ev.kind is EventKind.MESSAGE  # MessageType.reply is a member's words too
    assert ev.reply_to_id == "1573261620019200000"
    assert ev.target_member_id == ALICE  # from the referenced message Discord included
    assert ev.mentions == (ALICE, "1300000000000000003")  # <@id> and <@!id>, in order
    assert ev.media == "photo" and ev.data["attachments"] == 1
    assert ev.member_name == "Chen"  # the server nickname


async def test_reply_target_from_cache_when_discord_omits_it(gw):
    msg = gw.feed("MESSAGE_CREATE", "MESSAGE_CREATE_reply")
    msg.reference.resolved = None
    assert dev.message_to_event(msg).target_member_id is None
    assert dev.message_to_event(msg, authors={"1573261620019200000": ALICE}).target_member_id == ALICE


async def test_prefix_command_in_thread(gw):
    ev = dev.message_to_event(gw.feed("MESSAGE_CREATE", "MESSAGE_CREATE_thread_command"), prefix="!")
    assert ev.kind is EventKind.COMMAND and ev.text == "/top 7d" and ev.emoji == "top"
    assert ev.channel_id == "1400000000000000009"  # the thread is the channel
    assert ev.data["parent_channel_id"] == "1400000000000000001"
    plain = dev.message_to_event(gw.feed("MESSAGE_CREATE", "MESSAGE_CREATE_thread_command"), prefix="?")
    assert plain.kind is EventKind.MESSAGE and plain.text == "!top 7d"


async def test_webhook_and_bot_messages_are_marked(gw):
    ev = dev.message_to_event(gw.feed("MESSAGE_CREATE", "MESSAGE_CREATE_webhook_bot"))
    assert ev.is_bot and ev.data["webhook_id"] == "1800000000000000001"


async def test_edit(gw):
    gw.feed("MESSAGE_CREATE", "MESSAGE_CREATE_question")
    payload = gw.feed("MESSAGE_UPDATE")
    ev = dev.edit_to_event(payload)
    assert ev.kind is EventKind.EDIT and ev.message_id == "1573261620019200000"
    assert ev.text.endswith("(edited: found the rubric)") and ev.link_count == 0
    assert ev.time == datetime(2026, 11, 20, 9, 7, 30, tzinfo=UTC)


async def test_embed_unfurl_is_not_an_edit(gw):
    data = dict(PAYLOADS["MESSAGE_UPDATE"], edited_timestamp=None)
    PAYLOADS["MESSAGE_UPDATE_unfurl"] = data
    payload = gw.feed("MESSAGE_UPDATE", "MESSAGE_UPDATE_unfurl")
    assert dev.edit_to_event(payload) is None


async def test_delete_knows_the_author_when_cached(gw):
    gw.feed("MESSAGE_CREATE", "MESSAGE_CREATE_question")
    ev = dev.delete_to_event(gw.feed("MESSAGE_DELETE"), NOW)
    assert ev.kind is EventKind.DELETE and ev.member_id == ALICE and ev.key == "del:1573261620019200000"


async def test_reaction_add_and_remove(gw):
    add = dev.reaction_to_event(gw.feed("MESSAGE_REACTION_ADD"), NOW)
    assert add.kind is EventKind.REACTION and add.emoji == "👍"
    assert (add.member_id, add.target_member_id, add.member_name) == (ALICE, CHEN, "Alice")
    assert add.message_id == "1573262878310400000" and not add.data
    rem = dev.reaction_to_event(gw.feed("MESSAGE_REACTION_REMOVE"), NOW, {"1573262878310400000": CHEN})
    assert rem.data == {"removed": True} and rem.target_member_id == CHEN
    assert add.key != rem.key


async def test_member_join_and_leave(gw):
    join = dev.join_to_event(gw.feed("GUILD_MEMBER_ADD"), NOW)
    assert join.kind is EventKind.JOIN and join.member_name == "Дмитрий"
    assert join.time == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    gw.feed("GUILD_MEMBER_REMOVE")
    raw = next(a[0] for n, a in gw.dispatched if n == "raw_member_remove")
    leave = dev.leave_to_event(raw, NOW)
    assert leave.kind is EventKind.LEAVE and leave.member_id == "1300000000000000004" and leave.group_id == GUILD


@pytest.mark.parametrize(
    ("content", "prefix", "expected"),
    [
        ("!top 7d", "!", "/top 7d"),
        ("/top", "!", "/top"),
        ("!", "!", None),
        ("! top", "!", None),
        ("hello", "!", None),
        ("?rank @bo", "?", "/rank @bo"),
    ],
)
def test_command_text(content, prefix, expected):
    assert dev.command_text(content, prefix) == expected


async def test_forwarded_message_takes_the_snapshot_text(gw):
    ev = dev.message_to_event(gw.feed("MESSAGE_CREATE", "MESSAGE_CREATE_forward"))
    assert ev.forwarded and ev.reply_to_id is None
    assert ev.text == "Free crypto at https://scam.example" and ev.link_count == 1
