"""The dashboard's FastAPI application and the uvicorn server that runs it inside the
bot's event loop.

Sign-in: `GET /login?t=…` only shows a button (chat apps fetch links for previews, which
must not spend a one-time link); `POST /login` redeems it and sets the session cookie.
Every page is server-rendered; static files (CSS, a few lines of JS) are served from
`bot/web/static`, nothing from a CDN.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import socket

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bot.web.auth import COOKIE, Auth, csrf_ok
from bot.web.common import HERE, NeedSignIn, render_plain, signed_in

log = logging.getLogger(__name__)

#: Page modules, each with a `router` (APIRouter).
PAGE_MODULES = [
    "bot.web.pages_group",
    "bot.web.pages_members",
    "bot.web.pages_feedback",
    "bot.web.pages_moderation",
    "bot.web.pages_community",
]

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

LINK_PROBLEMS = {
    "bad": "This sign-in link is not valid. Send /dashboard to the bot for a new one.",
    "used": "This sign-in link was already used. Each link works once: send /dashboard to the bot for a new one.",
    "expired": "This sign-in link has expired. Send /dashboard to the bot for a new one.",
    "not_admin": "You are not an admin of any community here any more.",
}


def create_app(app) -> FastAPI:
    """The dashboard for a bot `App`."""
    fa = FastAPI(title="communitybot dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    fa.state.bot = app
    fa.state.auth = app.services.get("web_auth") or Auth(app)
    app.services.setdefault("web_auth", fa.state.auth)
    fa.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @fa.middleware("http")
    async def headers(request: Request, call_next):
        resp = await call_next(request)
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    @fa.exception_handler(NeedSignIn)
    async def need_sign_in(_request: Request, _exc: NeedSignIn) -> HTMLResponse:
        return render_plain("signin_needed.html", 401)

    @fa.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> HTMLResponse:
        return render_plain("error.html", exc.status_code, message=exc.detail, status=exc.status_code)

    @fa.get("/login", response_class=HTMLResponse)
    async def login_page(t: str = "") -> HTMLResponse:
        check = await fa.state.auth.check_link(t)
        if check.state != "ok":
            return render_plain("error.html", 403, message=LINK_PROBLEMS[check.state], status=403)
        return render_plain("login.html", token=t, name=check.member_name or check.member_id, platform=check.platform)

    @fa.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        state, cookie = await fa.state.auth.redeem(str(form.get("t", "")))
        if state != "ok" or cookie is None:
            return render_plain("error.html", 403, message=LINK_PROBLEMS.get(state, state), status=403)
        resp = RedirectResponse("/", status_code=303)
        s = app.config.section("web")
        resp.set_cookie(
            COOKIE, cookie, max_age=s.session_hours * 3600, httponly=True, samesite="strict",
            secure=(s.public_url or "").startswith("https://"), path="/",
        )
        return resp

    @fa.post("/logout")
    async def logout(request: Request) -> Response:
        page = await signed_in(request)
        form = await request.form()
        if not csrf_ok(page.session, form.get("csrf")):  # type: ignore[arg-type]
            raise HTTPException(403, "The form's security token is missing or wrong.")
        await fa.state.auth.store.revoke_session(page.session.id)
        resp = RedirectResponse("/signed-out", status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @fa.get("/signed-out", response_class=HTMLResponse)
    async def signed_out() -> HTMLResponse:
        return render_plain("signed_out.html")

    @fa.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        page = await signed_in(request)
        if len(page.groups) == 1:
            return RedirectResponse(f"/g/{page.groups[0].pk}/", status_code=303)
        return page.render("home.html")

    for name in PAGE_MODULES:
        fa.include_router(importlib.import_module(name).router)
    return fa


class _Server(uvicorn.Server):
    # The bot's own signal handlers stop everything in order; uvicorn must not steal them.
    @contextlib.contextmanager
    def capture_signals(self):
        yield


class WebServer:
    """Serves the dashboard on `listen:port` inside the running event loop."""

    def __init__(self, app, listen: str, port: int) -> None:
        self.app, self.listen, self.port = app, listen, port
        self.server: _Server | None = None
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        """Bind and serve; the port actually bound is in `self.port` (0 picks one)."""
        config = uvicorn.Config(
            create_app(self.app), host=self.listen, port=self.port, log_level="warning",
            access_log=False, lifespan="off", loop="none", timeout_graceful_shutdown=3,
        )
        self.server = _Server(config)
        # Bind here, so a busy port is a clear OSError instead of uvicorn's sys.exit().
        sock = socket.socket(socket.AF_INET6 if ":" in self.listen else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.listen, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(f"dashboard: cannot listen on {self.listen}:{self.port}: {exc.strerror}") from exc
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self.task = asyncio.create_task(self.server.serve(sockets=[sock]))
        while not self.server.started:
            if self.task.done():
                self.task.result()  # re-raise a bind error
                raise RuntimeError("dashboard server stopped before it started")
            await asyncio.sleep(0.02)
        log.info("dashboard on http://%s:%s", self.listen, self.port)

    async def stop(self) -> None:
        """Stop serving and wait for open requests to finish."""
        if self.server and self.task:
            self.server.should_exit = True
            with contextlib.suppress(Exception):
                await self.task
