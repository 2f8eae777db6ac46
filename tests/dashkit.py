"""Shared set-up of the dashboard tests: two communities with different admins, a bot
harness driving them, and an HTTP client speaking to the real FastAPI app in-process."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import httpx

from bot.testing import BotHarness
from bot.web.server import create_app

CONFIG = '[web]\npublic_url = "http://testserver"\n'
EVIL = "<script>alert(1)</script>"


@dataclass
class Dash:
    """The harness, the ASGI app, and the two groups' pks."""

    bot: BotHarness
    fa: object
    g1: int
    g2: int

    def client(self) -> httpx.AsyncClient:
        """A fresh browser (own cookie jar)."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.fa), base_url="http://testserver")

    async def link(self, member: str = "admin", group_id: str = "g1") -> str:
        """Ask the bot for a sign-in link with /dashboard; returns the URL path."""
        replies = await self.bot.replies_to(member, "/dashboard", group_id=group_id)
        private = [r for r in replies if r.private_to == member]
        assert private, [r.text for r in replies]
        url = private[0].text.split()[-1]
        assert url.startswith("http://testserver/login?t=")
        return url.removeprefix("http://testserver")

    async def sign_in(self, client: httpx.AsyncClient, member: str = "admin", group_id: str = "g1") -> str:
        """Sign `client` in as `member`; returns the session's CSRF token."""
        path = await self.link(member, group_id)
        assert (await client.get(path)).status_code == 200
        token = parse_qs(urlparse(path).query)["t"][0]
        r = await client.post("/login", data={"t": token})
        assert r.status_code == 303, r.text
        return await csrf_of(client)


async def csrf_of(client: httpx.AsyncClient) -> str:
    """The CSRF token from the sign-out form of any signed-in page."""
    r = await client.get("/", follow_redirects=True)
    m = re.search(r'name="csrf" value="([^"]+)"', r.text)
    assert m, r.text[:500]
    return m.group(1)


async def make_dash(tmp_path) -> Dash:
    """Two groups: g1 "Course 101" (admin: "admin"), g2 "Design Circle" (admin: "admin2"),
    members chatting in each, a member with a hostile name, and feedback in both."""
    bot = await BotHarness.create(tmp_path, config=CONFIG)
    bot.adapter.admins.add(("g2", "admin2"))
    store = bot.app.store
    await store.ensure_group("fake", "g1", "Course 101")
    await store.ensure_group("fake", "g2", "Design Circle")
    await bot.say("alice", "Hello, where do I find the lesson 3 slides?")
    await bot.say("chen", "They are in the course folder.", reply_to=-1)
    await bot.say("evil", "hi all", name=EVIL)
    await bot.say("admin", "Welcome everyone")
    await bot.say("dora", "Design critique tonight?", group_id="g2")
    await bot.say("admin2", "Yes, at 8.", group_id="g2")
    await bot.ask("alice", "/feedback The refund for my subscription never arrived")
    await bot.ask("evil", f"/feedback {EVIL} please add dark mode", name=EVIL)
    await bot.ask("dora", "/feedback The figma file link is broken", group_id="g2")
    g1 = (await store.group("fake", "g1")).pk
    g2 = (await store.group("fake", "g2")).pk
    return Dash(bot, create_app(bot.app), g1, g2)
