"""Dashboard page times on the demo's sample community, and feedback categorisation speed.

    python -m bench.dashboard [--db sqlite:///communitybot-demo/demo.db] [--rounds 5]

Builds the sample community first when the database is missing (like `communitybot
demo`). Each page is requested in-process through the real FastAPI app (ASGI, no
socket) by a signed-in admin; the reference, measured in the same run, is the plain SQL
overview that `communitybot stats` prints. Categorisation is timed per item against
`str.lower()` + a substring scan of every keyword (the cheapest possible keyword match).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

PAGES = ["/", "/members", "/members?sort=name&dir=asc", "/moderation", "/events", "/rewards", "/feedback", "/settings", "/audit"]


async def _ensure_demo(db: str) -> None:
    path = Path(db.removeprefix("sqlite:///"))
    if path.exists():
        return
    from rich.console import Console

    from bot.demo import run_demo

    path.parent.mkdir(parents=True, exist_ok=True)
    await run_demo(path.parent, db, 101, Console(quiet=True))


async def main(db: str, rounds: int) -> None:
    from bot.app import App
    from bot.config import load_config
    from bot.dashboard import auth
    from bot.feedback import DEFAULT_CATEGORIES
    from bot.overview import overview
    from bot.web.members_data import group_members
    from bot.web.server import create_app
    from scoring.feedback_cat import Categoriser

    await _ensure_demo(db)
    app = await App.create(load_config(None), db)
    try:
        group = (await app.store.groups())[0]
        owner = next(m for m in await group_members(app, group) if not m["is_bot"])
        link = await auth(app).issue_link(group.platform, owner["member_id"], "", [group])
        fa = create_app(app)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fa), base_url="http://bench") as c:
            r = await c.post("/login", data={"t": parse_qs(urlparse(link).query)["t"][0]})
            assert r.status_code == 303, r.text
            ref = []
            await overview(app.store, group)  # warm, like the pages below
            for _ in range(rounds):
                t0 = time.perf_counter()
                ov = await overview(app.store, group)
                ref.append(time.perf_counter() - t0)
            base = statistics.median(ref)
            print(f"{group.title}: {ov.members} members, {ov.events} events")
            print(f"reference: SQL overview (communitybot stats) {base * 1000:8.1f} ms")
            for path in PAGES:
                url = f"/g/{group.pk}{path}"
                await c.get(url)  # warm: the first request builds the score cache
                times = []
                for _ in range(rounds):
                    t0 = time.perf_counter()
                    r = await c.get(url)
                    times.append(time.perf_counter() - t0)
                    assert r.status_code == 200, (url, r.status_code)
                med = statistics.median(times)
                print(f"GET {path:<28} {med * 1000:8.1f} ms  {med / base:6.1f}× reference  ({len(r.content) // 1024} KB)")
    finally:
        await app.stop()
    texts = ["The refund for my subscription never arrived", "登录不上，一直提示密码错误", "It would be nice to have a weekly Q&A call"] * 200
    cat = Categoriser(DEFAULT_CATEGORIES)
    t0 = time.perf_counter()
    for t in texts:
        cat.predict(t)
    ours = (time.perf_counter() - t0) / len(texts)
    kws = [(c, k.lower()) for c, ks in DEFAULT_CATEGORIES.items() for k in ks]
    t0 = time.perf_counter()
    for t in texts:
        low = t.lower()
        _ = [c for c, k in kws if k in low]
    naive = (time.perf_counter() - t0) / len(texts)
    print(f"categorise one item: {ours * 1e6:8.1f} µs  ({ours / naive:.0f}× a plain substring scan of the keywords, {naive * 1e6:.1f} µs)")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default="sqlite:///communitybot-demo/demo.db")
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    asyncio.run(main(a.db, a.rounds))
