"""`/top` over Telegram: members talk, someone asks for the leaderboard, the answer is a
sendMessage into the group naming the members, most active first."""

from __future__ import annotations

from telegram_harness import GROUP


async def test_top_answers_with_the_leaderboard(tg):
    q = await tg.say("alice", "How do I start the capstone?")
    a = await tg.say("chen", "Start from the rubric, then the dataset.", reply_to=q)
    await tg.say("alice", "Thanks, that worked!", reply_to=a)
    await tg.say("bob", "Same question about week 3")
    await tg.say("chen", "Week 3 uses the same rubric.")
    await tg.say("bob", "/top")
    (call,) = [c for c in tg.fake.called("sendMessage") if int(c.params["chat_id"]) == GROUP]
    text = call.params["text"]
    assert "Chen" in text and "Alice" in text and "Bob" in text
    assert text.index("Chen") < text.index("Bob")  # most active first
