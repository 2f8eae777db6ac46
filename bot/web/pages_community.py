"""Events (create, edit, cancel; RSVPs and attendance) and rewards (catalog; pending
redemptions to approve or deny). Creating, cancelling, approving and denying run the
points feature's own chat handlers (`/event add`, `/event cancel`, `/reward`, the
redeem buttons) through `act_as_admin`; editing an event, which chat has no command
for, reuses its scheduling and announcement functions."""

from __future__ import annotations

import re
import shlex
from urllib.parse import quote_plus

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.web import feature_views as fv
from bot.web.common import checked_form, group_page
from bot.web.dispatch import act_as_admin

router = APIRouter()


def _back(page, path: str, said: list[str] | str) -> RedirectResponse:
    text = said if isinstance(said, str) else " ".join(said)
    return RedirectResponse(page.url(f"{path}?notice={quote_plus((text or 'Done.')[:400])}"), status_code=303)


async def _zone(page):
    from bot.points import zone_of

    return await zone_of(page.app, page.group)


def _event_fields(form: dict[str, str]) -> tuple[str, str, str, int, str]:
    title = form.get("title", "").strip()
    date, time = form.get("date", "").strip(), form.get("time", "").strip()
    desc = " ".join(form.get("description", "").split())
    if not title:
        raise HTTPException(400, "The event needs a title.")
    try:
        minutes = int(form.get("minutes", "60") or 60)
    except ValueError:
        raise HTTPException(400, "Length must be a number of minutes.") from None
    if not 1 <= minutes <= 24 * 60:
        raise HTTPException(400, "Length must be 1 to 1440 minutes.")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) or not re.fullmatch(r"\d{1,2}:\d{2}", time):
        raise HTTPException(400, "Date must be YYYY-MM-DD and time HH:MM.")
    return title[:200], date, time, minutes, desc


@router.get("/g/{pk}/events", response_class=HTMLResponse)
async def events_page(request: Request, pk: int) -> HTMLResponse:
    page = await group_page(request, pk)
    if not fv.has_events(page.app):
        return page.render("missing.html", nav="events", what="Events", feature="community events (issue 7)")
    zone = await _zone(page)
    return page.render("events.html", nav="events", events=await fv.events(page.app, page.group), zone=zone.key)


@router.post("/g/{pk}/events")
async def event_create(request: Request, pk: int) -> Response:
    page = await group_page(request, pk)
    form = await checked_form(page)
    if not fv.has_events(page.app):
        raise HTTPException(404, "Events are not installed.")
    title, date, time, minutes, desc = _event_fields(form)
    cmd = f"/event add {shlex.quote(title)} {date} {time} {minutes}m" + (f" {shlex.quote(desc)}" if desc else "")
    said = await act_as_admin(page, command=cmd)
    return _back(page, "/events", said or f"Event “{title}” created and announced.")


@router.post("/g/{pk}/events/{event_id}/cancel")
async def event_cancel(request: Request, pk: int, event_id: int) -> Response:
    page = await group_page(request, pk)
    await checked_form(page)
    if await fv.event_of(page.app, page.group, event_id) is None:
        raise HTTPException(404, "No such event here.")
    return _back(page, "/events", await act_as_admin(page, command=f"/event cancel {event_id}"))


@router.post("/g/{pk}/events/{event_id}/edit")
async def event_edit(request: Request, pk: int, event_id: int) -> Response:
    page = await group_page(request, pk)
    form = await checked_form(page)
    ev = await fv.event_of(page.app, page.group, event_id)
    if ev is None:
        raise HTTPException(404, "No such event here.")
    if ev.status != "scheduled":
        raise HTTPException(400, "A cancelled event cannot be edited.")
    title, date, time, minutes, desc = _event_fields(form)
    from bot.web.event_edit import edit_event

    try:
        await edit_event(page.app, page.group, ev, title, f"{date} {time}", minutes, desc, page.session.member_id)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return _back(page, "/events", f"Event #{event_id} updated; its announcement and reminders follow the new time.")


@router.get("/g/{pk}/rewards", response_class=HTMLResponse)
async def rewards_page(request: Request, pk: int) -> HTMLResponse:
    page = await group_page(request, pk)
    if not fv.has_rewards(page.app):
        return page.render("missing.html", nav="rewards", what="Rewards", feature="points and rewards (issue 7)")
    return page.render(
        "rewards.html", nav="rewards", catalog=await fv.catalog(page.app, page.group),
        redemptions=await fv.redemptions(page.app, page.group),
    )


@router.post("/g/{pk}/rewards")
async def reward_add(request: Request, pk: int) -> Response:
    page = await group_page(request, pk)
    form = await checked_form(page)
    if not fv.has_rewards(page.app):
        raise HTTPException(404, "Rewards are not installed.")
    name = " ".join(form.get("name", "").split())
    if not name or len(name) > 64:
        raise HTTPException(400, "A reward needs a name of up to 64 characters.")
    cost, stock = form.get("cost", "").strip(), form.get("stock", "").strip()
    if not cost.isdigit() or (stock and not stock.isdigit()):
        raise HTTPException(400, "Cost and stock must be whole numbers (leave stock empty for unlimited).")
    said = await act_as_admin(page, command=f"/reward add {shlex.quote(name)} {cost}" + (f" {stock}" if stock else ""))
    return _back(page, "/rewards", said)


@router.post("/g/{pk}/rewards/{reward_id}/remove")
async def reward_remove(request: Request, pk: int, reward_id: int) -> Response:
    page = await group_page(request, pk)
    await checked_form(page)
    item = next((r for r in await fv.catalog(page.app, page.group) if r.id == reward_id), None)
    if item is None:
        raise HTTPException(404, "No such reward here.")
    return _back(page, "/rewards", await act_as_admin(page, command=f"/reward remove {shlex.quote(item.name)}"))


@router.post("/g/{pk}/redemptions/{redemption_id}")
async def redemption_decide(request: Request, pk: int, redemption_id: int) -> Response:
    page = await group_page(request, pk)
    form = await checked_form(page)
    if await fv.redemption_group(page.app, redemption_id) != page.group.pk:
        raise HTTPException(404, "No such redemption here.")
    decision = form.get("decision", "")
    if decision not in ("approve", "deny"):
        raise HTTPException(400, "decision must be approve or deny")
    said = await act_as_admin(page, payload=f"redeem:{decision}:{redemption_id}")
    return _back(page, "/rewards", said or f"Redemption #{redemption_id}: {decision}d.")
