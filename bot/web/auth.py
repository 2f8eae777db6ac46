"""Passwordless sign-in, sessions and CSRF for the dashboard.

A sign-in link carries a random token with an HMAC signature: a forged or mistyped link
is refused before the database is asked. The database keeps only the token's SHA-256,
its expiry and whether it was used; redeeming it is one atomic UPDATE (single use).
Redeeming starts a session whose cookie is HttpOnly and SameSite=Strict; the session
lists the groups where the member is admin *at that moment* (`app.is_admin`, i.e. the
platform decides), and every form post asks again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.dashboard import DashboardStore, SessionInfo
from storage.store import GroupInfo

if TYPE_CHECKING:
    from bot.app import App

COOKIE = "cb_session"


def sha(text: str) -> str:
    """Hex SHA-256 of a secret, the form in which it is stored."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class LinkCheck:
    """Why a link is (not) usable: ok, or one of bad, expired, used."""

    state: str
    platform: str = ""
    member_id: str = ""
    member_name: str = ""


class Auth:
    """Issues links, redeems them into sessions, and looks sessions up."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.store = DashboardStore(app.store.engine)
        self._key: bytes | None = None

    @property
    def settings(self):
        """The `[web]` section."""
        return self.app.config.section("web")

    def now(self) -> float:
        """Seconds since the epoch on the app's clock (fake in tests)."""
        return self.app.clock.now().timestamp()

    async def key(self) -> bytes:
        """The link-signing key: from the env var `[web] secret_env` names, else one
        generated once and kept in the database."""
        if self._key is None:
            env = self.settings.secret_env
            value = os.environ.get(env) if env else None
            if not value:
                value = await self.store.secret("link_key", lambda: secrets.token_hex(32))
            self._key = value.encode()
        return self._key

    async def _sign(self, nonce: str) -> str:
        return hmac.new(await self.key(), nonce.encode(), hashlib.sha256).hexdigest()[:32]

    async def issue_link(self, platform: str, member_id: str, member_name: str = "", groups: list[GroupInfo] | None = None) -> str:
        """A fresh one-time sign-in URL for the member; `groups` are those the platform
        just confirmed (kept for a dashboard that runs without a platform connection)."""
        nonce = secrets.token_urlsafe(24)
        token = f"{nonce}.{await self._sign(nonce)}"
        ttl = self.settings.link_minutes * 60
        pks = [g.pk for g in groups or []]
        await self.store.add_token(sha(token), platform, member_id, member_name, self.now(), ttl, pks)
        return f"{self.base_url()}/login?t={token}"

    def base_url(self) -> str:
        """`[web] public_url`, else the address this process's server really listens on."""
        server = self.app.services.get("web")
        if not self.settings.public_url and server is not None:
            host = "127.0.0.1" if server.listen in ("0.0.0.0", "::", "") else server.listen
            return f"http://{host}:{server.port}"
        return public_url(self.settings)

    async def _signed(self, token: str) -> bool:
        nonce, _, sig = (token or "").partition(".")
        return bool(nonce and sig) and hmac.compare_digest(sig, await self._sign(nonce))

    async def check_link(self, token: str) -> LinkCheck:
        """Whether a link could be redeemed now (does not use it)."""
        if not await self._signed(token):
            return LinkCheck("bad")
        row = await self.store.peek_token(sha(token))
        if row is None:
            return LinkCheck("bad")
        if row.used_ts is not None:
            return LinkCheck("used")
        if row.expires_ts <= self.now():
            return LinkCheck("expired")
        return LinkCheck("ok", row.platform, row.member_id, row.member_name)

    async def admin_groups(self, platform: str, member_id: str) -> list[GroupInfo]:
        """Active groups on the platform where the member is admin right now."""
        out = []
        for g in await self.app.store.groups():
            if g.platform == platform and g.active and await self.app.is_admin(g, member_id):
                out.append(g)
        return out

    async def redeem(self, token: str) -> tuple[str, str | None]:
        """Use a link: (state, session cookie value). States: ok, bad, used, expired,
        not_admin. The link is spent even when the member turns out not to be admin."""
        check = await self.check_link(token)
        if check.state != "ok":
            return check.state, None
        row = await self.store.use_token(sha(token), self.now())
        if row is None:
            again = await self.check_link(token)
            return (again.state if again.state != "ok" else "used"), None
        if self.can_ask(row.platform):
            groups = await self.admin_groups(row.platform, row.member_id)
        else:
            # No connection to the platform here (`communitybot web` alone): the groups
            # the platform confirmed when /dashboard issued this link, minutes ago.
            known = set(json.loads(row.groups or "[]"))
            groups = [g for g in await self.app.store.groups() if g.pk in known and g.active]
        if not groups:
            return "not_admin", None
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        ttl = self.settings.session_hours * 3600
        await self.store.add_session(
            sha(cookie), row.platform, row.member_id, row.member_name, [g.pk for g in groups], csrf, self.now(), ttl
        )
        for g in groups:
            await self.app.store.audit(g.pk, row.member_id, "dashboard.sign_in", {"platform": row.platform})
        return "ok", cookie

    async def session(self, cookie: str | None) -> SessionInfo | None:
        """The live session behind a cookie value, or None."""
        if not cookie:
            return None
        return await self.store.session(sha(cookie), self.now())

    def can_ask(self, platform: str) -> bool:
        """Whether this process can ask the platform who is admin (an adapter is attached)."""
        return platform in self.app.adapters

    async def still_admin(self, session: SessionInfo, group: GroupInfo) -> bool:
        """Ask the platform again before a change; drop the group from the session if
        the member lost their rights there. Without a platform connection the session's
        groups stand until it expires."""
        if not self.can_ask(group.platform) or await self.app.is_admin(group, session.member_id):
            return True
        await self.store.set_session_groups(session.id, [pk for pk in session.groups if pk != group.pk])
        return False


def csrf_ok(session: SessionInfo, sent: str | None) -> bool:
    """Whether a form carried the session's CSRF token."""
    return bool(sent) and hmac.compare_digest(str(sent), session.csrf)


def public_url(settings) -> str:
    """Base URL used in sign-in links (no trailing slash)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = "127.0.0.1" if settings.listen in ("0.0.0.0", "::", "") else settings.listen
    return f"http://{host}:{settings.port}"
