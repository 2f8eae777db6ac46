"""Dashboard forms that act through other features' own handlers, over HTTP: a
moderation decision bans on the platform, edits the alert and trains the classifier
exactly like the chat button; events are created, edited and cancelled with their
announcement; redemptions are approved and denied with the member told privately.
Skipped where those features are not in the build."""

from __future__ import annotations

import re

import pytest

from adapters.base import ActionKind
from tests.dashkit import make_dash
from tests.dashkit_features import SPAM, feature_ids


@pytest.fixture
async def dash(tmp_path):
    d = await make_dash(tmp_path)
    await feature_ids(d, d.g1)
    yield d
    await d.bot.close()


async def test_a_spam_decision_on_the_web_acts_like_the_chat_button(dash):
    app = dash.bot.app
    svc = app.services["moderation"]
    ids = await feature_ids(dash, dash.g1)
    fid = int(ids["flag_id"])
    before = svc.model.probability(SPAM)
    edits_before = len([r for r in dash.bot.adapter.sent if r.edit_message_id])
    async with dash.client() as c:
        csrf = await dash.sign_in(c)
        page = await c.get(f"/g/{dash.g1}/moderation")
        assert f'id="flag-{fid}"' in page.text and "Earn $500" in page.text
        r = await c.post(f"/g/{dash.g1}/moderation/{fid}", data={"csrf": csrf, "decision": "spam"})
        assert r.status_code == 303 and "Decided" in r.headers["location"]
        # Decided once: a second decision changes nothing.
        n_actions = len(dash.bot.adapter.actions)
        await c.post(f"/g/{dash.g1}/moderation/{fid}", data={"csrf": csrf, "decision": "ham"})
        assert len(dash.bot.adapter.actions) == n_actions
    kinds = [(a.kind, a.member_id) for a in dash.bot.adapter.actions]
    assert (ActionKind.BAN, "spammer") in kinds and (ActionKind.DELETE, "spammer") in kinds
    flag = await svc.store.flag(fid)
    assert flag["status"] == "spam" and flag["decided_by"] == "admin"
    assert (1, SPAM) in await svc.store.labels()  # the classifier learned
    assert svc.model.probability(SPAM) >= before
    assert len([r for r in dash.bot.adapter.sent if r.edit_message_id]) == edits_before + 1  # alert edited
    audit = await app.store.audit_log(dash.g1)
    assert any(a["action"] == "mod.spam" and a["actor"] == "admin" for a in audit)


async def test_a_moderation_decision_needs_the_admin_on_the_platform(dash):
    ids = await feature_ids(dash, dash.g1)
    async with dash.client() as c:
        csrf = await dash.sign_in(c)
        dash.bot.adapter.admins.discard(("g1", "admin"))
        r = await c.post(f"/g/{dash.g1}/moderation/{ids['flag_id']}", data={"csrf": csrf, "decision": "spam"})
        assert r.status_code == 403
    assert not [a for a in dash.bot.adapter.actions if a.kind is ActionKind.BAN]


async def test_create_edit_and_cancel_an_event(dash):
    async with dash.client() as c:
        csrf = await dash.sign_in(c)
        url = f"/g/{dash.g1}/events"
        start = len(dash.bot.adapter.sent)
        r = await c.post(url, data={"csrf": csrf, "title": 'Demo "day"', "date": "2026-12-20", "time": "19:00", "minutes": "90", "description": "Show your project"})
        assert r.status_code == 303
        ann = [s for s in dash.bot.adapter.sent[start:] if s.buttons and "Demo" in s.text]
        assert len(ann) == 1 and ann[0].group_id == "g1" and not ann[0].private_to
        page = await c.get(url)
        eid = max(int(x) for x in re.findall(r'id="event-(\d+)"', page.text))
        assert 'Demo &#34;day&#34;' in page.text or "Demo &quot;day&quot;" in page.text
        bad = await c.post(f"{url}/{eid}/edit", data={"csrf": csrf, "title": "Demo day", "date": "2020-01-01", "time": "10:00", "minutes": "60"})
        assert bad.status_code == 400 and "past" in bad.text
        r = await c.post(f"{url}/{eid}/edit", data={"csrf": csrf, "title": "Demo day", "date": "2026-12-21", "time": "18:30", "minutes": "60", "description": ""})
        assert r.status_code == 303
        page = await c.get(url)
        assert "2026-12-21 18:30" in page.text
        assert any(s.edit_message_id and "Demo day" in s.text for s in dash.bot.adapter.sent)  # announcement follows
        r = await c.post(f"{url}/{eid}/cancel", data={"csrf": csrf})
        assert r.status_code == 303
        assert "cancelled" in (await c.get(url)).text
    actions = [a["action"] for a in await dash.bot.app.store.audit_log(dash.g1)]
    assert {"events.add", "events.edit", "events.cancel"} <= set(actions)


async def test_event_page_shows_rsvps(dash):
    async with dash.client() as c:
        await dash.sign_in(c)
        page = await c.get(f"/g/{dash.g1}/events")
        assert "Office hours" in page.text and "Going 1" in page.text and "maybe 1" in page.text
        # During the event, a member checks in: the page shows the attendance.
        from datetime import UTC, datetime

        await dash.bot.later(datetime(2026, 12, 10, 18, 5, tzinfo=UTC) - dash.bot.clock.now())
        assert "Office hours" in await dash.bot.ask("chen", "/checkin")
        await dash.sign_in(c)  # weeks passed: the old session expired
        page = await c.get(f"/g/{dash.g1}/events")
        assert "attended 1" in page.text and "Attendance" in page.text


async def test_approve_and_deny_redemptions(dash):
    ids = await feature_ids(dash, dash.g1)
    async with dash.client() as c:
        csrf = await dash.sign_in(c)
        page = await c.get(f"/g/{dash.g1}/rewards")
        assert "sticker" in page.text and f'id="redemption-{ids["redemption_id"]}"' in page.text
        start = len(dash.bot.adapter.sent)
        r = await c.post(f"/g/{dash.g1}/redemptions/{ids['redemption_id']}", data={"csrf": csrf, "decision": "approve"})
        assert r.status_code == 303
        dm = [s for s in dash.bot.adapter.sent[start:] if s.private_to == "alice"]
        assert len(dm) == 1 and "sticker" in dm[0].text
        assert "approved" in (await c.get(f"/g/{dash.g1}/rewards")).text
        # A second redemption, denied.
        await dash.bot.say("alice", "/redeem sticker")
        page = await c.get(f"/g/{dash.g1}/rewards")
        pending = re.findall(r'action="/g/\d+/redemptions/(\d+)"', page.text)
        assert pending
        r = await c.post(f"/g/{dash.g1}/redemptions/{pending[0]}", data={"csrf": csrf, "decision": "deny"})
        assert r.status_code == 303 and "denied" in (await c.get(f"/g/{dash.g1}/rewards")).text
        # Catalog: add with stock, bad input refused, remove.
        assert (await c.post(f"/g/{dash.g1}/rewards", data={"csrf": csrf, "name": "mug", "cost": "x"})).status_code == 400
        r = await c.post(f"/g/{dash.g1}/rewards", data={"csrf": csrf, "name": "course mug", "cost": "30", "stock": "2"})
        assert r.status_code == 303
        page = await c.get(f"/g/{dash.g1}/rewards")
        mug = [m for m in re.finditer(r"<tr><td>([^<]+)</td>.*?/rewards/(\d+)/remove", page.text, re.S) if m.group(1) == "course mug"]
        assert mug
        assert (await c.post(f"/g/{dash.g1}/rewards/{mug[0].group(2)}/remove", data={"csrf": csrf})).status_code == 303
        assert "course mug" not in (await c.get(f"/g/{dash.g1}/rewards")).text


async def test_members_show_points_and_scores_when_installed(dash):
    async with dash.client() as c:
        await dash.sign_in(c)
        page = await c.get(f"/g/{dash.g1}/members?sort=points&dir=desc")
        assert "Points" in page.text and "Activity" in page.text
        member = await c.get(f"/g/{dash.g1}/members/alice")
        assert "welcome" in member.text  # points history
        spammer = await c.get(f"/g/{dash.g1}/members/spammer")
        assert "#" in spammer.text and "open" in spammer.text  # the flag on the member page


async def test_without_the_platform_decisions_are_refused_not_faked(dash):
    """`communitybot web` alone: a ban that cannot happen is not recorded as done."""
    from bot.app import App
    from bot.web.server import create_app

    ids = await feature_ids(dash, dash.g1)
    link = await dash.link()
    web = await App.create(dash.bot.app.config, dash.bot.app.store.url, dash.bot.clock)
    try:
        import httpx

        from tests.dashkit import csrf_of

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(web)), base_url="http://testserver") as c:
            token = link.split("t=", 1)[1]
            assert (await c.post("/login", data={"t": token})).status_code == 303
            csrf = await csrf_of(c)
            r = await c.post(f"/g/{dash.g1}/moderation/{ids['flag_id']}", data={"csrf": csrf, "decision": "spam"})
            assert r.status_code == 409 and "without a connection" in r.text
            r = await c.post(f"/g/{dash.g1}/redemptions/{ids['redemption_id']}", data={"csrf": csrf, "decision": "approve"})
            assert r.status_code == 409
        flag = await web.services["moderation"].store.flag(int(ids["flag_id"]))
        assert flag["decided_by"] is None
    finally:
        await web.stop()
