"""The admin dashboard as a feature: the `[web]` settings, the `/dashboard` chat command
that sends a private one-time sign-in link, and starting the web server with
`communitybot run` when `[web] enabled = true`.

The pages themselves live in `bot/web/`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapters.base import Reply
from bot.commands import Ctx
from bot.config import register_section, setting
from bot.feedback import is_private
from bot.feedback_texts import texts  # noqa: F401 - registers the catalog

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


@dataclass
class WebSettings:
    """The admin web dashboard."""

    enabled: bool = setting(False, "Serve the dashboard from `communitybot run`.")
    listen: str = setting("127.0.0.1", "Address to listen on (0.0.0.0 for all interfaces; put TLS in front).")
    port: int = setting(8080, "TCP port.")
    public_url: str = setting(
        "", "Base URL in sign-in links, e.g. https://bot.example.org (default http://LISTEN:PORT). "
        "Set it without `enabled` to hand out links for a separate `communitybot web` process."
    )
    link_minutes: int = setting(10, "Minutes a /dashboard sign-in link stays valid (it works once).")
    session_hours: int = setting(12, "Hours a dashboard session lasts.")
    secret_env: str = setting("", "Environment variable with the link-signing key (default: generated and kept in the database).", secret_env=True)

    def check(self) -> str | None:
        """Port in range, positive lifetimes, an http(s) public URL."""
        if not 0 <= self.port <= 65535:
            return f"key 'port' must be 0..65535, got {self.port}"
        if self.link_minutes < 1 or self.session_hours < 1:
            return "keys 'link_minutes' and 'session_hours' must be at least 1"
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            return f"key 'public_url' must start with http:// or https://, got {self.public_url!r}"
        return None


register_section("web", WebSettings, per_group=False)


def auth(app: App):
    """The app's `Auth` (created on first use)."""
    from bot.web.auth import Auth

    a = app.services.get("web_auth")
    if a is None:
        a = app.services["web_auth"] = Auth(app)
    return a


async def _dashboard_cmd(ctx: Ctx) -> list[Reply]:
    app, ev = ctx.app, ctx.event
    s = app.config.section("web")
    if not (s.enabled or s.public_url):
        return [ctx.reply(ctx.t("dash.off"))]
    a = auth(app)
    member = ev.member_id or ""
    groups = await a.admin_groups(ev.platform, member)
    if not groups:
        return [ctx.private(ctx.t("dash.not_admin"))]
    url = await a.issue_link(ev.platform, member, ev.member_name, groups)
    link = ctx.private(ctx.t("dash.link", url=url, minutes=s.link_minutes))
    if is_private(ev):
        return [link]
    # Sent here, not returned, so the group hears whether it really went out (a
    # Telegram bot cannot message someone who never started a chat with it).
    try:
        ok = (await app.send(link)).ok
    except Exception:
        log.exception("sending a dashboard link privately failed")
        ok = False
    return [ctx.reply(ctx.t("dash.sent" if ok else "dash.no_private"))]


def install(app: App) -> None:
    """Register /dashboard; start and stop the web server with the app when enabled."""
    app.router.command("dashboard", usage="/dashboard", help_key="cmd.help.dashboard")(_dashboard_cmd)

    async def start(app_: App) -> None:
        s = app_.config.section("web")
        if s.enabled and "web" not in app_.services:
            from bot.web.server import WebServer

            server = WebServer(app_, s.listen, s.port)
            await server.start()
            app_.services["web"] = server

    async def stop(app_: App) -> None:
        server = app_.services.pop("web", None)
        if server:
            await server.stop()

    app.on_start.append(start)
    app.on_stop.append(stop)
