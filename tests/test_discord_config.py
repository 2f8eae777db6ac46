"""The [discord] section: validation with clear errors, and the adapter built from it."""

from __future__ import annotations

import pytest

import bot.discord_setup  # noqa: F401  - registers [discord]
from bot.app import App
from bot.config import ConfigError, load_config_text
from bot.discord_setup import build_discord_adapter, resume_points
from storage.events import Event, EventKind


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[discord]\ntoken = "abc"\n', "unknown key 'token'"),
        ("[discord]\nprefix = 1\n", "key 'prefix' must be str"),
        ('[discord]\nprefix = "go "\n', "key 'prefix' must be 1-5 characters"),
        ('[discord]\nallow_mentions = ["all"]\n', "allow_mentions"),
        ('[discord]\nguild_ids = ["general"]\n', "guild_ids"),
        ('[discord]\nenabled = true\ntoken_env = "CB_TEST_NO_SUCH_VAR"\n', "CB_TEST_NO_SUCH_VAR"),
    ],
)
def test_bad_config_names_the_key(text, needle):
    with pytest.raises(ConfigError) as err:
        load_config_text(text)
    assert needle in str(err.value) and "[discord]" in str(err.value)


async def test_adapter_from_config(tmp_path, monkeypatch):
    monkeypatch.setenv("CB_TEST_DISCORD_TOKEN", "secret-token")
    config = load_config_text(
        '[discord]\nenabled = true\ntoken_env = "CB_TEST_DISCORD_TOKEN"\nprefix = "?"\n'
        'moderator_roles = ["Mods"]\nguild_ids = ["120000000000000001"]\nallow_mentions = []\n'
    )
    app = await App.create(config, f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        adapter = build_discord_adapter(app)
        o = adapter.options
        assert o.token == "secret-token" and o.prefix == "?" and o.moderator_roles == ("Mods",)
        assert app.adapters["discord"] is adapter
        names = dict(o.commands)
        assert {"help", "ping", "link"} <= set(names) and names["ping"] == "check the bot is alive"
        assert adapter.serves("120000000000000001") and not adapter.serves("999")
        assert not adapter.client.allowed_mentions.users and not adapter.client.allowed_mentions.everyone
        assert "ban members" in await o.describe_problem("120000000000000001", "ban members")
    finally:
        await app.stop()


async def test_resume_points_take_the_newest_message_per_channel(tmp_path):
    app = await App.create(load_config_text(""), f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        from datetime import UTC, datetime

        t = datetime(2026, 11, 20, tzinfo=UTC)

        def msg(mid: str, channel: str, **kw) -> Event:
            return Event(platform="discord", group_id="1", kind=kw.pop("kind", EventKind.MESSAGE), time=t,
                         member_id="7", channel_id=channel, message_id=mid, **kw)

        await app.store.append_many([
            msg("999999999999999999", "10"),  # 18 digits: older than any 19-digit id
            msg("1000000000000000001", "10"),
            msg("1000000000000000000", "10"),
            msg("1200000000000000000", "10", kind=EventKind.COMMAND, data={"via": "slash"}),
            msg("1100000000000000000", "20", kind=EventKind.REACTION, emoji="👍"),
            msg("1000000000000000005", "20"),
        ])
        assert await resume_points(app) == {"10": "1000000000000000001", "20": "1000000000000000005"}
    finally:
        await app.stop()
