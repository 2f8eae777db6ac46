"""The health and metrics endpoint: `/healthz` (alive), `/readyz` (database reachable,
each adapter connected, scheduler running) and `/metrics` (Prometheus). Off by default;
`[health] enabled = true` turns it on at `listen:port`."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import text

from bot.config import register_section, setting

log = logging.getLogger(__name__)


@dataclass
class HealthSettings:
    """The health and metrics HTTP endpoint."""

    enabled: bool = setting(False, "Serve /healthz, /readyz and /metrics.")
    listen: str = setting("127.0.0.1", "Address to listen on (0.0.0.0 for all interfaces).")
    port: int = setting(9464, "TCP port.")
    db_timeout: float = setting(2.0, "Seconds /readyz waits for the database before calling it down.")


register_section("health", HealthSettings, per_group=False)


async def readiness(app) -> dict:
    """Each part's state: database, every adapter, the scheduler."""
    settings = app.config.section("health")
    parts: dict[str, bool] = {}
    try:
        async def ping() -> None:
            async with app.store.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        await asyncio.wait_for(ping(), settings.db_timeout)
        parts["database"] = True
    except Exception as exc:  # any failure means not ready; the reason goes to the log
        log.warning("readiness: database unreachable: %s", exc)
        parts["database"] = False
    for name, adapter in app.adapters.items():
        ready = getattr(adapter, "ready", None)
        value = ready() if callable(ready) else (True if ready is None else bool(ready))
        if asyncio.iscoroutine(value):
            value = await value
        parts[f"adapter:{name}"] = bool(value)
        app.metrics.up.labels(name).set(1 if value else 0)
    sched = app.services.get("scheduler")
    if sched is not None:
        running = getattr(sched, "running", None)
        parts["scheduler"] = bool(running() if callable(running) else running)
    return {"ready": all(parts.values()), "parts": parts}


def make_web_app(app) -> web.Application:
    """The aiohttp application serving the three endpoints for `app`."""

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def readyz(_request: web.Request) -> web.Response:
        state = await readiness(app)
        return web.json_response(state, status=200 if state["ready"] else 503)

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(body=app.metrics.render(), content_type="text/plain", charset="utf-8")

    w = web.Application()
    w.router.add_get("/healthz", healthz)
    w.router.add_get("/readyz", readyz)
    w.router.add_get("/metrics", metrics)
    return w


class HealthServer:
    """Runs the endpoint inside the bot's event loop."""

    def __init__(self, app, listen: str, port: int) -> None:
        self.app, self.listen, self.port = app, listen, port
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Bind and serve; the port actually bound is in `self.port` (0 picks one)."""
        self.runner = web.AppRunner(make_web_app(self.app), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.listen, self.port)
        await site.start()
        sockets = site._server.sockets if site._server else []  # noqa: SLF001 - aiohttp keeps it private
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("health endpoint on http://%s:%s", self.listen, self.port)

    async def stop(self) -> None:
        """Stop serving."""
        if self.runner:
            await self.runner.cleanup()


def install(app) -> None:
    """Start the endpoint with the app when `[health] enabled`."""

    async def start(app_) -> None:
        s = app_.config.section("health")
        if s.enabled:
            server = HealthServer(app_, s.listen, s.port)
            await server.start()
            app_.services["health"] = server

    async def stop(app_) -> None:
        server = app_.services.pop("health", None)
        if server:
            await server.stop()

    app.on_start.append(start)
    app.on_stop.append(stop)
