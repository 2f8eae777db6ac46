"""Every points, rewards and events command through the console adapter, and the demo's
simulated week."""

from __future__ import annotations

import io
from datetime import timedelta

from rich.console import Console

from adapters.console import ConsoleAdapter, slug
from bot import community
from bot.app import App
from bot.config import load_config_text


async def test_every_command_in_the_console(tmp_path):
    # The console uses the real clock; APScheduler stays off so nothing fires by itself.
    app = await App.create(load_config_text("[scheduler]\nenabled = false\n"), f"sqlite:///{tmp_path / 'c.db'}")
    group = await app.store.ensure_group("console", slug("Course 101"), "Course 101")
    await app.store.set_role(group.pk, "alice", "owner")

    async def admin_check(group_id: str, member_id: str) -> bool:
        return (await app.store.role(group.pk, member_id)) in ("owner", "admin", "moderator")

    out = io.StringIO()
    console = ConsoleAdapter("Course 101", "alice", admin_check, stdin=io.StringIO(""), stdout=out)
    app.add_adapter(console)
    await app.start()
    next_year = (app.clock.now() + timedelta(days=400)).strftime("%Y-%m-%d")
    script = [
        "hello everyone, glad to be here",
        "/as bob", "Is anyone working on the capstone yet?",
        "/as alice", "/award @bob 150 welcome bonus", "/deduct @bob 10 typo",
        "/reward add mentoring 100 3", "/rewards",
        "/as bob", "/points", "/level", "/history", "/top points all", "/redeem mentoring",
        "/as alice", "/press 1",
        "/as bob", "/points",
        "/as alice", f'/event add "Capstone AMA" {next_year} 19:00 90m', "/as bob", "/press 1", "/events",
        "/checkin",
        "/as alice", "/event cancel 1", "/plan",
    ]
    try:
        for line in script:
            await console.handle_line(line)
    finally:
        await app.stop()
    text = out.getvalue()
    assert "+150 for bob (welcome bonus). Balance: 151." in text
    assert "−10 from bob (typo). Balance: 141." in text
    assert "mentoring — 100 (3 left)" in text
    assert "bob: 141 points" in text and "level 1" in text
    assert "granted by an admin (welcome bonus)" in text
    assert "1. bob — 141" in text
    assert "bob asks for mentoring" in text and "[1] Approve" in text
    assert "bot → bob (private): ✅ Your request for mentoring was approved" in text
    assert "bob: 41 points" in text
    assert "Going 1 · Maybe 0" in text and "(going 1, maybe 0)" in text
    assert "No event is running" in text
    assert "event #1 Capstone AMA is cancelled" in text.replace("🚫 Event", "event")
    assert "Too few messages" in text


async def test_demo_shows_a_simulated_week(bot):
    bot.clock.set(bot.clock.now() - timedelta(days=8))
    members = ["alice", "bob", "chen", "dora", "erik", "fay"]
    for day in range(7):
        for i, m in enumerate(members):
            await bot.say(m, f"day {day}: progress update {i} on the capstone", advance=600)
    buf = io.StringIO()
    await community.demo(bot.app, bot.group, Console(file=buf, width=120))
    text = buf.getvalue()
    assert "Capstone Q&A" in text and "starts in 1 day" in text and "starts in 1 hour" in text
    assert "checked in to Capstone Q&A" in text
    assert "top contributors" in text
    assert "0 new runs" in text
    assert bot.app.clock is bot.clock  # the demo put the app back as it was
