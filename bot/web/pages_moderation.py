"""The moderation queue: open flags with every verdict and its reason, and the same
three decisions as the chat alert's buttons, carried out by the same handler."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.web import feature_views as fv
from bot.web.common import checked_form, group_page
from bot.web.dispatch import act_as_admin

router = APIRouter()
DECISIONS = ("spam", "mute", "ham")


@router.get("/g/{pk}/moderation", response_class=HTMLResponse)
async def queue(request: Request, pk: int) -> HTMLResponse:
    page = await group_page(request, pk)
    app = page.app
    if not fv.has_moderation(app):
        return page.render("missing.html", nav="moderation", what="The moderation queue", feature="moderation (issue 4)")
    open_, decided = await fv.flags(app, page.group)
    names = await app.store.member_names(page.group.platform)
    return page.render(
        "moderation.html", nav="moderation", flags=open_, decided=decided, names=names,
        mute=await fv.mute_minutes(app, page.group),
    )


@router.post("/g/{pk}/moderation/{flag_id}")
async def decide(request: Request, pk: int, flag_id: int) -> Response:
    page = await group_page(request, pk)
    form = await checked_form(page)
    flag = await fv.flag_of(page.app, page.group, flag_id)
    if flag is None:
        raise HTTPException(404, "No such flag here.")
    decision = form.get("decision", "")
    if decision not in DECISIONS:
        raise HTTPException(400, f"decision must be one of {', '.join(DECISIONS)}")
    said = await act_as_admin(page, payload=f"mod:{decision}:{flag_id}", message_id=flag.get("alert_message_id"))
    after = await fv.flag_of(page.app, page.group, flag_id)
    if after and after.get("decided_by"):
        notice = f"Decided flag #{flag_id}: {after['status']}"
    else:
        notice = " ".join(said) or f"Flag #{flag_id} is unchanged"
    return RedirectResponse(page.url(f"/moderation?notice={_q(notice)}"), status_code=303)


def _q(text: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(text[:300])
