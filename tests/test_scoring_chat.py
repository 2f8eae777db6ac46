"""The scoring commands as members use them, through the real app on a real store."""

from __future__ import annotations

from datetime import timedelta

from adapters.base import Reply
from bot.leaderboards import Board, add_board


async def conversation(bot):
    q = await bot.say("alice", "How do I start the capstone?")
    await bot.say("chen", "Start from the rubric, then the python template.", reply_to=-1)
    await bot.say("bob", "Thanks chen, that python template helped", reply_to=-1)
    await bot.react("alice", 1)
    await bot.say("dana", "Where is the interview prep channel?")
    await bot.say("chen", "Try the career channel for resume and interview tips.", reply_to=-1)
    return q


async def test_top_names_the_expert(bot):
    await conversation(bot)
    out = await bot.ask("bob", "/top influence")
    assert "chen" in out.splitlines()[1]
    assert "activity" in (await bot.ask("bob", "/top")).lower()


async def test_top_reflects_new_messages(bot):
    await bot.say("alice", "hello")
    assert "alice" in await bot.ask("bob", "/top all")
    for i in range(5):
        await bot.say("erin", f"message {i}")
    assert (await bot.ask("bob", "/top all")).splitlines()[1].startswith("1. erin")


async def test_top_rejects_unknown_board_and_names_it(bot):
    await bot.say("alice", "hi")
    out = await bot.ask("bob", "/top karma")
    assert "karma" in out and "activity|influence" in out


async def test_other_features_add_boards(bot):
    async def points(ctx, window):
        return f"points board {window}"

    add_board(bot.app, Board("points", points))
    assert await bot.ask("bob", "/top points 7d") == "points board 7d"
    assert "points" in await bot.ask("bob", "/top nope")


async def test_rank_of_self_and_other(bot):
    await conversation(bot)
    out = await bot.ask("chen", "/rank")
    assert "chen" in out and "#1" in out
    assert "alice" in await bot.ask("bob", "/rank @alice")
    assert "nobody" in await bot.ask("bob", "/rank @nobody")


async def test_rank_window_excludes_old_activity(bot):
    await bot.say("olive", "old news")
    await bot.later(timedelta(days=10))
    await bot.say("pat", "fresh")
    assert "no activity" in await bot.ask("pat", "/rank @olive 7d")
    assert "#" in await bot.ask("pat", "/rank @olive all")


async def test_profile_shows_interests_and_connections(bot):
    await conversation(bot)
    out = await bot.ask("chen", "/profile")
    assert "career" in out or "programming" in out
    assert "alice" in out or "bob" in out or "dana" in out


async def test_whoknows_points_to_the_answerer(bot):
    await conversation(bot)
    out = await bot.ask("erin", "/whoknows how to prepare for an interview?")
    assert "chen" in out
    assert "/whoknows" in await bot.ask("erin", "/whoknows")


async def test_recommend_records_showing_and_engagement(bot):
    for i in range(3):
        await bot.say("chen", f"python code review number {i}", channel_id="code")
        await bot.say("dana", f"resume and interview practice {i}", channel_id="jobs")
    await bot.say("erin", "I want to learn python, my code is messy", channel_id="general")
    replies = await bot.replies_to("erin", "/recommend", channel_id="general")
    assert replies and replies[0].buttons
    assert "code" in replies[0].text
    payloads = [b.data for row in replies[0].buttons for b in row]
    assert "rec:code" in payloads
    log = bot.app.services["recommendation_log"]
    engaged, ignored = await log.counts(bot.group.pk, "erin")
    assert ignored["code"] == 1 and not engaged
    await bot.say("erin", "first post here", channel_id="code")
    engaged, ignored = await log.counts(bot.group.pk, "erin")
    assert engaged["code"] == 1 and not ignored["code"]
    pressed = await bot.press("erin", "rec:topic:programming")
    assert pressed and "programming" in pressed[0].text


async def test_stats_is_for_admins_and_has_a_chart(bot):
    await conversation(bot)
    assert "admin" in (await bot.ask("bob", "/stats")).lower()
    replies = await bot.replies_to("admin", "/stats")
    r = replies[0]
    assert isinstance(r, Reply) and r.image and r.image.startswith(b"\x89PNG")
    assert "Stage: creation" in r.text


async def test_chinese_group_gets_chinese_replies(bot):
    await conversation(bot)
    await bot.app.store.update_group(bot.group.pk, language="zh-CN")
    assert "活跃度排行" in await bot.ask("bob", "/top")
    stats = await bot.ask("admin", "/stats")
    assert "阶段：初创期 — 历史记录只有 1 周" in stats


async def test_big_groups_answer_from_cache_and_refresh_in_background(tmp_path):
    from bot.testing import BotHarness

    bot = await BotHarness.create(tmp_path, config="[scoring]\nsync_limit = 1\nrefresh_seconds = 60.0\n")
    try:
        await bot.say("alice", "hello")
        assert "1. alice" in await bot.ask("bob", "/top all")  # no cache yet: computed now
        gc = bot.app.services["scoring"].groups[bot.group.pk]
        first = gc.task
        for i in range(4):
            await bot.say("erin", f"message {i}")
        assert "1. alice" in await bot.ask("bob", "/top all")  # stale, but refreshed < 60 s ago
        assert gc.task is first  # no new refresh yet
        await bot.later(61)
        assert "1. alice" in await bot.ask("bob", "/top all")  # stale answer, refresh started
        assert gc.task is not first
        await gc.task
        assert "1. erin" in await bot.ask("bob", "/top all")
    finally:
        await bot.close()


async def test_commands_say_so_while_scores_are_being_computed(tmp_path):
    from bot.testing import BotHarness

    bot = await BotHarness.create(tmp_path, config="[scoring]\nanswer_seconds = 0.05\n")
    try:
        await bot.say("alice", "hello")
        gc = bot.app.services["scoring"].groups[bot.group.pk]
        async with gc.lock:  # a long computation holds the group's lock
            assert "ask again" in await bot.ask("bob", "/top")
            assert "ask again" in await bot.ask("bob", "/rank")
        await gc.task  # the computation the commands started goes on, and finishes
        assert "1. alice" in await bot.ask("bob", "/top")
    finally:
        await bot.close()
