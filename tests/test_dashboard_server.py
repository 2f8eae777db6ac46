"""Serving the dashboard: inside `communitybot run` when `[web] enabled`, alone with
`communitybot web` (no platform connection), and `communitybot web-link`."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

from bot import feedback
from bot.app import App
from bot.config import load_config_text
from bot.dashboard import auth
from bot.testing import BotHarness
from bot.web.server import WebServer, create_app

ROOT = Path(__file__).resolve().parents[1]


async def test_the_app_serves_the_dashboard_when_web_is_enabled(tmp_path):
    bot = await BotHarness.create(tmp_path, config="[web]\nenabled = true\nport = 0\n")
    try:
        server = bot.app.services["web"]
        assert isinstance(server, WebServer) and server.port > 0
        link = (await bot.replies_to("admin", "/dashboard"))[0].text.split()[-1]
        # Without public_url the link names the port really bound (port = 0 picks one).
        assert link.startswith(f"http://127.0.0.1:{server.port}/login?t=")
        token = parse_qs(urlparse(link).query)["t"][0]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as c:
            assert (await c.get("/static/style.css")).status_code == 200
            assert (await c.get("/g/1/")).status_code == 401
            r = await c.post("/login", data={"t": token})
            assert r.status_code == 303
            assert (await c.get("/", follow_redirects=True)).status_code == 200
    finally:
        await bot.close()
    assert "web" not in bot.app.services


async def test_a_busy_port_is_a_clear_error(tmp_path):
    bot = await BotHarness.create(tmp_path, config="[web]\nenabled = true\nport = 0\n")
    try:
        port = bot.app.services["web"].port
        other = WebServer(bot.app, "127.0.0.1", port)
        try:
            await other.start()
        except OSError as exc:
            assert f"127.0.0.1:{port}" in str(exc)
        else:
            raise AssertionError("a second server bound the same port")
    finally:
        await bot.close()


async def test_dashboard_alone_uses_the_groups_confirmed_when_the_link_was_issued(tmp_path):
    """`communitybot web` has no platform connection: the platform's answer at /dashboard
    time (≤ 10 minutes old) decides, and forms work without asking again."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    config = load_config_text('[web]\npublic_url = "http://testserver"\n')
    chat = await BotHarness.create(tmp_path, config=config, db_url=url)
    await chat.say("alice", "hello")
    await chat.say("alice", "/feedback the video of lesson 2 has no sound")
    link = next(r for r in await chat.replies_to("admin", "/dashboard") if r.private_to).text.split()[-1]
    await chat.close()

    web = await App.create(config, url, chat.clock)  # no adapters: like `communitybot web`
    try:
        assert not web.adapters
        fa = create_app(web)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fa), base_url="http://testserver") as c:
            r = await c.post("/login", data={"t": parse_qs(urlparse(link).query)["t"][0]})
            assert r.status_code == 303
            page = await c.get("/", follow_redirects=True)
            assert page.status_code == 200 and "without a connection to the chats" in page.text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            pk = (await web.store.group("fake", "g1")).pk
            r = await c.post(f"/g/{pk}/settings", data={"csrf": csrf, "key": "feedback.min_length", "value": "4"})
            assert r.status_code == 303
            iid = (await feedback.service(web).store.feedback_items(pk))[0]["id"]
            r = await c.post(f"/g/{pk}/feedback/{iid}/answer", data={"csrf": csrf, "answer": "Thanks, fixed."})
            assert r.status_code == 303 and "when+it+is+connected" in r.headers["location"]
        assert (await web.store.get_settings(pk)) == {"feedback.min_length": 4}
    finally:
        await web.stop()
    # The bot, connected again, delivers the saved answer privately, once.
    chat = await BotHarness.create(tmp_path, config=config, db_url=url)
    try:
        assert await feedback.deliver_pending(chat.app) == 1
        assert await feedback.deliver_pending(chat.app) == 0
        dm = [r for r in chat.adapter.sent if r.private_to == "alice"]
        assert len(dm) == 1 and "Thanks, fixed." in dm[0].text
    finally:
        await chat.close()


async def _web_link(capsys, *args: str) -> str:
    """Run `communitybot web-link ARGS` in-process; returns what it printed."""
    from bot.cli import build_parser

    ns = build_parser().parse_args(["web-link", *args])
    assert await ns.func(ns) == 0
    return capsys.readouterr().out


async def test_web_link_and_web_commands(tmp_path, capsys):
    from bot.cli import CliError

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    setup = await App.create(load_config_text(""), db)
    g = await setup.store.ensure_group("console", "course", "Course")
    await setup.store.set_role(g.pk, "owner1", "owner")
    await setup.stop()

    try:
        await _web_link(capsys, "--db", db, "--platform", "console", "--member", "nobody")
    except CliError as exc:
        assert "admin of no community" in str(exc)
    else:
        raise AssertionError("a link for a member who is admin nowhere")
    try:
        await _web_link(capsys, "--db", db, "--platform", "console", "--member", "x", "--group", "nope")
    except CliError as exc:
        assert "--group 'nope'" in str(exc)
    else:
        raise AssertionError("a link for an unknown community")
    link = (await _web_link(capsys, "--db", db, "--platform", "console", "--member", "owner1")).strip()
    assert link.startswith("http://127.0.0.1:8080/login?t=")

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "web", "--db", db, "--port", "0", cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
    )
    try:
        line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
        port = int(re.search(r":(\d+) ", line).group(1))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            r = await c.post("/login", data={"t": parse_qs(urlparse(link).query)["t"][0]})
            assert r.status_code == 303
            page = await c.get("/", follow_redirects=True)
            assert page.status_code == 200 and "Course" in page.text
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
    assert proc.returncode == 0


async def test_links_are_signed_with_the_env_secret_when_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("CB_TEST_WEB_KEY", "k" * 40)
    app = await App.create(load_config_text('[web]\nsecret_env = "CB_TEST_WEB_KEY"\n'), f"sqlite:///{tmp_path / 'k.db'}")
    try:
        a = auth(app)
        assert await a.key() == b"k" * 40
        link = await a.issue_link("fake", "m1")
        token = parse_qs(urlparse(link).query)["t"][0]
        assert (await a.check_link(token)).state == "ok"
        a._key = b"another key"  # a link signed with another key is refused before any lookup
        assert (await a.check_link(token)).state == "bad"
    finally:
        await app.stop()
