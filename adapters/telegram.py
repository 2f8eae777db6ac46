"""The Telegram adapter on python-telegram-bot 22: receives updates (long polling or a
webhook), translates them with the pure `to_event`, hands them to the bot's sink, and
carries out `Reply`s and `Action`s (in `adapters/telegram_out.py`).

It runs inside the caller's event loop (no `run_polling()`), so Discord, the scheduler
and Telegram share one process. Requests go through PTB's `AIORateLimiter` (30 messages
a second overall, 20 a minute per group, `RetryAfter` waited out and retried).

The adapter never touches the store. What the bot must do about platform facts is
handed back through `TelegramHooks`: a group that removed the bot (`on_group_gone`), a
group upgraded to a supergroup (`on_migrate`), and who wrote a message that is now
reacted to (`lookup_author`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlparse

from telegram import Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from adapters.base import AdapterStartError, EventSink
from adapters.telegram_events import ALLOWED_UPDATES, PLATFORM, TranslateContext, to_event
from adapters.telegram_out import TelegramOutbox
from adapters.telegram_poll import Backoff, Poller, WebhookServer
from storage.events import EventKind

log = logging.getLogger(__name__)

#: How many message authors and usernames to remember for reactions and @mentions.
MEMORY = 50_000
#: Seconds within which a service-message join and a `chat_member` join are one join.
MEMBERSHIP_WINDOW = 120.0


async def _nothing(*_a) -> None:
    return None


class TelegramStartError(AdapterStartError):
    """Telegram refused to let the bot start (a wrong token); the message says what to fix."""


def _log_end(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("telegram: polling stopped: %r", task.exception())


@dataclass
class TelegramHooks:
    """Callbacks from the adapter to the bot (the adapter may not import the store)."""

    #: The bot was removed from, or can no longer write to, a group: mark it inactive.
    on_group_gone: Callable[[str], Awaitable[None]] = _nothing
    #: The bot is a member of a group again (re-added): mark it active.
    on_group_back: Callable[[str], Awaitable[None]] = _nothing
    #: A group became a supergroup with a new id: move the group, keep its history.
    on_migrate: Callable[[str, str], Awaitable[None]] = _nothing
    #: The author of (group id, message id) when the adapter has not seen it.
    lookup_author: Callable[[str, str], Awaitable[str | None]] = _nothing  # type: ignore[assignment]


@dataclass
class TelegramOptions:
    """Everything the adapter needs to connect; built by `bot.telegram` from config."""

    token: str
    api_base_url: str = "https://api.telegram.org/bot"
    poll_timeout: float = 30.0
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str = ""
    admin_cache_ttl: float = 300.0
    #: (first, maximum) seconds between retries after network faults.
    backoff: tuple[float, float] = (1.0, 60.0)
    #: How often PTB's rate limiter retries a request after `RetryAfter`.
    max_retries: int = 3
    rate_limit: bool = True

    @property
    def file_url(self) -> str:
        """The file-download base that goes with `api_base_url`."""
        base = self.api_base_url.rstrip("/")
        return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file"


class TelegramAdapter(TelegramOutbox):
    """`Adapter` for Telegram. `platform` is "telegram"; ids are Telegram's, as strings."""

    platform = PLATFORM

    def __init__(self, options: TelegramOptions, hooks: TelegramHooks | None = None) -> None:
        self.options = options
        self.hooks = hooks or TelegramHooks()
        request = HTTPXRequest(connection_pool_size=64, read_timeout=10.0)
        self.bot = ExtBot(
            options.token,
            base_url=options.api_base_url,
            base_file_url=options.file_url,
            request=request,
            get_updates_request=HTTPXRequest(connection_pool_size=2),
            rate_limiter=AIORateLimiter(max_retries=options.max_retries) if options.rate_limit else None,
        )
        self.sink: EventSink | None = None
        self.bot_id: int | None = None
        self.bot_username: str | None = None
        self._authors: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._usernames: OrderedDict[str, str] = OrderedDict()
        self._admins: dict[str, tuple[float, frozenset[str]]] = {}
        #: Button presses being handled: (group id, member id) -> callback query id.
        self._presses: dict[tuple[str, str], str] = {}
        self._membership: dict[tuple, tuple[float, str]] = {}
        self._poller: Poller | None = None
        self._poll_task: asyncio.Task | None = None
        self._webhook: WebhookServer | None = None
        self._connect_task: asyncio.Task | None = None
        #: Updates handled so far (for status and metrics).
        self.received = 0

    # -- lifecycle ------------------------------------------------------------------
    async def start(self, sink: EventSink) -> None:
        """Connect (`getMe`), then poll or set the webhook.

        A rejected token raises `TelegramStartError` at once; an unreachable Bot API
        is retried with back-off in the background so the rest of the bot starts.
        """
        self.sink = sink
        try:
            await self._connect()
        except InvalidToken as exc:
            raise TelegramStartError(
                "Telegram rejected the bot token: check the environment variable that "
                "[telegram] token_env names (the token comes from @BotFather)"
            ) from exc
        except NetworkError as exc:
            log.warning("telegram: cannot reach the Bot API (%s); retrying in the background", exc)
            self._connect_task = asyncio.create_task(self._connect_later(), name="telegram-connect")

    async def _connect_later(self) -> None:
        retry = Backoff(*self.options.backoff)
        while True:
            await retry.wait()
            try:
                await self._connect()
                return
            except InvalidToken:
                log.error("telegram: the bot token was rejected; Telegram stays off")
                return
            except NetworkError as exc:
                log.warning("telegram: still cannot reach the Bot API: %s", exc)

    async def _connect(self) -> None:
        await self.bot.initialize()
        me = self.bot.bot
        self.bot_id, self.bot_username = me.id, me.username
        o = self.options
        if o.webhook_url:
            path = urlparse(o.webhook_url).path or "/"
            self._webhook = WebhookServer(self.bot, self.handle_update, o.webhook_listen, o.webhook_port, path, o.webhook_secret)
            await self._webhook.start()
            await self.bot.set_webhook(o.webhook_url, secret_token=o.webhook_secret, allowed_updates=list(ALLOWED_UPDATES))
            log.info("telegram: @%s receiving by webhook at %s", self.bot_username, o.webhook_url)
            return
        # A webhook left over from an earlier deployment makes getUpdates fail (409).
        await self.bot.delete_webhook(drop_pending_updates=False)
        self._poller = Poller(self.bot, self.handle_update, ALLOWED_UPDATES, o.poll_timeout, o.backoff)
        self._poll_task = asyncio.create_task(self._poller.run(), name="telegram-poll")
        self._poll_task.add_done_callback(_log_end)
        log.info("telegram: @%s polling", self.bot_username)

    async def stop(self, ack: bool = True) -> None:
        """Stop receiving; handlers in flight finish; release connections.

        `ack=False` skips acknowledging the last handled updates (they are redelivered
        and stored once) - what a crash looks like to Telegram; tests use it.
        """
        if self._connect_task is not None:
            self._connect_task.cancel()
            await asyncio.gather(self._connect_task, return_exceptions=True)
            self._connect_task = None
        if self._poller is not None:
            await self._poller.stop(self._poll_task, ack=ack)
            self._poller = self._poll_task = None
        if self._webhook is not None:
            await self._webhook.stop()
            self._webhook = None
        try:
            await self.bot.shutdown()
        except TelegramError:
            log.warning("telegram: shutdown failed", exc_info=True)

    @property
    def webhook_port(self) -> int | None:
        """The port the webhook server listens on (None in polling mode)."""
        return self._webhook.bound_port if self._webhook is not None else None

    def handled(self, update_id: int) -> bool:
        """True once every update up to `update_id` was handled (polling mode)."""
        mark = self._poller.watermark() if self._poller is not None else None
        return mark is not None and mark > update_id

    # -- receiving ------------------------------------------------------------------
    async def handle_update(self, update: Update) -> None:
        """Translate one update and give its events to the sink, in order.

        Returns only after the sink returned (the event is stored); raising means the
        update must be redelivered.
        """
        assert self.sink is not None, "handle_update() before start()"
        self.received += 1
        ctx = TranslateContext(self.bot_id, self.bot_username, datetime.now(UTC), self._authors, self._usernames)
        mr = update.message_reaction
        if mr is not None:
            key = (str(mr.chat.id), str(mr.message_id))
            if key not in self._authors:
                author = await self.hooks.lookup_author(*key)
                if author:
                    ctx.authors = {key: author}
        events = to_event(update, ctx)
        press = update.callback_query
        for ev in events:
            if self._seen_membership(ev):
                continue
            self._remember(ev)
            ev = await self._before_sink(ev)
            if press is not None and ev.kind is EventKind.BUTTON:
                self._presses[(ev.group_id, ev.member_id or "")] = press.id
            try:
                await self.sink(ev)
            finally:
                if press is not None:
                    await self._answer_press(ev.group_id, ev.member_id or "")
            await self._after_sink(ev)
        if press is not None and not events:
            await self._safe(self.bot.answer_callback_query(press.id))

    def _seen_membership(self, ev) -> bool:
        """True for the second report of one join or leave.

        A join can reach the bot twice: as a service message ("Bob joined", keyed by its
        message id so it matches the chat export) and as a `chat_member` update (keyed
        by time). Whichever comes second within `MEMBERSHIP_WINDOW` seconds is dropped.
        """
        if ev.kind not in (EventKind.JOIN, EventKind.LEAVE):
            return False
        now = time.monotonic()
        key = (ev.group_id, ev.member_id, ev.kind)
        seen = self._membership.get(key)
        via = ev.data.get("via")
        if seen is not None and now - seen[0] < MEMBERSHIP_WINDOW and seen[1] != via:
            return True
        self._membership[key] = (now, via)
        if len(self._membership) > MEMORY:
            cutoff = now - MEMBERSHIP_WINDOW
            self._membership = {k: v for k, v in self._membership.items() if v[0] >= cutoff}
        return False

    def _remember(self, ev) -> None:
        if ev.member_id and ev.message_id and ev.kind in (EventKind.MESSAGE, EventKind.COMMAND):
            self._authors[(ev.group_id, ev.message_id)] = ev.member_id
            if len(self._authors) > MEMORY:
                self._authors.popitem(last=False)
        if ev.username and ev.member_id:
            self._usernames[ev.username.casefold()] = ev.member_id
            if len(self._usernames) > MEMORY:
                self._usernames.popitem(last=False)

    async def _before_sink(self, ev):
        service = ev.data.get("service")
        if service == "admin_change":
            self._admins.pop(ev.group_id, None)
        if service in ("migrate_to_chat_id", "migrate_from_chat_id"):
            other = ev.data["chat_id"]
            old, new = (ev.group_id, other) if service == "migrate_to_chat_id" else (other, ev.group_id)
            # Move the group before storing, so the notice lands in the moved group;
            # both notices (old chat and new chat) share one key and are stored once.
            await self.hooks.on_migrate(old, new)
            self._admins.pop(old, None)
            ev = ev.with_(group_id=new, key=f"migrate:{old}")
        return ev

    async def _after_sink(self, ev) -> None:
        if ev.data.get("service") != "bot_status":
            return
        status = ev.data.get("new")
        if status in ("left", "kicked"):
            await self.hooks.on_group_gone(ev.group_id)
        elif status in ("member", "administrator", "creator"):
            await self.hooks.on_group_back(ev.group_id)
        self._admins.pop(ev.group_id, None)

    async def _answer_press(self, group_id: str, member_id: str) -> None:
        """Answer a button press nobody answered (stops the client's spinner)."""
        qid = self._presses.pop((group_id, member_id), None)
        if qid is not None:
            await self._safe(self.bot.answer_callback_query(qid))

    # -- admins -----------------------------------------------------------------------
    async def is_admin(self, group_id: str, member_id: str) -> bool:
        """Whether the member is among the chat's administrators (cached for a short TTL)."""
        if member_id == group_id:
            return True  # an anonymous admin speaks as the group itself
        if not group_id.startswith("-"):
            return False  # a private chat has no admins
        now = time.monotonic()
        cached = self._admins.get(group_id)
        if cached is None or cached[0] < now:
            try:
                admins = await self.bot.get_chat_administrators(int(group_id))
            except Forbidden:
                await self.hooks.on_group_gone(group_id)
                return False
            except BadRequest as exc:
                log.info("telegram: no admin list for %s: %s", group_id, exc)
                return False
            ids = frozenset(str(a.user.id) for a in admins)
            self._admins[group_id] = (now + self.options.admin_cache_ttl, ids)
            cached = self._admins[group_id]
        return member_id in cached[1]
