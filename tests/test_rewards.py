"""Rewards catalog and redemptions through the fake adapter: reserve, approve, deny,
stock, balance, and who may press the buttons."""

from __future__ import annotations

from bot.points import ledger_of
from bot.testing import BotHarness


async def setup_member(bot, points: int = 250) -> None:
    await bot.say("chen", "hello everyone, glad to be here")
    await bot.ask("admin", f"/award @chen {points - 1} seed")
    await bot.ask("admin", "/reward add mentoring 100 1")


async def redeem(bot, member: str, name: str):
    replies = await bot.replies_to(member, f"/redeem {name}")
    buttons = [r for r in replies if r.buttons]
    return replies, (buttons[0].buttons[0] if buttons else None)


async def test_approval_debits_points_and_stock(bot):
    await setup_member(bot)
    replies, (approve, deny) = await redeem(bot, "chen", "mentoring")
    assert "reserved" in replies[0].text and approve.data.startswith("redeem:approve:")
    assert "150 available" in await bot.ask("chen", "/points")
    out = await bot.press("admin", approve.data, message_id="777")
    dm = [r for r in out if r.private_to == "chen"]
    assert "approved" in dm[0].text and "balance 150" in dm[0].text
    assert any(r.edit_message_id == "777" and "approved by admin" in r.text for r in out)
    assert await ledger_of(bot.app).balance(bot.group.pk, "chen") == 150
    assert "(0 left)" in await bot.ask("chen", "/rewards")
    assert "out of stock" in await bot.ask("chen", "/redeem mentoring")


async def test_denial_releases_the_reservation(bot):
    await setup_member(bot)
    _, (approve, deny) = await redeem(bot, "chen", "mentoring")
    out = await bot.press("admin", deny.data)
    assert any(r.private_to == "chen" and "declined" in r.text for r in out)
    assert await ledger_of(bot.app).balance(bot.group.pk, "chen") == 250
    assert "reserved" not in await bot.ask("chen", "/points")
    assert "(1 left)" in await bot.ask("chen", "/rewards")


async def test_deciding_twice_and_non_admin_presses_do_nothing(bot):
    await setup_member(bot)
    _, (approve, deny) = await redeem(bot, "chen", "mentoring")
    out = await bot.press("chen", approve.data)
    assert "Only moderators" in out[0].text
    await bot.press("admin", approve.data)
    out = await bot.press("admin", deny.data)
    assert "already decided" in out[0].text
    assert await ledger_of(bot.app).balance(bot.group.pk, "chen") == 150


async def test_reserved_points_cannot_be_spent_twice(bot):
    await setup_member(bot, points=150)
    await bot.ask("admin", "/reward add coupon 100")
    _, first = await redeem(bot, "chen", "coupon")
    assert first is not None
    out = await bot.ask("chen", "/redeem coupon")
    assert "you have 50 available" in out


async def test_balance_never_goes_below_zero(bot):
    await setup_member(bot, points=120)
    _, (approve, _deny) = await redeem(bot, "chen", "mentoring")
    # The points are reversed (a deduction) before an admin approves.
    await bot.ask("admin", "/deduct @chen 60 correction")
    out = await bot.press("admin", approve.data)
    assert any("could not be approved" in r.text for r in out if r.private_to == "chen")
    assert await ledger_of(bot.app).balance(bot.group.pk, "chen") == 60


async def test_catalog_errors_are_clear(bot):
    assert "No rewards yet" in await bot.ask("chen", "/rewards")
    assert "no reward called 'book'" in await bot.ask("chen", "/redeem book")
    assert "COST must be a whole number" in await bot.ask("admin", "/reward add book cheap")
    assert "Only admins" in await bot.ask("chen", "/reward add book 5")
    await bot.ask("admin", "/reward add book 5")
    assert "Removed book" in await bot.ask("admin", "/reward remove book")


async def test_config_catalog_and_admin_channel(tmp_path):
    bot = await BotHarness.create(tmp_path, '[points]\nrewards = { "course coupon" = 30 }\nadmin_channel = "mods"\n')
    try:
        await bot.say("chen", "hello everyone, glad to be here")
        await bot.ask("admin", "/award @chen 40")
        assert "course coupon — 30 (unlimited)" in await bot.ask("chen", "/rewards")
        replies, button = await redeem(bot, "chen", "course coupon")
        assert [r.channel_id for r in replies if r.buttons] == ["mods"]
    finally:
        await bot.close()


async def test_reward_names_with_spaces(bot):
    await setup_member(bot)
    assert "Reward course coupon: 30 points (5 left)" in await bot.ask("admin", '/reward add "course coupon" 30 5')
    assert "Usage" in await bot.ask("admin", "/reward add course coupon 30 5")
    replies, _ = await redeem(bot, "chen", "course coupon")
    assert "Asked for course coupon" in replies[0].text
