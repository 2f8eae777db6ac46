"""Members: a sortable, searchable leaderboard and one member's page."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from bot.web.common import group_page
from bot.web.members_data import SORTS, member_detail, member_rows, search, sort_rows

router = APIRouter()

#: (sort key, column label, numeric)
COLUMNS = [
    ("name", "Member", False),
    ("activity", "Activity", True),
    ("influence", "Influence", True),
    ("points", "Points", True),
    ("messages", "Messages", True),
    ("replies", "Replies got", True),
    ("last", "Last seen", True),
    ("joined", "First seen", True),
]


@router.get("/g/{pk}/members", response_class=HTMLResponse)
async def members(request: Request, pk: int, sort: str = "", dir: str = "", q: str = "") -> HTMLResponse:
    page = await group_page(request, pk)
    rows = await member_rows(page.app, page.group)
    has = {k for r in rows for k in ("activity", "influence", "points") if r.get(k) is not None}
    columns = [c for c in COLUMNS if c[0] not in ("activity", "influence", "points") or c[0] in has]
    default = "activity" if "activity" in has else "messages"
    sort = sort if sort in SORTS and any(c[0] == sort for c in columns) else default
    desc = (dir or ("asc" if sort == "name" else "desc")) == "desc"
    shown = sort_rows(search(rows, q), sort, desc)
    return page.render(
        "members.html", nav="members", rows=shown[:500], total=len(rows), matched=len(shown), q=q,
        sort=sort, desc=desc, columns=columns, missing=[c for c in ("activity", "influence", "points") if c not in has],
    )


@router.get("/g/{pk}/members/{member_id}", response_class=HTMLResponse)
async def member(request: Request, pk: int, member_id: str) -> HTMLResponse:
    page = await group_page(request, pk)
    d = await member_detail(page.app, page.group, member_id)
    if d is None:
        raise HTTPException(404, "No such member in this community.")
    return page.render("member.html", nav="members", m=d)
