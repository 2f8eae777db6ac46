"""The feedback inbox: items by status and category, one item with its answer form,
category correction (which teaches the categoriser) and status."""

from __future__ import annotations

import statistics

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot import feedback
from bot.web.common import checked_form, group_page
from storage.dashboard import FEEDBACK_STATUSES

router = APIRouter()


@router.get("/g/{pk}/feedback", response_class=HTMLResponse)
async def inbox(request: Request, pk: int, status: str = "", category: str | None = None) -> HTMLResponse:
    page = await group_page(request, pk)
    svc = feedback.service(page.app)
    if status and status not in FEEDBACK_STATUSES:
        status = ""
    items = await svc.store.feedback_items(page.group.pk, status=status or None, category=category)
    all_items = await svc.store.feedback_items(page.group.pk, limit=10_000)
    waits = [i["first_response_ts"] - i["created_ts"] for i in all_items if i["first_response_ts"] is not None]
    counts = {s: sum(1 for i in all_items if i["status"] == s) for s in FEEDBACK_STATUSES}
    return page.render(
        "feedback.html", nav="feedback", items=items, status=status, category=category,
        categories=await svc.categories(page.group), counts=counts,
        median_wait=statistics.median(waits) if waits else None, now=page.app.clock.now().timestamp(),
    )


async def _item(page, item_id: int) -> dict:
    item = await feedback.service(page.app).store.feedback(page.group.pk, item_id)
    if item is None:
        raise HTTPException(404, "No such feedback item here.")
    return item


@router.get("/g/{pk}/feedback/{item_id}", response_class=HTMLResponse)
async def item_page(request: Request, pk: int, item_id: int) -> HTMLResponse:
    page = await group_page(request, pk)
    item = await _item(page, item_id)
    cat = await feedback.service(page.app).categoriser(page.group)
    guess = cat.predict(item["text"])
    return page.render(
        "feedback_item.html", nav="feedback", item=item, guess=guess, categories=cat.categories,
        statuses=FEEDBACK_STATUSES, error="",
    )


@router.post("/g/{pk}/feedback/{item_id}/answer")
async def answer_post(request: Request, pk: int, item_id: int) -> Response:
    page = await group_page(request, pk)
    form = await checked_form(page)
    await _item(page, item_id)
    text = form.get("answer", "").strip()
    if not text:
        raise HTTPException(400, "The answer is empty.")
    if len(text) > 3500:
        raise HTTPException(400, "The answer is longer than 3500 characters.")
    item = await feedback.answer(page.app, page.group, item_id, text, page.session.member_id)
    notice = "Answer+sent+privately" if item["delivered"] else "Answer+saved;+the+bot+delivers+it+privately+when+it+is+connected+to+the+chat"
    return RedirectResponse(page.url(f"/feedback/{item_id}?notice={notice}"), status_code=303)


@router.post("/g/{pk}/feedback/{item_id}/category")
async def category_post(request: Request, pk: int, item_id: int) -> Response:
    page = await group_page(request, pk)
    form = await checked_form(page)
    await _item(page, item_id)
    category = (form.get("new_category") or form.get("category") or "").strip()
    try:
        await feedback.set_category(page.app, page.group, item_id, category, page.session.member_id)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return RedirectResponse(page.url(f"/feedback/{item_id}?notice=Category+saved"), status_code=303)


@router.post("/g/{pk}/feedback/{item_id}/status")
async def status_post(request: Request, pk: int, item_id: int) -> Response:
    page = await group_page(request, pk)
    form = await checked_form(page)
    await _item(page, item_id)
    try:
        await feedback.set_status(page.app, page.group, item_id, form.get("status", ""), page.session.member_id)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return RedirectResponse(page.url(f"/feedback/{item_id}?notice=Status+saved"), status_code=303)
