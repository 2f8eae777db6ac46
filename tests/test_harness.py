"""The app driven like a chat through FakeAdapter: router, admin checks, boundaries."""

from __future__ import annotations

from bot.i18n import keys


async def test_help_lists_commands(bot):
    out = await bot.ask("alice", "/help")
    assert "/help" in out and "/ping" in out


async def test_unknown_command_is_named(bot):
    assert "/nosuch" in await bot.ask("alice", "/nosuch arg")


async def test_command_with_botname_suffix(bot):
    assert await bot.ask("alice", "/ping@communitybot") == "pong"


async def test_messages_are_stored_once(bot):
    e = await bot.say("alice", "hello")
    await bot.adapter.inject(e)
    g = bot.group
    assert await bot.app.store.count_events(g.pk) == 1


async def test_step_failure_does_not_stop_others(bot):
    async def broken(app, turn):
        raise RuntimeError("boom")

    bot.app.pipeline.add_step("broken", broken)
    assert await bot.ask("alice", "/ping") == "pong"


async def test_failed_send_is_contained(bot):
    bot.adapter.fail_sends = 1
    await bot.say("alice", "/ping")
    assert await bot.ask("alice", "/ping") == "pong"


async def test_every_english_text_has_chinese():
    assert keys("en") == keys("zh-CN")
