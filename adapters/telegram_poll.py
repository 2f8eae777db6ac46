"""Receiving Telegram updates without losing one: our own `getUpdates` loop, and a
webhook endpoint that answers Telegram only after the update was handled.

Why not PTB's `Updater`: it puts fetched updates on a queue and immediately asks for the
next batch with `offset = last_update_id + 1`, which tells Telegram the previous batch
is delivered before any of it has been stored; on shutdown it acknowledges once more.
A crash between fetching and storing would lose those updates for good. Here the
offset sent to Telegram never passes an update whose handler (which stores the event
first) has not returned. Telegram redelivers anything not acknowledged, and the store
is idempotent on platform ids, so a redelivery after a crash is stored once.

Updates of different chats are handled concurrently (a slow group, for example one
waiting on its per-group rate limit, does not hold up the others); updates of one chat
are handled in order.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

log = logging.getLogger(__name__)

UpdateHandler = Callable[[Update], Awaitable[None]]


def chat_key(update: Update) -> int:
    """The chat an update belongs to (0 when it has none): the unit of ordering."""
    chat = update.effective_chat
    if chat is not None:
        return chat.id
    q = update.callback_query
    if q is not None and q.message is not None:
        return q.message.chat.id
    return 0


def retry_seconds(exc: RetryAfter) -> float:
    """`RetryAfter`'s wait in seconds, whichever type PTB gives it as."""
    # PTB 22 deprecates reading `retry_after` as an int; the timedelta is kept here.
    ra = getattr(exc, "_retry_after", None) or exc.retry_after
    return ra.total_seconds() if hasattr(ra, "total_seconds") else float(ra)


class Backoff:
    """Exponential back-off: `initial`, doubling up to `maximum`; `reset()` on success."""

    def __init__(self, initial: float = 1.0, maximum: float = 60.0) -> None:
        self.initial, self.maximum = initial, maximum
        self.current = initial

    def reset(self) -> None:
        """Back to the initial delay."""
        self.current = self.initial

    async def wait(self) -> None:
        """Sleep the current delay, then double it."""
        await asyncio.sleep(self.current)
        self.current = min(self.maximum, self.current * 2)


class Poller:
    """Long-polls `getUpdates` and acknowledges an update only after `handle` returned.

    `handle` failing (the store is down, say) is retried with back-off, up to
    `max_attempts` times, while the update stays unacknowledged; a poisoned update is
    then logged with its JSON and skipped so one bad update cannot stop a community.
    """

    def __init__(
        self,
        bot: Bot,
        handle: UpdateHandler,
        allowed_updates: tuple[str, ...],
        timeout: float = 30.0,
        backoff: tuple[float, float] = (1.0, 60.0),
        max_attempts: int = 20,
    ) -> None:
        self.bot = bot
        self.handle = handle
        self.allowed_updates = list(allowed_updates)
        self.timeout = timeout
        self.backoff = backoff
        self.max_attempts = max_attempts
        #: Next offset to send: everything below it has been handled.
        self.offset: int | None = None
        self._inflight: set[int] = set()
        self._done: set[int] = set()
        self._max_seen: int | None = None
        self._queues: dict[int, asyncio.Queue[Update]] = {}
        self._workers: dict[int, asyncio.Task] = {}
        self._progress = asyncio.Event()
        self._stopping = False
        self._busy: set[int] = set()

    def watermark(self) -> int | None:
        """The offset that acknowledges exactly the handled prefix of updates."""
        if self._inflight:
            return min(self._inflight)
        return None if self._max_seen is None else self._max_seen + 1

    async def run(self) -> None:
        """Poll until `stop()`; network faults back off and reconnect."""
        net = Backoff(*self.backoff)
        while not self._stopping:
            self.offset = self.watermark() if self.watermark() is not None else self.offset
            try:
                updates = await self.bot.get_updates(
                    offset=self.offset, timeout=int(self.timeout), allowed_updates=self.allowed_updates
                )
            except asyncio.CancelledError:
                raise
            except InvalidToken:
                log.error("Telegram rejected the bot token; polling stops")
                raise
            except RetryAfter as exc:
                await asyncio.sleep(retry_seconds(exc))
                continue
            except Conflict as exc:
                log.warning("getUpdates conflict (another instance, or a webhook is set): %s", exc)
                await net.wait()
                continue
            except (NetworkError, TelegramError) as exc:
                log.warning("getUpdates failed, retrying in %.1fs: %s", net.current, exc)
                await net.wait()
                continue
            net.reset()
            for u in updates:
                uid = u.update_id
                if uid in self._inflight or uid in self._done or (self.offset is not None and uid < self.offset):
                    continue  # redelivered while we still work on it, or already handled
                self._inflight.add(uid)
                self._max_seen = uid if self._max_seen is None else max(self._max_seen, uid)
                self._enqueue(u)
            if self._inflight:
                # Telegram answers from the oldest unacknowledged update on, so polling
                # again now would only fetch (and parse) the same batch. Wait until the
                # batch is handled; a group that stays slow longer than the poll timeout
                # (held by its rate limit, say) does not hold up the others for longer.
                try:
                    await asyncio.wait_for(self._drained(), self.timeout or 1.0)
                except TimeoutError:
                    pass

    async def _drained(self) -> None:
        while self._inflight:
            self._progress.clear()
            await self._progress.wait()

    def _enqueue(self, update: Update) -> None:
        key = chat_key(update)
        q = self._queues.get(key)
        if q is None:
            q = self._queues[key] = asyncio.Queue()
        q.put_nowait(update)
        if key not in self._workers or self._workers[key].done():
            self._workers[key] = asyncio.create_task(self._work(key, q), name=f"telegram-chat-{key}")

    async def _work(self, key: int, q: asyncio.Queue[Update]) -> None:
        while not q.empty() and not self._stopping:
            update = q.get_nowait()
            retry = Backoff(*self.backoff)
            for attempt in range(1, self.max_attempts + 1):
                self._busy.add(key)
                try:
                    await self.handle(update)
                    break
                except Exception:
                    if attempt == self.max_attempts:
                        log.exception(
                            "giving up on update %s after %d attempts: %s",
                            update.update_id, attempt, json.dumps(update.to_dict(), default=str)[:2000],
                        )
                        break
                    log.exception("handling update %s failed (attempt %d); retrying", update.update_id, attempt)
                finally:
                    self._busy.discard(key)
                if self._stopping:
                    return  # stays unacknowledged: redelivered after restart
                await retry.wait()
            self._finish(update.update_id)

    def _finish(self, uid: int) -> None:
        self._inflight.discard(uid)
        self._done.add(uid)
        mark = self.watermark()
        if mark is not None:
            self._done = {d for d in self._done if d >= mark}
        self._progress.set()

    async def stop(self, poll_task: asyncio.Task | None, ack: bool = True) -> None:
        """Stop polling; let handlers in flight finish; acknowledge what was handled.

        With `ack=False` nothing more is acknowledged, as after a crash.
        """
        self._stopping = True
        if poll_task is not None:
            poll_task.cancel()
            await asyncio.gather(poll_task, return_exceptions=True)
        workers = []
        for key, w in self._workers.items():
            if w.done():
                continue
            workers.append(w)
            # Let a handler that is running finish (its event is being stored); a
            # worker only waiting to retry can stop now.
            if key not in self._busy:
                w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        mark = self.watermark()
        if ack and mark is not None and mark != self.offset:
            try:
                await self.bot.get_updates(offset=mark, timeout=0, allowed_updates=self.allowed_updates)
                self.offset = mark
            except TelegramError as exc:
                log.warning("final acknowledgement failed (updates will be redelivered): %s", exc)


class WebhookServer:
    """Receives updates over HTTPS-terminated POSTs from Telegram (aiohttp).

    Each request must carry the secret token in `X-Telegram-Bot-Api-Secret-Token`;
    others get 403. The answer is 200 only after `handle` returned, and 500 if it
    failed, so Telegram redelivers until the update is stored. Updates of one chat are
    handled in order (a lock per chat).
    """

    def __init__(self, bot: Bot, handle: UpdateHandler, listen: str, port: int, path: str, secret: str) -> None:
        self.bot, self.handle = bot, handle
        self.listen, self.port, self.path, self.secret = listen, port, path or "/", secret
        self._locks: dict[int, asyncio.Lock] = {}
        self._runner = None
        self.bound_port = 0

    async def start(self) -> None:
        """Start listening."""
        from aiohttp import web

        app = web.Application()
        app.router.add_post(self.path, self._post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.port)
        await site.start()
        self.bound_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Stop listening; requests in flight finish first."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _post(self, request):
        from aiohttp import web

        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("webhook request from %s with a wrong secret token", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            update = Update.de_json(await request.json(), self.bot)
        except Exception:
            return web.Response(status=400, text="not an update")
        lock = self._locks.setdefault(chat_key(update), asyncio.Lock())
        async with lock:
            try:
                await self.handle(update)
            except Exception:
                log.exception("handling webhook update %s failed; Telegram will redeliver", update.update_id)
                return web.Response(status=500, text="retry")
        return web.Response(status=200, text="ok")
