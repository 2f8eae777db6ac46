"""The application: wires config, store, router, pipeline, adapters and scheduler.

Feature modules listed in `FEATURES` each have `install(app)`, which registers their
commands, pipeline steps and jobs; the app itself knows none of them.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import Any

from adapters.base import Action, Adapter, Reply, Sent
from bot.clock import Clock
from bot.commands import Router
from bot.config import Config, load_config
from bot.i18n import normalise_language
from bot.metrics import Metrics
from bot.pipeline import Pipeline, Turn
from storage.events import Event
from storage.store import EventStore, GroupInfo

log = logging.getLogger(__name__)

#: Feature modules installed into every app, in order. Each has `install(app)`.
FEATURES: list[str] = [
    "bot.health",
    "bot.admin_config",
    "bot.moderation",
    "bot.scoring_feature",
    "bot.points",
    "bot.rewards",
    "bot.scheduler",
    "bot.community",
    "bot.links",
    "bot.feedback",
    "bot.dashboard",
    "bot.privacy",
    "bot.onboarding",
]


class App:
    """One running bot: many groups on many platforms, one store."""

    def __init__(self, config: Config, store: EventStore, clock: Clock | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock or Clock()
        self.router = Router()
        self.metrics = Metrics()
        self.pipeline = Pipeline(self)
        self.adapters: dict[str, Adapter] = {}
        #: Feature singletons by name (moderation engine, score cache, scheduler...).
        self.services: dict[str, Any] = {}
        self.on_start: list = []
        #: Why the app asked to stop itself (a full disk), or None.
        self.fatal: str | None = None
        self._stop_requested: asyncio.Event | None = None
        self.on_stop: list = []
        #: This process's place among shard workers (`bot.shards`); (0, 1) when alone.
        self.shard_index = 0
        self.shard_count = 1
        for name in FEATURES:
            importlib.import_module(name).install(self)

    @classmethod
    async def create(cls, config: Config | None = None, db_url: str | None = None, clock: Clock | None = None) -> App:
        """Open the store (migrating it) and build the app."""
        config = config or load_config(None)
        url = db_url or config.database.url
        store = await EventStore.open(url)
        return cls(config, store, clock)

    @property
    def primary(self) -> bool:
        """Whether this process runs the once-per-bot work (scheduled posts, summaries,
        health and web servers): always when alone, worker 0 among shard workers."""
        return self.shard_index == 0

    def add_adapter(self, adapter: Adapter) -> None:
        """Attach an adapter; its events go through this app's pipeline."""
        self.adapters[adapter.platform] = adapter

    async def handle(self, event: Event) -> Turn:
        """The sink adapters call for every event."""
        return await self.pipeline.handle(event)

    async def start(self) -> None:
        """Start every adapter and the registered start hooks."""
        await self.pipeline.spool.resume()
        for hook in self.on_start:
            await hook(self)
        for adapter in self.adapters.values():
            await adapter.start(self.handle)

    async def stop(self) -> None:
        """Stop adapters first (no new events), then hooks, then the store."""
        for adapter in list(self.adapters.values()):
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping %s failed", adapter.platform)
        for hook in reversed(self.on_stop):
            try:
                await hook(self)
            except Exception:
                log.exception("stop hook failed")
        await self.pipeline.spool.close()
        await self.store.close()

    async def language(self, group: GroupInfo) -> str:
        """The group's reply language: its own setting, its config entry, the default."""
        if group.language:
            return normalise_language(group.language)
        bot = self.config.for_group("bot", group.platform, group.group_id)
        return normalise_language(bot.language)

    async def settings(self, name: str, group: GroupInfo) -> Any:
        """Section `name` as it applies to `group`, chat overrides included."""
        stored = await self.store.get_settings(group.pk)
        return self.config.for_group(name, group.platform, group.group_id, stored)

    async def is_admin(self, group: GroupInfo, member_id: str | None) -> bool:
        """Whether the member is an admin or moderator of the group right now."""
        if member_id is None:
            return False
        adapter = self.adapters.get(group.platform)
        if adapter is not None:
            try:
                return await adapter.is_admin(group.group_id, member_id)
            except Exception:
                log.exception("admin check failed on %s", group.platform)
                return False
        return (await self.store.role(group.pk, member_id)) in ("owner", "admin", "moderator")

    async def send(self, reply: Reply) -> Sent:
        """Send a reply through its platform's adapter."""
        adapter = self.adapters.get(reply.platform)
        if adapter is None:
            log.warning("no adapter for %s; reply dropped: %.80s", reply.platform, reply.text)
            return Sent(None, ok=False, error=f"no adapter for {reply.platform}")
        ok = "false"
        try:
            with self.metrics.platform_call(reply.platform, "edit" if reply.edit_message_id else "send"):
                sent = await adapter.send(reply)
            ok = "true" if sent.ok else "false"
            return sent
        finally:
            self.metrics.replies.labels(reply.platform, ok).inc()

    async def act(self, action: Action) -> bool:
        """Carry out an action through its platform's adapter."""
        adapter = self.adapters.get(action.platform)
        if adapter is None:
            log.warning("no adapter for %s; action %s dropped", action.platform, action.kind)
            return False
        ok = False
        try:
            with self.metrics.platform_call(action.platform, f"act_{action.kind.value}"):
                ok = bool(await adapter.act(action))
            return ok
        finally:
            self.metrics.actions.labels(action.platform, action.kind.value, str(ok).lower()).inc()

    @property
    def stop_requested(self) -> asyncio.Event:
        """Set when the app cannot go on (see `request_stop`); `run` waits on it."""
        if self._stop_requested is None:
            self._stop_requested = asyncio.Event()
        return self._stop_requested

    def request_stop(self, reason: str) -> None:
        """Ask `communitybot run` to stop cleanly, e.g. because the disk is full."""
        self.fatal = self.fatal or reason
        self.stop_requested.set()

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Start, wait until `stop` is set, then stop cleanly."""
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()
