"""Dashboard sign-in over HTTP: /dashboard links, single use, expiry, forged links,
the admin check at session start, cookie flags, sign-out, session expiry."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.dashkit import make_dash


@pytest.fixture
async def dash(tmp_path):
    d = await make_dash(tmp_path)
    yield d
    await d.bot.close()


def _token(path: str) -> str:
    return parse_qs(urlparse(path).query)["t"][0]


async def test_dashboard_command_sends_the_link_privately(dash):
    replies = await dash.bot.replies_to("admin", "/dashboard")
    private = [r for r in replies if r.private_to == "admin"]
    public = [r for r in replies if not r.private_to]
    assert len(private) == 1 and "http://testserver/login?t=" in private[0].text
    assert "10 minutes" in private[0].text
    # The group only learns that a link was sent, never the link.
    assert public and all("login?t=" not in r.text for r in public)


async def test_when_the_private_message_fails_the_group_is_told(dash):
    dash.bot.adapter.fail_sends = 1
    replies = await dash.bot.replies_to("admin", "/dashboard")
    assert [r.text for r in replies if not r.private_to] == ["I could not message you privately: start a private chat with me first, then try again."]
    assert all("login?t=" not in r.text for r in replies)


async def test_a_member_who_is_not_admin_gets_no_link(dash):
    replies = await dash.bot.replies_to("alice", "/dashboard")
    assert all("login?t=" not in r.text for r in replies)
    assert any("not an admin" in r.text for r in replies)


async def test_sign_in_then_pages_open(dash):
    async with dash.client() as c:
        assert (await c.get(f"/g/{dash.g1}/")).status_code == 401
        await dash.sign_in(c)
        r = await c.get("/", follow_redirects=True)
        assert r.status_code == 200 and str(r.url).endswith(f"/g/{dash.g1}/")
        assert "Course 101" in r.text


async def test_the_login_cookie_is_httponly_and_samesite(dash):
    path = await dash.link()
    async with dash.client() as c:
        r = await c.post("/login", data={"t": _token(path)})
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie


async def test_a_link_works_once(dash):
    path = await dash.link()
    async with dash.client() as c:
        assert (await c.post("/login", data={"t": _token(path)})).status_code == 303
    async with dash.client() as other:
        r = await other.post("/login", data={"t": _token(path)})
        assert r.status_code == 403 and "already used" in r.text
        assert (await other.get(path)).status_code == 403
        assert (await other.get(f"/g/{dash.g1}/")).status_code == 401


async def test_showing_the_link_page_does_not_spend_it(dash):
    """Chat apps fetch links for previews: GET must not use the token."""
    path = await dash.link()
    async with dash.client() as c:
        for _ in range(3):
            assert (await c.get(path)).status_code == 200
        assert (await c.post("/login", data={"t": _token(path)})).status_code == 303


async def test_an_expired_link_is_refused(dash):
    path = await dash.link()
    await dash.bot.later(10 * 60 + 1)
    async with dash.client() as c:
        r = await c.get(path)
        assert r.status_code == 403 and "expired" in r.text
        r = await c.post("/login", data={"t": _token(path)})
        assert r.status_code == 403 and "expired" in r.text
        assert (await c.get(f"/g/{dash.g1}/")).status_code == 401


async def test_a_link_just_inside_ten_minutes_works(dash):
    path = await dash.link()
    await dash.bot.later(10 * 60 - 5)
    async with dash.client() as c:
        assert (await c.post("/login", data={"t": _token(path)})).status_code == 303


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),  # signature changed
    lambda t: "x" + t,  # nonce changed
    lambda t: t.split(".")[0],  # signature missing
    lambda t: "",
])
async def test_forged_or_damaged_links_are_refused(dash, mangle):
    token = mangle(_token(await dash.link()))
    async with dash.client() as c:
        assert (await c.get(f"/login?t={token}")).status_code == 403
        assert (await c.post("/login", data={"t": token})).status_code == 403


async def test_admin_rights_are_checked_again_when_the_session_starts(dash):
    path = await dash.link()
    dash.bot.adapter.admins.discard(("g1", "admin"))
    async with dash.client() as c:
        r = await c.post("/login", data={"t": _token(path)})
        assert r.status_code == 403 and "not an admin" in r.text
        assert (await c.get(f"/g/{dash.g1}/")).status_code == 401


async def test_a_session_covers_only_groups_where_the_member_is_admin(dash):
    async with dash.client() as c:
        await dash.sign_in(c, "admin2", "g2")
        assert (await c.get(f"/g/{dash.g2}/")).status_code == 200
        assert (await c.get(f"/g/{dash.g1}/")).status_code == 404
    dash.bot.adapter.admins.add(("g2", "admin"))
    async with dash.client() as c:
        await dash.sign_in(c)
        home = await c.get("/")
        assert home.status_code == 200 and "Course 101" in home.text and "Design Circle" in home.text


async def test_sign_out_ends_the_session(dash):
    async with dash.client() as c:
        csrf = await dash.sign_in(c)
        assert (await c.post("/logout", data={})).status_code == 403  # no CSRF token
        assert (await c.get(f"/g/{dash.g1}/")).status_code == 200
        r = await c.post("/logout", data={"csrf": csrf})
        assert r.status_code == 303
        cookie = c.cookies.get("cb_session")
        assert cookie is None
    async with dash.client() as c:
        await dash.sign_in(c)
        old = c.cookies.get("cb_session")
        await c.post("/logout", data={"csrf": await _csrf(c)})
        c.cookies.set("cb_session", old)  # a copied cookie is dead too
        assert (await c.get(f"/g/{dash.g1}/")).status_code == 401


async def _csrf(c):
    from tests.dashkit import csrf_of

    return await csrf_of(c)


async def test_sessions_expire(dash):
    async with dash.client() as c:
        await dash.sign_in(c)
        await dash.bot.later(12 * 3600 + 1)
        assert (await c.get(f"/g/{dash.g1}/")).status_code == 401


async def test_responses_carry_a_strict_content_security_policy(dash):
    async with dash.client() as c:
        r = await c.get("/login?t=x")
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
