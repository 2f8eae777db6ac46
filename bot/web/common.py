"""What every dashboard page shares: templates (autoescaped), the signed-in check, the
group access check, and form checks (CSRF token, admin rights asked again).

Access rule: a group id in a URL that is not in the session's groups is answered 404,
the same as a group that does not exist, so one community's admin cannot even learn
which ids another community has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from bot.feedback_summary import fmt_duration
from bot.web.auth import COOKIE, Auth, csrf_ok
from bot.web.ui_zh import translator
from storage.dashboard import SessionInfo
from storage.store import GroupInfo

HERE = Path(__file__).parent
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=jinja2.select_autoescape(["html"], default=True),
    undefined=jinja2.StrictUndefined,
)


class NeedSignIn(Exception):
    """No (live) session: the page answers 401 with how to get a link."""


def _when(ts: float | None, tz: str = "UTC") -> str:
    if ts is None:
        return "—"
    try:
        zone = ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.fromtimestamp(ts, UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")


TEMPLATES.filters["when"] = _when
TEMPLATES.filters["duration"] = lambda s: fmt_duration(s, "en")


@dataclass
class Page:
    """One request's context: the app, the session, and the group it is about."""

    request: Request
    session: SessionInfo
    groups: list[GroupInfo]
    group: GroupInfo | None = None
    tz: str = "UTC"
    lang: str = "en"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def app(self):
        """The bot's `App`."""
        return self.request.app.state.bot

    @property
    def auth(self) -> Auth:
        """The dashboard's `Auth`."""
        return self.request.app.state.auth

    def url(self, path: str = "") -> str:
        """A URL inside the current group ("/g/3/members")."""
        return f"/g/{self.group.pk}{path}" if self.group else path

    def render(self, template: str, status_code: int = 200, **kw: Any) -> HTMLResponse:
        """Render a template with the page's context."""
        ctx = {
            "page": self,
            "session": self.session,
            "group": self.group,
            "groups": self.groups,
            "csrf": self.session.csrf,
            "tz": self.tz,
            "web_only": (self.group.platform not in self.app.adapters) if self.group else not self.app.adapters,
            "notice": self.request.query_params.get("notice", ""),
            "_": translator(self.lang),
            **kw,
        }
        return HTMLResponse(TEMPLATES.get_template(template).render(**ctx), status_code=status_code)


def render_plain(template: str, status_code: int = 200, **kw: Any) -> HTMLResponse:
    """A page outside any session (sign-in, errors)."""
    kw.setdefault("session", None)
    kw.setdefault("group", None)
    kw.setdefault("groups", [])
    kw.setdefault("notice", "")
    kw.setdefault("web_only", False)
    kw.setdefault("_", translator("en"))
    return HTMLResponse(TEMPLATES.get_template(template).render(**kw), status_code=status_code)


async def signed_in(request: Request) -> Page:
    """The page context of a signed-in admin, or `NeedSignIn`."""
    auth: Auth = request.app.state.auth
    session = await auth.session(request.cookies.get(COOKIE))
    if session is None:
        raise NeedSignIn()
    all_groups = {g.pk: g for g in await request.app.state.bot.store.groups()}
    groups = [all_groups[pk] for pk in session.groups if pk in all_groups]
    return Page(request, session, groups)


async def group_page(request: Request, pk: int) -> Page:
    """The page context for group `pk`; 404 unless the session covers it."""
    page = await signed_in(request)
    group = next((g for g in page.groups if g.pk == pk), None)
    if group is None:
        raise HTTPException(404, "No such community here.")
    page.group = group
    app = request.app.state.bot
    page.tz = group.timezone or (await app.settings("bot", group)).timezone
    page.lang = await app.language(group)
    return page


async def checked_form(page: Page) -> dict[str, str]:
    """The posted form, after its CSRF token and the admin's rights are checked."""
    form = await page.request.form()
    if not csrf_ok(page.session, form.get("csrf")):  # type: ignore[arg-type]
        raise HTTPException(403, "The form's security token is missing or wrong. Reload the page and try again.")
    if page.group is not None and not await page.auth.still_admin(page.session, page.group):
        raise HTTPException(403, "You are no longer an admin of this community.")
    return {k: str(v) for k, v in form.items()}


def int_or_404(value: str | int) -> int:
    """A path or form id as int; anything else is a 404."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise HTTPException(404, "Not found.") from None
