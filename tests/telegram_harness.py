"""The whole bot on a real SQLite file, connected through the real python-telegram-bot
stack to the fake Bot API server: tests push updates as Telegram would and read the
calls the fake received and the store."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import time
from pathlib import Path

from telegram_fake_api import BOT_ID, FakeBotApi, group, user

import bot.telegram  # noqa: F401  (registers [telegram] before the config is read)
from adapters.telegram import TelegramAdapter
from bot.app import App
from bot.config import load_config_text
from bot.telegram import build_telegram_adapter

GROUP = -1001000000001
OTHER = -1001000000002
MODS = -1001000000099

PEOPLE = {
    "alice": user(101, "Alice", "alice"),
    "bob": user(102, "Bob", "bob"),
    "chen": user(103, "Chen", "chen_w"),
    "admin": user(900, "Ada", "ada_admin"),
    "spammer": user(666, "Crypto Queen", "cq"),
}


async def until(pred, what: str = "condition", tries: int = 1000) -> None:
    """Wait (yielding to the loop) until `pred()` is true; fail after ~10 s."""
    for _ in range(tries):
        value = pred()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


class TgHarness:
    """Drives the fake Telegram; `app`, `adapter`, `fake` are the real parts."""

    def __init__(self, tmp_path: Path, fake: FakeBotApi, extra_config: str = "") -> None:
        self.tmp_path, self.fake, self.extra_config = tmp_path, fake, extra_config
        self.db_url = f"sqlite:///{tmp_path / 'bot.db'}"
        self.app: App | None = None
        self.adapter: TelegramAdapter | None = None
        self.last_update = 0
        self._clock = itertools.count(int(time.time()) - 3600, 5)

    def config_text(self) -> str:
        return (
            f'[telegram]\nenabled = true\ntoken_env = "TEST_TG_TOKEN"\n'
            f'api_base_url = "{self.fake.base_url}"\npoll_timeout = 1\nadmin_cache_ttl = 600.0\n'
            + self.extra_config
        )

    async def start(self, sink=None) -> TgHarness:
        """Create the app (migrating the store) and start the Telegram adapter."""
        if self.app is None:
            self.app = await App.create(load_config_text(self.config_text()), self.db_url)
        self.adapter = build_telegram_adapter(self.app)
        assert self.adapter is not None
        self.adapter.options.backoff = (0.01, 0.05)
        self.app.add_adapter(self.adapter)
        await self.adapter.start(sink or self.app.handle)
        return self

    async def stop(self, ack: bool = True) -> None:
        """Stop the adapter (and the app)."""
        if self.adapter is not None:
            await self.adapter.stop(ack=ack)
            self.adapter = None

    async def close(self) -> None:
        await self.stop()
        if self.app is not None:
            await self.app.stop()

    # -- what members do ---------------------------------------------------------------
    def now(self) -> int:
        return next(self._clock)

    async def push(self, **update) -> int:
        self.last_update = await self.fake.push(**update)
        return self.last_update

    async def settle(self) -> None:
        """Wait until the adapter has handled every update pushed so far."""
        await until(lambda: self.adapter.handled(self.last_update), f"update {self.last_update} handled")

    async def say(self, who: str, text: str, chat: int = GROUP, reply_to: dict | None = None, **extra) -> dict:
        """`who` writes `text`; returns the message dict (for replies and reactions)."""
        msg = {"message_id": self.fake.next_message_id(), "date": self.now(), "chat": group(chat, f"Chat {chat}"),
               "from": PEOPLE[who], "text": text, **extra}
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        await self.push(message=msg)
        await self.settle()
        return msg

    async def press(self, who: str, data: str, alert: dict) -> int:
        """`who` presses the button with callback data `data` under message `alert`."""
        uid = await self.push(callback_query={
            "id": f"cq{self.fake.next_message_id()}", "from": PEOPLE[who], "chat_instance": "x",
            "data": data, "message": alert})
        await self.settle()
        return uid

    # -- what we check ---------------------------------------------------------------------
    async def group(self, chat: int = GROUP):
        return await self.app.store.group("telegram", str(chat))

    async def stored(self, chat: int = GROUP, kinds=None):
        g = await self.group(chat)
        return [] if g is None else await self.app.store.events(g.pk, kinds=kinds)

    def sent_texts(self, chat: int = GROUP) -> list[str]:
        return [c.params.get("text", "") for c in self.fake.called("sendMessage") if int(c.params["chat_id"]) == chat]


__all__ = ["BOT_ID", "GROUP", "MODS", "OTHER", "PEOPLE", "TgHarness", "group", "until", "user"]
