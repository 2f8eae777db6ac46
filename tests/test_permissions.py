"""Every admin-only command and button the router knows refuses a member and changes
nothing. The lists come from the router, so a new admin command is covered at once."""

from __future__ import annotations

import asyncio
import tempfile

import pytest
from sqlalchemy import select

import storage.schema  # noqa: F401  - every table on Base.metadata
from bot.app import App
from bot.config import load_config
from storage.models import Base

#: Tables a refused command may touch: its own message is stored, its author recorded.
_ALLOWED = {"events", "members", "group_members", "channels", "groups"}


async def snapshot(app) -> dict:
    out = {}
    async with app.store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in _ALLOWED:
                continue
            rows = (await conn.execute(select(table))).all()
            out[table.name] = sorted(map(repr, rows))
    return out


def _app_routes():
    # A throwaway app on a temporary file, to list what the router registers.
    async def build():
        app = await App.create(load_config(None), f"sqlite:///{tempfile.mkdtemp()}/routes.db")
        await app.store.close()
        return app.router

    return asyncio.run(build())


ROUTER = _app_routes()


async def settle_in(bot, member: str) -> None:
    """Make `member` an established member, so moderation's newcomer checks stay quiet
    and anything that changes is the command's doing."""
    chat = ["Good morning everyone", "I finished the week 3 notebook", "Does anyone have the slides?",
            "Thanks for the help yesterday", "See you at the study session", "The lecture was great today"]
    for i in range(25):
        await bot.say(member, chat[i % len(chat)])
        await bot.later(3600)
    await bot.later(8 * 86400)
    await bot.settle()  # the group's schedules are not the command's doing
ADMIN_COMMANDS = sorted(n for n, c in ROUTER.commands.items() if c.admin)
ADMIN_BUTTONS = sorted(p for p, b in ROUTER.buttons.items() if b.admin)


def test_there_are_admin_commands_and_buttons():
    assert "config" in ADMIN_COMMANDS
    assert "mod" in ADMIN_BUTTONS  # moderators' decisions on alerts


@pytest.mark.parametrize("name", ADMIN_COMMANDS)
async def test_admin_command_refuses_a_member(bot, name):
    await bot.say("admin", "hello")  # the group exists with an admin
    await settle_in(bot, "mallory")
    before = await snapshot(bot.app)
    sent_before, actions_before = len(bot.adapter.sent), len(bot.adapter.actions)
    for args in ("", " set bot.language zh-CN", " @admin 100 because", " add Coupon 10 5", " 1"):
        await bot.later(120)  # slowly, so the flood check has no reason to flag anything
        out = await bot.ask("mallory", f"/{name}{args}")
        assert f"/{name}" in out and ("admin" in out.lower() or "管理员" in out), out
    assert await snapshot(bot.app) == before
    assert len(bot.adapter.actions) == actions_before
    assert all(r.group_id == bot.group_id for r in bot.adapter.sent[sent_before:])


@pytest.mark.parametrize("prefix", ADMIN_BUTTONS)
async def test_admin_button_refuses_a_member(bot, prefix):
    await bot.say("admin", "hello")
    await settle_in(bot, "mallory")
    before = await snapshot(bot.app)
    actions_before = len(bot.adapter.actions)
    for payload in (f"{prefix}:1", f"{prefix}:ban:1", f"{prefix}:approve:1", f"{prefix}:x:y:z"):
        await bot.later(120)
        replies = await bot.press("mallory", payload)
        assert replies and all(r.private_to == "mallory" for r in replies)
    assert await snapshot(bot.app) == before
    assert len(bot.adapter.actions) == actions_before


async def test_config_set_and_show_by_admin(bot):
    assert "bot.language 已设为" in await bot.ask("admin", "/config set bot.language zh-CN")  # answered in the new language
    assert "bot.language" in await bot.ask("admin", "/config show bot")
    assert "只有管理员" in await bot.ask("mallory", "/config set bot.language en")
    assert "可用命令" in await bot.ask("mallory", "/help")  # replies now in Chinese
    out = await bot.ask("admin", "/config set bot.timezone Mars/Base")
    assert "bot.timezone" in out and "Mars/Base" in out
    assert "没有设置项" in await bot.ask("admin", "/config set nosuch.key 1")
    [entry, *_] = await bot.app.store.audit_log(bot.group.pk)
    assert entry["action"] == "config.set" and "zh-CN" in entry["detail"] and entry["actor"] == "admin"
