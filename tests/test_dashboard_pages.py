"""Every dashboard page and form over HTTP: no page without a session, no route of
another community (every route is tried with the other community's ids), CSRF on every
form, hostile names escaped, settings validated like /config set."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from tests.dashkit import EVIL, make_dash


@pytest.fixture
async def dash(tmp_path):
    d = await make_dash(tmp_path)
    yield d
    await d.bot.close()


async def other_ids(dash) -> dict[str, str]:
    """Ids of community B's objects, for filling route templates."""
    from bot.feedback import service

    items = await service(dash.bot.app).store.feedback_items(dash.g2)
    ids = {"pk": str(dash.g2), "item_id": str(items[0]["id"]), "member_id": "dora"}
    ids.update(await _feature_ids(dash, dash.g2))
    return ids


async def own_ids(dash) -> dict[str, str]:
    from bot.feedback import service

    items = await service(dash.bot.app).store.feedback_items(dash.g1)
    ids = {"pk": str(dash.g1), "item_id": str(items[-1]["id"]), "member_id": "alice"}
    ids.update(await _feature_ids(dash, dash.g1))
    return ids


async def _feature_ids(dash, pk) -> dict[str, str]:
    """Ids for routes of features other helpers build (flags, events, rewards)."""
    from tests.dashkit_features import feature_ids

    return await feature_ids(dash, pk)


def group_routes(dash) -> list[tuple[str, str]]:
    """(method, path template) of every route about one group."""
    import importlib

    from bot.web.server import PAGE_MODULES

    out = []
    routes = [r for m in PAGE_MODULES for r in importlib.import_module(m).router.routes]
    for r in routes:
        if isinstance(r, APIRoute) and r.path.startswith("/g/{pk}"):
            for m in sorted(r.methods):
                out.append((m, r.path))
    return out


def fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "1"), path)


async def test_the_route_table_covers_every_page(dash):
    paths = {p for _, p in group_routes(dash)}
    for page in ("/g/{pk}/", "/g/{pk}/settings", "/g/{pk}/audit", "/g/{pk}/feedback", "/g/{pk}/feedback/{item_id}"):
        assert page in paths


async def test_no_page_or_form_without_a_session(dash):
    ids = await own_ids(dash)
    async with dash.client() as c:
        assert (await c.get("/")).status_code == 401
        for method, path in group_routes(dash):
            url = fill(path, ids)
            r = await c.request(method, url, data={"csrf": "x"} if method == "POST" else None)
            assert r.status_code == 401, (method, url, r.status_code)
            assert "/dashboard" in r.text  # says how to sign in


async def test_every_get_page_renders_for_the_admin(dash):
    ids = await own_ids(dash)
    async with dash.client() as c:
        await dash.sign_in(c)
        for method, path in group_routes(dash):
            if method != "GET" or path.endswith(".png"):
                continue
            url = fill(path, ids)
            r = await c.get(url)
            assert r.status_code == 200, (url, r.status_code, r.text[:300])
            assert "Course 101" in r.text and "Design Circle" not in r.text


async def test_community_a_admin_cannot_see_or_change_community_b(dash):
    ids = await other_ids(dash)
    before = await _snapshot(dash)
    async with dash.client() as c:
        csrf = await dash.sign_in(c)
        for method, path in group_routes(dash):
            url = fill(path, ids)
            data = {"csrf": csrf, "answer": "hijack", "status": "closed", "category": "billing", "key": "bot.language", "value": "zh-CN", "decision": "spam", "title": "x", "when": "2030-01-01 10:00", "name": "x", "cost": "1"}
            r = await c.request(method, url, data=data if method == "POST" else None)
            assert r.status_code == 404, (method, url, r.status_code)
            assert "Design Circle" not in r.text and "figma" not in r.text
        # B's ids under A's group are not found either (ids are checked against the group).
        for method, path in group_routes(dash):
            if not re.search(r"\{\w+_id\}", path):
                continue
            url = fill(path, {**ids, "pk": str(dash.g1)})
            r = await c.request(method, url, data=data if method == "POST" else None)
            assert r.status_code == 404, (method, url, r.status_code)
    assert await _snapshot(dash) == before
    assert not [r for r in dash.bot.adapter.sent if "hijack" in r.text]


async def _snapshot(dash):
    from bot.feedback import service

    store = dash.bot.app.store
    return (
        await service(dash.bot.app).store.feedback_items(dash.g2),
        await store.get_settings(dash.g2),
        await store.audit_log(dash.g2),
    )


async def test_every_form_needs_the_csrf_token(dash):
    ids = await own_ids(dash)
    async with dash.client() as c:
        csrf = await dash.sign_in(c)
        posts = [p for m, p in group_routes(dash) if m == "POST"]
        assert posts
        for path in posts:
            url = fill(path, ids)
            for data in ({}, {"csrf": "wrong"}, {"csrf": csrf[:-1]}):
                r = await c.post(url, data={**data, "answer": "x", "status": "closed", "key": "bot.language", "value": "zh-CN"})
                assert r.status_code == 403, (url, data, r.status_code)
    assert (await dash.bot.app.store.get_settings(dash.g1)) == {}
    assert not [r for r in dash.bot.adapter.sent if r.text.endswith("\n\nx")]


async def test_a_script_name_is_shown_escaped(dash):
    ids = await own_ids(dash)
    async with dash.client() as c:
        await dash.sign_in(c)
        seen = 0
        for method, path in group_routes(dash):
            if method != "GET" or path.endswith(".png"):
                continue
            r = await c.get(fill(path, {**ids, "member_id": "evil"}))
            assert EVIL not in r.text, path
            seen += "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
        assert seen >= 2  # at least the overview and the feedback inbox show the name


async def test_settings_change_with_the_same_validation_as_config_set(dash):
    async with dash.client() as c:
        csrf = await dash.sign_in(c)
        url = f"/g/{dash.g1}/settings"
        r = await c.post(url, data={"csrf": csrf, "key": "feedback.summary_hour", "value": "25"})
        assert r.status_code == 400 and "summary_hour" in r.text and "0..23" in r.text
        r = await c.post(url, data={"csrf": csrf, "key": "feedback.nope", "value": "1"})
        assert r.status_code == 400 and "unknown key" in r.text
        r = await c.post(url, data={"csrf": csrf, "key": "web.port", "value": "1"})
        assert r.status_code == 400  # not a per-group setting
        r = await c.post(url, data={"csrf": csrf, "key": "feedback.summary_hour", "value": "7"})
        assert r.status_code == 303
        page = await c.get(url)
        assert "this community" in page.text
    assert (await dash.bot.app.store.get_settings(dash.g1)) == {"feedback.summary_hour": 7}
    audit = await dash.bot.app.store.audit_log(dash.g1)
    assert audit[0]["action"] == "config.set" and audit[0]["actor"] == "admin"
    # The chat command sees the same value.
    assert "feedback.summary_hour = 7" in await dash.bot.ask("admin", "/config show feedback")


async def test_a_form_checks_admin_rights_again(dash):
    async with dash.client() as c:
        csrf = await dash.sign_in(c)
        dash.bot.adapter.admins.discard(("g1", "admin"))
        r = await c.post(f"/g/{dash.g1}/settings", data={"csrf": csrf, "key": "feedback.summary_hour", "value": "7"})
        assert r.status_code == 403
        # ...and the group is gone from the session.
        assert (await c.get(f"/g/{dash.g1}/")).status_code == 404
    assert (await dash.bot.app.store.get_settings(dash.g1)) == {}


async def test_audit_page_lists_sign_in_and_changes(dash):
    async with dash.client() as c:
        csrf = await dash.sign_in(c)
        await c.post(f"/g/{dash.g1}/settings", data={"csrf": csrf, "key": "feedback.min_length", "value": "5"})
        r = await c.get(f"/g/{dash.g1}/audit")
        assert "dashboard.sign_in" in r.text and "config.set" in r.text and "feedback.min_length" in r.text
