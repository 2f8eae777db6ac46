"""Several worker processes, groups sharded across them (`[bot] workers` > 1).

One event loop cannot handle 1,000 messages a second with every feature on: the work
is Python on one core. Discord bots shard by guild; this module shards by group. The
parent process keeps the real adapters (their connections and rate limits); each event
goes to worker `shard_of(platform, group_id, N)`, a stable hash, so a group's events
always reach the same worker in arrival order (moderation keeps per-group windows in
memory). Each worker (`bot.shard_worker`) runs a full `App` on the same database; its
adapters are proxies whose send/act/is_admin come back here to the real adapter. The
parent acknowledges an event to the platform (returns from the sink) only when its
worker says it is handled, i.e. stored and its writes committed.

Worker 0 is the primary: it alone runs the scheduler, the feedback summaries and the
health and web servers, so scheduled posts are made once and ports bound once.

Transport: a socketpair per worker, batched pickle frames (`bot.shard_channel`). Workers
are started with `python -c`, not `multiprocessing`, so they import this checkout's code
(PYTHONPATH is set to it) and share no state with the parent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import os
import resource
import socket
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.base import Adapter
from bot.config import Config
from bot.shard_channel import Channel, ChannelClosed
from bot.shard_worker import _portable
from storage.events import Event

log = logging.getLogger(__name__)

#: The directory that holds the `bot` package; workers import from it.
ROOT = Path(__file__).resolve().parent.parent

#: Adapter methods a worker may call through the parent.
FORWARDED = frozenset({"send", "act", "is_admin"})


def shard_of(platform: str, group_id: str, count: int, community: str | None = None) -> int:
    """The worker index of a group: CRC-32 of platform and id (or of its configured
    community's id, so a community's chats share one worker and its in-memory caches),
    so every process and every restart agrees (Python's `hash()` of a str is salted)."""
    key = f"community\x00{community}" if community else f"{platform}\x00{group_id}"
    return zlib.crc32(key.encode()) % count


class WorkerDied(RuntimeError):
    """A shard worker exited unexpectedly; its events in flight were not acknowledged."""


@dataclass(slots=True)
class ShardResult:
    """What the parent learns about one handled event from its worker."""

    worker: int
    seq: int
    new: bool = True
    replies: int = 0
    actions: int = 0
    errors: list[str] = field(default_factory=list)
    spooled: bool = False


@dataclass
class _Shard:
    index: int
    proc: asyncio.subprocess.Process
    chan: Channel
    ready: asyncio.Future
    pending: dict[int, asyncio.Future] = field(default_factory=dict)
    stats: dict[int, asyncio.Future] = field(default_factory=dict)
    final: dict | None = None
    dead: str | None = None
    reader: asyncio.Task | None = None
    stopping: bool = False


class Shards:
    """The parent side: routes events to worker processes and serves their adapter calls.

    Use like an `App` for adapters: `add_adapter`, `start`, `handle` (the sink), `stop`.
    """

    def __init__(self, config: Config, url: str, workers: int, *, bare: bool = False,
                 log_level: str | None = None, log_format: str = "text", start_timeout: float = 120.0) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.config = config
        self.url = url
        self.count = workers
        self.bare = bare
        self.log_level = log_level or logging.getLevelName(logging.getLogger().getEffectiveLevel())
        self.log_format = log_format
        self.start_timeout = start_timeout
        self.adapters: dict[str, Adapter] = {}
        self.shards: list[_Shard] = []
        #: Set when a worker died; `error` says which and how.
        self.failed = asyncio.Event()
        self.error: str | None = None
        self._ids = itertools.count(1)
        self._calls: set[asyncio.Task] = set()
        self._community = {m: c.id for c in config.communities for m in c.members}

    def shard_for(self, platform: str, group_id: str) -> int:
        """The worker that handles this group's events (see `shard_of`)."""
        return shard_of(platform, group_id, self.count, self._community.get((platform, group_id)))

    def add_adapter(self, adapter: Adapter) -> None:
        """Attach a real adapter; workers reach it through their proxies."""
        self.adapters[adapter.platform] = adapter

    # -- start ---------------------------------------------------------------------
    async def start(self) -> None:
        """Migrate the database, start the workers, wait until each is ready, then
        start the adapters with `handle` as their sink."""
        from storage.store import EventStore

        # Migrate once here, so N workers do not race to create the same tables.
        store = await EventStore.open(self.url)
        await store.close()
        self.shards = list(await asyncio.gather(*(self._spawn(i) for i in range(self.count))))
        try:
            await asyncio.wait_for(asyncio.gather(*(s.ready for s in self.shards)), self.start_timeout)
        except BaseException:
            await self.stop()
            raise
        for adapter in self.adapters.values():
            await adapter.start(self.handle)

    async def _spawn(self, index: int) -> _Shard:
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        # This checkout first, then the parent's own import path: the pickled config may
        # name settings classes from modules only the parent's path finds.
        paths = dict.fromkeys([str(ROOT), *(p for p in sys.path if p and os.path.isdir(p))])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env["COMMUNITYBOT_SHARD_LOG"] = f"{self.log_level}:{self.log_format}"
        code = f"import sys; from bot.shard_worker import main; sys.exit(main({theirs.fileno()}))"
        try:
            proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, pass_fds=[theirs.fileno()], env=env, cwd=os.getcwd())
        finally:
            theirs.close()
        shard = _Shard(index, proc, await Channel.open(ours), asyncio.get_running_loop().create_future())
        shard.chan.send(("init", {
            "config": self._worker_config(index), "url": self.url, "index": index, "count": self.count,
            "platforms": sorted(self.adapters), "bare": self.bare,
        }))
        shard.reader = asyncio.create_task(self._read(shard), name=f"shard-{index}-reader")
        return shard

    def _worker_config(self, index: int) -> Config:
        if index == 0:
            return self.config
        # Only the primary binds the health and web ports.
        sections = dict(self.config.sections)
        for name in ("health", "web"):
            if name in sections and getattr(sections[name], "enabled", False):
                sections[name] = dataclasses.replace(sections[name], enabled=False)
        return dataclasses.replace(self.config, sections=sections)

    # -- events --------------------------------------------------------------------
    async def handle(self, event: Event) -> ShardResult:
        """The adapters' sink: route `event` to its group's worker and return once that
        worker has handled it. Raises `WorkerDied` if the worker is gone (so the event
        is not acknowledged and the platform delivers it again later)."""
        shard = self.shards[self.shard_for(event.platform, event.group_id)]
        if shard.dead:
            raise WorkerDied(shard.dead)
        if event.raw is not None:
            event = dataclasses.replace(event, raw=None)  # platform objects stay at the edge
        eid = next(self._ids)
        fut = asyncio.get_running_loop().create_future()
        shard.pending[eid] = fut
        try:
            shard.chan.send(("event", eid, event))
            return await fut
        finally:
            shard.pending.pop(eid, None)

    async def stats(self) -> list[dict]:
        """Each live worker's CPU time, peak memory and group-commit counts."""
        out = []
        for shard in self.shards:
            if shard.dead:
                continue
            sid = next(self._ids)
            fut = shard.stats[sid] = asyncio.get_running_loop().create_future()
            shard.chan.send(("stats", sid))
            out.append(fut)
        return list(await asyncio.gather(*out))

    async def _read(self, shard: _Shard) -> None:
        try:
            async for msg in shard.chan.messages_in():
                kind = msg[0]
                if kind == "done":
                    fut = shard.pending.get(msg[1])
                    if fut is not None and not fut.done():
                        fut.set_result(ShardResult(**msg[2]))
                elif kind == "fail":
                    fut = shard.pending.get(msg[1])
                    if fut is not None and not fut.done():
                        fut.set_exception(msg[2])
                elif kind == "call":
                    task = asyncio.create_task(self._serve(shard, *msg[1:]))
                    self._calls.add(task)
                    task.add_done_callback(self._calls.discard)
                elif kind == "stats":
                    fut = shard.stats.pop(msg[1], None)
                    if fut is not None and not fut.done():
                        fut.set_result(msg[2])
                elif kind == "ready":
                    log.info("shard worker %d ready (pid %d)", msg[1], msg[2])
                    if not shard.ready.done():
                        shard.ready.set_result(msg[2])
                elif kind == "stopped":
                    shard.final = msg[1]
        except Exception:
            log.exception("reading from shard worker %d failed", shard.index)
        await self._ended(shard)

    async def _ended(self, shard: _Shard) -> None:
        """The worker's end of the channel closed: a clean stop, or a death to report."""
        try:
            code = await asyncio.wait_for(shard.proc.wait(), 10)
        except TimeoutError:
            shard.proc.kill()
            code = await shard.proc.wait()
        if shard.stopping and shard.final is not None and code == 0:
            return
        why = f"shard worker {shard.index} (pid {shard.proc.pid}) exited with status {code}"
        if shard.pending:
            why += f"; {len(shard.pending)} events in flight were not acknowledged"
        shard.dead = why
        log.error("%s", why)
        self.error = self.error or why
        self.failed.set()
        for fut in [*shard.pending.values(), *shard.stats.values(), shard.ready]:
            if not fut.done():
                fut.set_exception(WorkerDied(why))

    async def _serve(self, shard: _Shard, cid: int, platform: str, method: str, args: tuple) -> None:
        adapter = self.adapters.get(platform)
        try:
            if adapter is None or method not in FORWARDED:
                raise LookupError(f"no adapter method {platform}.{method} in the shard parent")
            answer = ("ret", cid, True, await getattr(adapter, method)(*args))
        except Exception as exc:
            answer = ("ret", cid, False, _portable(exc))
        try:
            shard.chan.send(answer)
        except ChannelClosed:
            log.debug("shard %d went away before %s returned", shard.index, method)

    # -- stop ----------------------------------------------------------------------
    async def stop(self, timeout: float = 20.0) -> None:
        """Stop the adapters (no new events), then every worker: it finishes the events
        in flight, flushes its writes and exits; a worker that has not exited within
        `timeout` seconds is killed, and that is logged."""
        for adapter in list(self.adapters.values()):
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping %s failed", adapter.platform)
        deadline = time.monotonic() + timeout
        # A worker told to stop still finishes (and acknowledges) the events it has,
        # answering their adapter calls through us, before it stops its app and exits.
        for shard in self.shards:
            shard.stopping = True
            if not shard.dead and not shard.chan.closed:
                try:
                    shard.chan.send(("stop",))
                except ChannelClosed:
                    pass
        readers = [s.reader for s in self.shards if s.reader is not None]
        if readers:
            done, late = await asyncio.wait(readers, timeout=max(0.1, deadline - time.monotonic()))
            for shard in self.shards:
                if shard.reader in late:
                    log.error("shard worker %d (pid %d) did not stop within %.0f s; killing it", shard.index, shard.proc.pid, timeout)
                    shard.proc.kill()
            if late:
                await asyncio.wait(late, timeout=15)
        for shard in self.shards:
            await shard.chan.close()
        if self._calls:
            await asyncio.gather(*list(self._calls), return_exceptions=True)

    def final_stats(self) -> list[dict]:
        """What each worker reported as it stopped (CPU, peak memory, commits)."""
        return [s.final for s in self.shards if s.final is not None]


def parent_usage() -> dict[str, Any]:
    """This process's CPU time and peak memory (the parent's share of a run)."""
    return {"cpu": time.process_time(), "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
