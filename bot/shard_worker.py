"""One shard worker process: a full `App` whose adapters are proxies to the parent.

The parent (`bot.shards`) starts this module with one end of a socketpair. The first
message is ("init", {...}): the config, the database URL, this worker's index and the
platform names. The worker builds an `App` on the same database, registers a
`ProxyAdapter` under each platform name, and then handles ("event", id, event)
messages through its pipeline, answering ("done", id, summary) once the pipeline has
returned, i.e. after the turn's writes are committed: the parent acknowledges the event
to the platform only then.

Replies, actions and admin checks the pipeline makes go back to the parent as
("call", id, platform, method, args) and wait for ("ret", id, ok, value), so the real
adapter (its connection, its rate limits) lives in one process only.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import pickle
import resource
import signal
import socket
import sys
import time
from typing import Any

from adapters.base import Action, EventSink, Reply, Sent
from bot.gctune import tune_for_service
from bot.shard_channel import Channel, ChannelClosed

log = logging.getLogger(__name__)


class ShardCallError(Exception):
    """The parent's adapter raised on a forwarded call; the text names the original error."""


class ProxyAdapter:
    """Stands in for a platform's adapter inside a worker; forwards to the parent."""

    def __init__(self, platform: str, worker: Worker) -> None:
        self.platform = platform
        self.worker = worker

    async def start(self, sink: EventSink) -> None:
        """Nothing to connect: events arrive over the parent's channel."""

    async def stop(self) -> None:
        """Nothing to release."""

    async def send(self, reply: Reply) -> Sent:
        """Send through the parent's real adapter."""
        return await self.worker.call(self.platform, "send", reply)

    async def act(self, action: Action) -> bool:
        """Carry out through the parent's real adapter."""
        return await self.worker.call(self.platform, "act", action)

    async def is_admin(self, group_id: str, member_id: str) -> bool:
        """Ask the parent's real adapter."""
        return await self.worker.call(self.platform, "is_admin", group_id, member_id)


class Worker:
    """The worker side of one shard: receives events, runs the app, answers."""

    def __init__(self, chan: Channel) -> None:
        self.chan = chan
        self.app = None
        self.index = 0
        self._calls: dict[int, asyncio.Future] = {}
        self._call_ids = itertools.count(1)
        self._tasks: set[asyncio.Task] = set()
        self._seq = itertools.count(1)
        self._unacked = 0

    async def call(self, platform: str, method: str, *args: Any) -> Any:
        """Run `method(*args)` on the parent's adapter for `platform`; its result."""
        cid = next(self._call_ids)
        fut = asyncio.get_running_loop().create_future()
        self._calls[cid] = fut
        try:
            self.chan.send(("call", cid, platform, method, args))
            return await fut
        finally:
            self._calls.pop(cid, None)

    async def run(self) -> None:
        """Serve until the parent says stop or goes away; then stop the app cleanly."""
        from bot.app import App

        stream = self.chan.messages_in()
        first = await anext(stream, None)
        if first is None or first[0] != "init":
            raise RuntimeError(f"shard worker expected init, got {first!r}")
        init = first[1]
        self.index = init["index"]
        app = self.app = await App.create(init["config"], init["url"])
        app.shard_index, app.shard_count = init["index"], init["count"]
        if init["count"] > 1 and app.store.dialect == "sqlite":
            app.store.writes.share_with_processes(_lock_path(init["url"]))
        if init.get("bare"):
            app.pipeline.steps = []
        for platform in init["platforms"]:
            app.add_adapter(ProxyAdapter(platform, self))
        await app.start()
        tune_for_service()
        self.chan.send(("ready", self.index, os.getpid()))
        # Reading goes on during the shutdown: turns still in flight wait for the
        # parent's answers to their sends.
        stop = asyncio.Event()
        reader = asyncio.create_task(self._read(stream, stop))
        await stop.wait()
        parent_gone = reader.done()
        await self.shutdown(notify=not parent_gone)
        reader.cancel()

    async def _read(self, stream, stop: asyncio.Event) -> None:
        async for msg in stream:
            kind = msg[0]
            if kind == "event":
                task = asyncio.create_task(self._handle(msg[1], msg[2], next(self._seq)))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            elif kind == "ret":
                fut = self._calls.get(msg[1])
                if fut is not None and not fut.done():
                    if msg[2]:
                        fut.set_result(msg[3])
                    else:
                        fut.set_exception(msg[3])
            elif kind == "stats":
                self.chan.send(("stats", msg[1], self.stats()))
            elif kind == "stop":
                stop.set()
        # Nobody will answer the adapter calls in flight: fail them, so the turns
        # waiting on them finish (their writes are still flushed).
        if not stop.is_set():
            log.warning("shard %d: the parent went away; stopping", self.index)
        self._fail_calls()
        stop.set()

    def _fail_calls(self) -> None:
        for fut in self._calls.values():
            if not fut.done():
                fut.set_exception(ChannelClosed("the shard parent is gone"))

    async def _handle(self, eid: int, event, seq: int) -> None:
        try:
            turn = await self.app.handle(event)
        except Exception as exc:
            log.exception("shard %d: handling %s failed", self.index, getattr(event, "key", "?"))
            self._answer(("fail", eid, _portable(exc)))
            return
        # No per-event CPU figure: process_time() is a system call that sums every thread's
        # time (6 % of a loaded worker's CPU, measured with py-spy), and with turns
        # interleaved it measured the whole process anyway. `stats` reports the total.
        summary = {"worker": self.index, "seq": seq}
        if turn is None:
            summary["spooled"] = True  # the database is away: held in the spool, counts as handled
        else:
            summary.update(new=turn.new, replies=len(turn.replies), actions=len(turn.actions), errors=list(turn.errors))
        self._answer(("done", eid, summary))

    def _answer(self, msg: tuple) -> None:
        try:
            self.chan.send(msg)
        except ChannelClosed:
            self._unacked += 1

    def stats(self) -> dict:
        """CPU, memory and group-commit figures of this process."""
        writes = self.app.store.writes if self.app else None
        return {
            "worker": self.index, "pid": os.getpid(), "cpu": time.process_time(),
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "rounds": writes.rounds if writes else 0, "items": writes.items if writes else 0,
            "fallbacks": writes.fallbacks if writes else 0,
            "leads_scheduler": bool(self.app and getattr(self.app.services.get("scheduler"), "leading", False)),
        }

    async def shutdown(self, notify: bool) -> None:
        """Finish events in flight, stop the app (flushes its writes), say goodbye."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self.app is not None:
            await self.app.stop()
        if self._unacked:
            log.warning("shard %d: %d events were handled after the parent went away; they are stored, and "
                        "count once when the platform delivers them again", self.index, self._unacked)
        if notify:
            try:
                self.chan.send(("stopped", self.stats()))
            except ChannelClosed:
                pass
        self._fail_calls()
        await self.chan.close()


def _lock_path(url: str) -> str:
    """The writers' lock file beside a SQLite database file."""
    from sqlalchemy.engine import make_url

    return f"{make_url(url).database}-writer.lock"


def _portable(exc: BaseException) -> BaseException:
    """`exc` if it survives pickling, else a `ShardCallError` carrying its repr."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return ShardCallError(repr(exc))


async def _amain(fd: int) -> None:
    chan = await Channel.open(socket.socket(fileno=fd))
    await Worker(chan).run()


def main(fd: int) -> int:
    """Entry point of a worker process (`python -c "...main(FD)"`, see `bot.shards`)."""
    # Ctrl-C and a service manager's SIGTERM reach the whole process group; the parent
    # decides when its workers stop (after its adapters), so they must not die first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from bot.logs import setup_logging

    level, _, fmt = os.environ.get("COMMUNITYBOT_SHARD_LOG", "WARNING:text").partition(":")
    setup_logging(level, fmt or "text", sys.stderr)
    try:
        asyncio.run(_amain(fd))
    except Exception:
        log.exception("shard worker failed")
        return 1
    return 0


__all__ = ["ProxyAdapter", "ShardCallError", "Worker", "main"]
