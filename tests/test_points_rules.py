"""Points rules through the real pipeline: farming, duplicates, helpful answers, caps,
streaks, spam reversal, levels and the points commands."""

from __future__ import annotations

import pytest

from adapters.base import ActionKind
from bot.points import ledger_of, level_for, reverse_points_for_message
from bot.points_rules import is_question, is_thanks
from bot.testing import BotHarness


async def balance(bot, member: str) -> int:
    return await ledger_of(bot.app).balance(bot.group.pk, member)


async def test_flooding_a_minute_earns_one_award(bot):
    for i in range(100):
        await bot.say("alice", f"flood message number {i}", advance=0.5)
    assert await balance(bot, "alice") == 1


async def test_cooldown_passes_and_short_messages_earn_nothing(bot):
    await bot.say("alice", "a first useful message")
    await bot.say("alice", "ok", advance=120)
    assert await balance(bot, "alice") == 1
    await bot.say("alice", "another useful message", advance=61)
    assert await balance(bot, "alice") == 2


async def test_same_event_delivered_twice_awards_once(bot):
    q = await bot.say("alice", "How do I submit the capstone?")
    a = await bot.say("chen", "Use the form in the course page.", reply_to=-1)
    await bot.adapter.inject(q)
    await bot.adapter.inject(a)
    r = await bot.react("alice", -1)
    await bot.adapter.inject(r)
    # chen: message 1 + reaction 1 + helpful 5; alice: message 1 + reply received 1
    assert await balance(bot, "chen") == 7
    assert await balance(bot, "alice") == 2


@pytest.mark.parametrize("thanks", ["Thanks, that worked!", "谢谢，解决了", "Спасибо, помогло"])
async def test_thanking_a_reply_to_your_question_marks_it_helpful(bot, thanks):
    await bot.say("alice", "Where is the rubric for week 3?")
    await bot.say("chen", "Pinned in the course channel.", reply_to=-1)
    await bot.say("alice", thanks, reply_to=-1)
    rows = await ledger_of(bot.app).history(bot.group.pk, "chen")
    assert "helpful" in {r.reason for r in rows}


async def test_thanks_from_someone_else_is_not_helpful(bot):
    await bot.say("alice", "Where is the rubric for week 3?")
    await bot.say("chen", "Pinned in the course channel.", reply_to=-1)
    await bot.say("bob", "thanks a lot for that", reply_to=-1)
    await bot.react("bob", 1)
    rows = await ledger_of(bot.app).history(bot.group.pk, "chen")
    assert "helpful" not in {r.reason for r in rows}


async def test_self_reactions_earn_nothing_and_reactions_are_capped(bot):
    await bot.say("chen", "A long and useful explanation of things.")
    await bot.react("chen", 0)
    assert await balance(bot, "chen") == 1
    for i in range(15):
        await bot.react(f"fan{i}", 0)
    assert await balance(bot, "chen") == 1 + 10  # reaction_daily_cap = 10


async def test_daily_cap_bounds_rule_points(tmp_path):
    bot = await BotHarness.create(tmp_path, "[points]\ndaily_cap = 3\nmessage_cooldown = 0.0\n")
    try:
        for i in range(10):
            await bot.say("alice", f"useful message number {i}")
        assert await balance(bot, "alice") == 3
        assert "+50" in await bot.ask("admin", "/award @alice 50 not capped")
        assert await balance(bot, "alice") == 53
    finally:
        await bot.close()


async def test_streak_bonus_after_seven_active_days(bot):
    for day in range(7):
        await bot.say("alice", f"checking in on day {day} with news", advance=86400 if day else 1)
    rows = await ledger_of(bot.app).history(bot.group.pk, "alice", 50)
    streaks = [r for r in rows if r.reason == "streak"]
    assert len(streaks) == 1 and streaks[0].amount == 20


async def test_spam_reversal_takes_back_what_the_message_earned(bot):
    await bot.say("spammer", "Great course! Visit my channel for free signals")
    await bot.react("alice", 0)
    await bot.say("bob", "Is this legit? Asking for real.", reply_to=0)
    assert await balance(bot, "spammer") == 3  # message, reaction, reply received
    taken = await reverse_points_for_message(bot.app, bot.group, bot.messages[0].message_id)
    assert taken == 3 and await balance(bot, "spammer") == 0
    assert await reverse_points_for_message(bot.app, bot.group, bot.messages[0].message_id) == 0
    assert await balance(bot, "bob") == 1  # bob's own message is untouched
    assert "reversed" in await bot.ask("spammer", "/history")


def test_level_curve_default():
    # 5·L² + 50·L + 100: level 1 at 100, level 2 at 100 + 155 = 255
    assert level_for(99, [5, 50, 100]) == (0, 99, 100)
    assert level_for(100, [5, 50, 100]) == (1, 0, 155)
    assert level_for(255, [5, 50, 100])[0] == 2


async def test_level_up_is_announced_and_rewarded(tmp_path):
    bot = await BotHarness.create(tmp_path, '[points]\nlevel_rewards = { "1" = "title:Helper" }\n')
    try:
        await bot.say("alice", "hello everyone, glad to be here")
        out = await bot.ask("admin", "/award @alice 120 welcome")
        assert "alice reached level 1" in out
        assert [a.kind for a in bot.adapter.actions] == [ActionKind.SET_TITLE]
        assert bot.adapter.actions[0].value == "Helper"
        assert "level 1" in await bot.ask("alice", "/level")
    finally:
        await bot.close()


async def test_level_up_announcements_can_be_off(tmp_path):
    bot = await BotHarness.create(tmp_path, '[points]\nlevelup_announce = "off"\n')
    try:
        await bot.say("alice", "hello everyone, glad to be here")
        assert "reached level" not in await bot.ask("admin", "/award @alice 500")
    finally:
        await bot.close()


async def test_award_and_deduct_are_admin_only_and_clear(bot):
    await bot.say("alice", "hello everyone, glad to be here")
    assert "Only admins" in await bot.ask("bob", "/award @alice 5")
    assert "Usage" in await bot.ask("admin", "/award @alice")
    assert "positive whole number" in await bot.ask("admin", "/award @alice lots")
    assert "don't know" in await bot.ask("admin", "/award @nobody 5")
    assert "Balance: 11" in await bot.ask("admin", "/award @alice 10 for the notes")
    assert "Balance: 0" in await bot.ask("admin", "/deduct @alice 100 test")
    assert await balance(bot, "alice") == 0


async def test_points_top_and_history_commands(bot):
    await bot.say("alice", "a useful message for everyone")
    await bot.say("chen", "another useful message here")
    await bot.ask("admin", "/award @chen 10 notes")
    out = await bot.ask("bob", "/top points 30d")
    assert out.index("chen") < out.index("alice")
    assert "3y" in await bot.ask("bob", "/top points 3y")  # named in the usage error
    assert "chen: 11 points" in await bot.ask("bob", "/points @chen")
    assert "granted by an admin (notes)" in await bot.ask("chen", "/history")


async def test_chinese_group_gets_chinese_replies(tmp_path):
    bot = await BotHarness.create(tmp_path, '[bot]\nlanguage = "zh-CN"\n')
    try:
        await bot.say("alice", "大家好，我是新来的同学，请多关照")
        assert "积分" in await bot.ask("alice", "/points")
        assert "积分榜" in await bot.ask("alice", "/top points")
    finally:
        await bot.close()


def test_question_and_thanks_detection():
    assert is_question("怎么提交作业") and is_question("как сдать задание") and is_question("ok?")
    assert not is_question("Here is the link")
    assert is_thanks("多谢！") and is_thanks("thx") and not is_thanks("that is wrong")


async def test_config_set_changes_the_rules_at_once(bot):
    await bot.say("alice", "a first useful message")
    assert "points.message" in await bot.ask("admin", "/config set points.message 5")
    await bot.say("alice", "a second useful message", advance=61)
    assert await balance(bot, "alice") == 6


async def test_after_a_restart_a_groups_figures_load_in_one_query(tmp_path):
    """A restart under load: the first message of each member must not cost a ledger
    query per member. Caps, cooldowns and streak days still come out right."""
    from sqlalchemy import event

    config = "[points]\ndaily_cap = 3\nmessage_cooldown = 0.0\n"
    bot = await BotHarness.create(tmp_path, config)
    people = [f"m{i}" for i in range(12)]
    try:
        for who in people:
            for i in range(2):
                await bot.say(who, f"{who} shares useful note number {i}")
    finally:
        await bot.close()
    bot2 = await BotHarness.create(tmp_path, config)
    bot2.clock.set(bot.clock.now())
    bot2._ids = iter(range(1000, 2000))
    ledger_reads: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "points_ledger" in statement:
            ledger_reads.append(statement)

    engine = bot2.app.store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for who in [*people, "newcomer"]:
            for i in range(2):
                await bot2.say(who, f"{who} after the restart, note number {i}")
        event.remove(engine, "before_cursor_execute", count)
        # Each had 2 of the daily cap of 3: one more point each; the newcomer gets 2.
        assert [await balance(bot2, who) for who in people] == [3] * len(people)
        assert await balance(bot2, "newcomer") == 2
        assert len(ledger_reads) <= 4, "\n".join(s.replace("\n", " ")[-160:] for s in ledger_reads)  # figures and streak days, per group
    finally:
        if event.contains(engine, "before_cursor_execute", count):
            event.remove(engine, "before_cursor_execute", count)
        await bot2.close()


async def test_a_reversal_makes_the_member_read_again(bot):
    await bot.say("spammer", "Great course! Visit my channel for free signals")
    await bot.say("spammer", "And here is another long message", advance=120)
    assert await balance(bot, "spammer") == 2
    await reverse_points_for_message(bot.app, bot.group, bot.messages[0].message_id)
    await bot.say("spammer", "A third message after the reversal", advance=120)
    assert await balance(bot, "spammer") == 2
    assert "2 points" in await bot.ask("spammer", "/points")
