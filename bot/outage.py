"""Riding out a database outage: events go to a bounded local spool, moderators hear
about it once, and the spool is written through, in order, when the database returns.
Nothing is lost (the spool is a file, fsynced) and nothing is counted twice (the store
is idempotent, so a write-through interrupted half way is simply repeated)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from storage.events import Event
from storage.spool import Spool, SpoolFull

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

_NOT_OUTAGE = (sa_exc.IntegrityError, sa_exc.ProgrammingError, sa_exc.DataError, sa_exc.NotSupportedError)


def is_db_down(exc: BaseException) -> bool:
    """True for errors that mean "the database is not there", not "this event is wrong"."""
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated or not isinstance(exc, _NOT_OUTAGE)
    return isinstance(exc, (sa_exc.InterfaceError, ConnectionError, OSError, TimeoutError))


class SpoolKeeper:
    """Holds events while the database is away and replays them when it returns."""

    def __init__(self, app: App, process: Callable[[Event], Awaitable[object]]) -> None:
        self.app = app
        self.process = process
        self._spool: Spool | None = None
        self.active = False
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        #: Called with (app, "down" | "up", detail) once per outage and recovery.
        self.listeners: list[Callable[[App, str, str], Awaitable[None]]] = []

    def _path(self) -> Path:
        path = self._base_path()
        index = getattr(self.app, "shard_index", 0)
        if index:
            # Shard workers (`bot.shards`) each keep a spool of their own: one file, one
            # writer, read back in order by the process that wrote it.
            path = path.with_name(f"{path.stem}.w{index}{path.suffix}")
        return path

    def _base_path(self) -> Path:
        db = self.app.config.section("database")
        if db.spool_path:
            return Path(db.spool_path)
        url = self.app.store.url
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            return Path(url[len("sqlite:///"):]).with_suffix(".spool.db")
        return Path("communitybot-spool.db")

    @property
    def spool(self) -> Spool:
        """The spool file, opened on first use."""
        if self._spool is None:
            self._spool = Spool(self._path(), self.app.config.section("database").spool_max_events)
        return self._spool

    def __len__(self) -> int:
        return len(self.spool) if self._spool or self.active else 0

    async def hold(self, event: Event, exc: BaseException | None = None) -> None:
        """Keep `event` until the database returns (raises `SpoolFull` when full)."""
        try:
            self.spool.put(event)
        except (sqlite3.OperationalError, OSError) as err:
            # The spool cannot be written either (a full disk, usually): refuse the event,
            # so the platform keeps it, and stop cleanly rather than limp on.
            reason = f"cannot store or spool events: {err}"
            log.critical("%s; stopping (free some space and start again)", reason)
            self.app.request_stop(reason)
            raise
        except SpoolFull:
            log.error("database down and the spool is full: event %s in %s:%s NOT stored",
                      event.key, event.platform, event.group_id)
            raise
        if not self.active:
            self.active = True
            detail = f"{type(exc).__name__}: {exc}".splitlines()[0] if exc else "unreachable"
            log.error("database unreachable (%s); holding events in %s", detail, self.spool.path)
            await self._notify("down", detail)
            retry = self.app.config.section("database").retry_seconds
            if retry > 0 and (self._task is None or self._task.done()):
                self._task = asyncio.create_task(self._retry_loop(retry))

    async def _notify(self, state: str, detail: str) -> None:
        for fn in self.listeners:
            try:
                await fn(self.app, state, detail)
            except Exception:
                log.exception("outage listener failed")

    async def _retry_loop(self, every: float) -> None:
        while self.active:
            await asyncio.sleep(every)
            try:
                await self.drain()
            except Exception:
                log.exception("spool write-through failed; retrying")

    async def database_up(self) -> bool:
        """One cheap query: is the database back?"""
        try:
            async with self.app.store.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception as exc:
            if not is_db_down(exc):
                raise
            return False

    async def drain(self) -> int:
        """Write the spool through if the database is back; returns events processed."""
        if not self.active:
            return 0
        async with self._lock:
            if not await self.database_up():
                return 0
            done = 0
            while True:
                batch = self.spool.peek(200)
                if not batch:
                    break
                for sid, event in batch:
                    try:
                        await self.process(event)
                    except Exception as exc:
                        if not is_db_down(exc):
                            raise
                        log.warning("database went away again during write-through; %d events still held", len(self.spool))
                        return done
                    self.spool.remove([sid])
                    done += 1
            self.active = False
            log.warning("database back; %d held events written through", done)
            await self._notify("up", f"{done} held events written through")
            return done

    async def resume(self) -> int:
        """At start: write through events a previous run left in the spool."""
        if not self._path().exists():
            return 0
        if len(self.spool) == 0:
            return 0
        log.warning("%d events held from a previous run; writing them through", len(self.spool))
        self.active = True
        return await self.drain()

    async def close(self) -> None:
        """Stop retrying and close the spool file (what it holds stays on disk)."""
        if self._task:
            self._task.cancel()
        if self._spool:
            self._spool.close()
            self._spool = None
