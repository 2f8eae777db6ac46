"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright,
against the real uvicorn server in the test's event loop.

Sign in through a /dashboard link, open every page (desktop and phone widths; a
screenshot of each goes to artifacts/dashboard/), answer a feedback item and see the
member's private reply reach the fake adapter, and (when moderation is installed) decide
a flag from the moderation queue and see the ban reach the fake adapter.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bot.web.server import WebServer
from tests.dashkit import EVIL, make_dash

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("COMMUNITYBOT_ARTIFACTS", ROOT / "artifacts")) / "dashboard"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing: apt-get install -y chromium (Debian's package)"),
]

PAGES = [
    ("overview", "/"),
    ("members", "/members"),
    ("moderation", "/moderation"),
    ("events", "/events"),
    ("rewards", "/rewards"),
    ("feedback", "/feedback"),
    ("settings", "/settings"),
    ("audit", "/audit"),
]


@pytest.fixture
async def live(tmp_path):
    pw = pytest.importorskip("playwright.async_api", reason="pip install playwright (no browser download needed)")
    dash = await make_dash(tmp_path)
    await dash.bot.ask("bob", "/feedback 第三章的视频讲得太快了，作业也看不懂")
    from tests.dashkit_features import seed_features

    await seed_features(dash)
    server = WebServer(dash.bot.app, "127.0.0.1", 0)
    await server.start()
    async with pw.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield dash, browser, f"http://127.0.0.1:{server.port}"
        finally:
            await browser.close()
            await server.stop()
            await dash.bot.close()


async def _signed_in_page(dash, browser, base, **ctx):
    context = await browser.new_context(**ctx)
    page = await context.new_page()
    path = await dash.link()
    await page.goto(base + path)
    await page.click("#signin")
    await page.wait_for_url(f"{base}/g/{dash.g1}/")
    return context, page


async def test_sign_in_and_every_page_on_desktop_and_phone(live):
    dash, browser, base = live
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sizes = {"desktop": {"viewport": {"width": 1280, "height": 900}}, "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}}
    for label, ctx in sizes.items():
        context, page = await _signed_in_page(dash, browser, base, **ctx)
        errors: list[str] = []
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        for name, path in PAGES:
            resp = await page.goto(f"{base}/g/{dash.g1}{path}")
            assert resp.status == 200, (name, resp.status)
            assert await page.locator("nav.tabs a.on").count() == 1
            # Nothing wider than the screen (tables scroll inside their own box).
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= ctx["viewport"]["width"] + 1, (label, name, width)
            await page.screenshot(path=str(ARTIFACTS / f"{label}-{name}.png"), full_page=True)
        assert not errors, errors  # no CSP violations or script errors
        # The hostile name is text, not a script.
        await page.goto(f"{base}/g/{dash.g1}/feedback")
        assert EVIL in await page.inner_text("main")
        await context.close()


async def test_answer_feedback_and_the_member_gets_it_privately(live):
    dash, browser, base = live
    context, page = await _signed_in_page(dash, browser, base, viewport={"width": 390, "height": 844})
    await page.goto(f"{base}/g/{dash.g1}/feedback?status=new")
    await page.click("text=The refund for my subscription")
    await page.fill("#answer", "Refunded today — it shows within 3 days.")
    await page.click("#send-answer")
    await page.wait_for_selector("text=Answer sent privately")
    await page.screenshot(path=str(ARTIFACTS / "phone-feedback-answered.png"), full_page=True)
    sent = [r for r in dash.bot.adapter.sent if r.private_to == "alice" and "Refunded today" in r.text]
    assert len(sent) == 1 and "refund for my subscription" in sent[0].text
    assert "answered" in await page.inner_text("h1")
    # A Chinese community sees the dashboard's words in Chinese.
    await dash.bot.ask("admin", "/config set bot.language zh-CN")
    await page.goto(f"{base}/g/{dash.g1}/feedback")
    assert "反馈收件箱" in await page.inner_text("h1")
    await page.screenshot(path=str(ARTIFACTS / "phone-feedback-zh.png"), full_page=True)
    await context.close()


async def test_decide_a_flag_from_the_moderation_queue(live):
    dash, browser, base = live
    from tests.dashkit_features import open_flag

    flag_id, spammer = await open_flag(dash)
    context, page = await _signed_in_page(dash, browser, base, viewport={"width": 1280, "height": 900})
    page.on("dialog", lambda d: asyncio.ensure_future(d.accept()))  # "Delete the message(s) and ban?"
    await page.goto(f"{base}/g/{dash.g1}/moderation")
    await page.click(f"#flag-{flag_id} button[value=spam]")
    await page.wait_for_selector(f"p.banner.ok:has-text('Decided flag #{flag_id}: spam')")
    assert await page.locator(f"#flag-{flag_id}").count() == 0  # left the queue
    await page.screenshot(path=str(ARTIFACTS / "desktop-moderation-decided.png"), full_page=True)
    bans = [a for a in dash.bot.adapter.actions if a.kind.value == "ban" and a.member_id == spammer]
    assert len(bans) == 1
    await context.close()
