"""The feedback inbox and the members pages over HTTP: answer (delivered privately),
correct a category (the next item is categorised from it), change status, filter;
sort and search members, open a member's page."""

from __future__ import annotations

import re

import pytest

from bot import feedback
from tests.dashkit import make_dash


@pytest.fixture
async def dash(tmp_path):
    d = await make_dash(tmp_path)
    yield d
    await d.bot.close()


async def _item_id(dash, text: str) -> int:
    items = await feedback.service(dash.bot.app).store.feedback_items(dash.g1)
    return next(i["id"] for i in items if text in i["text"])


async def test_answer_from_the_inbox_reaches_the_member_privately(dash):
    iid = await _item_id(dash, "refund")
    async with dash.client() as c:
        csrf = await dash.sign_in(c)
        inbox = await c.get(f"/g/{dash.g1}/feedback?status=new")
        assert "refund for my subscription" in inbox.text and "billing" in inbox.text and "waiting" in inbox.text
        await dash.bot.later(2 * 3600)
        r = await c.post(f"/g/{dash.g1}/feedback/{iid}/answer", data={"csrf": csrf, "answer": "Refunded today."})
        assert r.status_code == 303 and "sent+privately" in r.headers["location"]
        page = await c.get(r.headers["location"])
        assert "Refunded today." in page.text and "delivered" in page.text and "2 h 0 min" in page.text
        assert (await c.post(f"/g/{dash.g1}/feedback/{iid}/answer", data={"csrf": csrf, "answer": "  "})).status_code == 400
        answered = await c.get(f"/g/{dash.g1}/feedback?status=answered")
        assert "refund for my subscription" in answered.text
        assert "refund for my subscription" not in (await c.get(f"/g/{dash.g1}/feedback?status=new")).text
    dm = [r for r in dash.bot.adapter.sent if r.private_to == "alice" and "Refunded today." in r.text]
    assert len(dm) == 1


async def test_a_category_correction_teaches_the_inbox(dash):
    await dash.bot.ask("bob", "/feedback Will we get a certificate after finishing?")
    iid = await _item_id(dash, "certificate")
    async with dash.client() as c:
        csrf = await dash.sign_in(c)
        page = await c.get(f"/g/{dash.g1}/feedback/{iid}")
        assert "uncategorised" in page.text
        r = await c.post(f"/g/{dash.g1}/feedback/{iid}/category", data={"csrf": csrf, "category": "billing", "new_category": "certificates"})
        assert r.status_code == 303
        assert "certificates" in (await c.get(f"/g/{dash.g1}/feedback/{iid}")).text
        await dash.bot.ask("carol", "/feedback When do we receive the certificate after the final?")
        nid = await _item_id(dash, "receive the certificate")
        page = await c.get(f"/g/{dash.g1}/feedback?category=certificates")
        assert f"#{nid}" in page.text and f"#{iid}" in page.text
        r = await c.post(f"/g/{dash.g1}/feedback/{nid}/status", data={"csrf": csrf, "status": "closed"})
        assert r.status_code == 303
        assert (await c.post(f"/g/{dash.g1}/feedback/{nid}/status", data={"csrf": csrf, "status": "gone"})).status_code == 400
        closed = await c.get(f"/g/{dash.g1}/feedback?status=closed")
        assert f"#{nid}" in closed.text
    audit = [a["action"] for a in await dash.bot.app.store.audit_log(dash.g1)]
    assert "feedback.category" in audit and "feedback.status" in audit


async def test_members_sort_and_search(dash):
    async with dash.client() as c:
        await dash.sign_in(c)
        by_msgs = await c.get(f"/g/{dash.g1}/members?sort=messages&dir=desc")
        names = re.findall(r'/members/([^"]+)">', by_msgs.text)
        assert names[0] in ("admin", "alice") and names.index("alice") < names.index("chen")  # 2 messages vs 1
        asc = re.findall(r'/members/([^"]+)">', (await c.get(f"/g/{dash.g1}/members?sort=messages&dir=asc")).text)
        assert asc.index("chen") < asc.index("alice")
        by_name = await c.get(f"/g/{dash.g1}/members?sort=name&dir=asc")
        names = re.findall(r'/members/([^"]+)">([^<]+)</a>', by_name.text)
        shown = [n for _, n in names]
        assert shown == sorted(shown, key=str.casefold)
        found = await c.get(f"/g/{dash.g1}/members?q=CHE")
        assert "/members/chen" in found.text and "/members/alice" not in found.text and "1 of" in found.text
        assert "/members/dora" not in (await c.get(f"/g/{dash.g1}/members?q=dora")).text  # another community's member


async def test_member_page_shows_activity_and_connections(dash):
    async with dash.client() as c:
        await dash.sign_in(c)
        page = await c.get(f"/g/{dash.g1}/members/chen")
        assert page.status_code == 200
        assert "They are in the course folder." in page.text  # recent messages
        assert "/members/alice" in page.text  # chen replied to alice: a connection
        assert (await c.get(f"/g/{dash.g1}/members/nobody")).status_code == 404
        assert (await c.get(f"/g/{dash.g1}/members/dora")).status_code == 404


async def test_a_chinese_community_gets_a_chinese_dashboard(dash):
    await dash.bot.ask("admin", "/config set bot.language zh-CN")
    async with dash.client() as c:
        await dash.sign_in(c)
        page = await c.get(f"/g/{dash.g1}/feedback")
        assert 'lang="zh-CN"' in page.text and "反馈收件箱" in page.text and ">成员<" in page.text
        assert "refund for my subscription" in page.text  # data stays as written
