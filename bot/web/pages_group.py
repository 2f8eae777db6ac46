"""Group pages: overview, settings and the audit log.

Charts on the overview are the same PNGs the report makes (`bot.charts`), served from
`/g/{pk}/chart/{name}.png` when the scoring feature is installed.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.config import ConfigError
from bot.group_settings import group_settings, set_group_setting
from bot.overview import overview
from bot.web.common import checked_form, group_page

router = APIRouter()


async def _feedback_counts(page) -> dict[str, int]:
    from bot.feedback import service

    items = await service(page.app).store.feedback_items(page.group.pk, limit=10_000)
    return {s: sum(1 for i in items if i["status"] == s) for s in ("new", "answered", "closed")}


async def _scoring_summary(page) -> dict | None:
    """Health figures and lifecycle stage from the scoring feature, if installed."""
    svc = page.app.services.get("scoring")
    if svc is None:
        return None
    try:
        from bot.web.scoring_view import summary
    except ImportError:
        return None
    return await summary(page.app, page.group)


@router.get("/g/{pk}/", response_class=HTMLResponse)
async def overview_page(request: Request, pk: int) -> HTMLResponse:
    page = await group_page(request, pk)
    ov = await overview(page.app.store, page.group, top=10)
    peak = max((n for _, n in ov.weekly), default=0) or 1
    return page.render(
        "overview.html", nav="overview", ov=ov, peak=peak, weekly=ov.weekly[-16:],
        feedback=await _feedback_counts(page), scoring=await _scoring_summary(page),
        extras=await _extras(page),
    )


async def _extras(page) -> dict:
    """Counts from other features when they are installed (open flags, events, rewards)."""
    out: dict = {}
    try:
        from bot.web.feature_views import overview_extras
    except ImportError:
        return out
    return await overview_extras(page.app, page.group)


@router.get("/g/{pk}/chart/{name}.png")
async def chart(request: Request, pk: int, name: str) -> Response:
    page = await group_page(request, pk)
    try:
        from bot.web.scoring_view import chart_png
    except ImportError:
        raise HTTPException(404, "Charts need the scoring feature.") from None
    png = await chart_png(page.app, page.group, name)
    if png is None:
        raise HTTPException(404, "No such chart.")
    return Response(png, media_type="image/png")


@router.get("/g/{pk}/settings", response_class=HTMLResponse)
async def settings_page(request: Request, pk: int) -> HTMLResponse:
    page = await group_page(request, pk)
    return _settings(page, await group_settings(page.app, page.group))


def _settings(page, rows, error: str = "", status: int = 200, key: str = "", value: str = "") -> HTMLResponse:
    sections: dict[str, list] = {}
    for r in rows:
        sections.setdefault(r.section, []).append(r)
    return page.render(
        "settings.html", status, nav="settings", sections=sections, error=error, key=key, value=value,
        show=lambda v: json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v,
    )


@router.post("/g/{pk}/settings")
async def settings_post(request: Request, pk: int) -> Response:
    page = await group_page(request, pk)
    form = await checked_form(page)
    key, value = form.get("key", ""), form.get("value", "")
    try:
        await set_group_setting(page.app, page.group, key, value, page.session.member_id)
    except ConfigError as exc:
        return _settings(page, await group_settings(page.app, page.group), str(exc), 400, key, value)
    _drop_caches(page.app, page.group.pk)
    return RedirectResponse(page.url(f"/settings?notice=Saved+{key}"), status_code=303)


def _drop_caches(app, pk: int) -> None:
    svc = app.services.get("scoring")
    drop = getattr(svc, "drop", None)
    if callable(drop):
        drop(pk)


@router.get("/g/{pk}/audit", response_class=HTMLResponse)
async def audit_page(request: Request, pk: int) -> HTMLResponse:
    page = await group_page(request, pk)
    entries = await page.app.store.audit_log(page.group.pk, limit=300)
    names = await page.app.store.member_names(page.group.platform)
    return page.render("audit.html", nav="audit", entries=entries, names=names)


