"""`communitybot report` and `communitybot fit` on a generated ten-week community."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bot.cli import main
from storage.events import Event, EventKind
from storage.store import EventStore

START = datetime(2026, 8, 3, tzinfo=UTC)
NAMES = ["alice", "bob", "chen", "dana", "李雷", "韩梅梅", "olga", "ivan", "erin", "frank", "gao", "hana"]
NAMES += [f"member{i}" for i in range(12)]
TEXTS = [
    "How do I clean this pandas data?", "SQL dashboard for the analytics team", "python code review please",
    "我的简历怎么写？", "面试前要准备什么", "Как подготовить резюме к собеседованию?", "figma design critique",
    "great point", "thanks!",
]


def community(weeks: int = 10, seed: int = 5) -> list[Event]:
    """A growing group: members join over time, ask, answer and react."""
    rng = np.random.default_rng(seed)
    events, n = [], 0
    joined = {}
    for day in range(weeks * 7):
        for m, name in enumerate(NAMES):
            if m > 3 + day // 3:
                continue
            if name not in joined:
                joined[name] = day
                events.append(Event(platform="fake", group_id="g9", group_title="Data Course", kind=EventKind.JOIN,
                                    time=START + timedelta(days=day, hours=1), member_id=f"id{m}", member_name=name))
            for _ in range(rng.poisson(1.5 if m % 3 else 3)):
                n += 1
                t = START + timedelta(days=day, hours=float(rng.uniform(2, 23)))
                prev = events[-1] if events and events[-1].kind is EventKind.MESSAGE else None
                reply = prev if prev is not None and prev.member_id != f"id{m}" and rng.random() < 0.4 else None
                events.append(Event(
                    platform="fake", group_id="g9", group_title="Data Course", kind=EventKind.MESSAGE, time=t,
                    member_id=f"id{m}", member_name=name, message_id=str(n), text=TEXTS[int(rng.integers(len(TEXTS)))],
                    reply_to_id=reply.message_id if reply else None, target_member_id=reply.member_id if reply else None,
                    channel_id=f"c{m % 3}",
                ))
                if prev is not None and rng.random() < 0.3:
                    events.append(Event(platform="fake", group_id="g9", kind=EventKind.REACTION, time=t + timedelta(minutes=5),
                                        member_id=f"id{(m + 1) % len(NAMES)}", message_id=prev.message_id,
                                        target_member_id=prev.member_id, emoji="👍"))
    return sorted(events, key=lambda e: e.time)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('community') / 'c.db'}"

    async def fill():
        store = await EventStore.open(url)
        await store.append_many(community())
        await store.close()

    asyncio.run(fill())
    return url


def test_report_json_carries_the_keys(db, capsys):
    assert main(["report", "--db", db, "--group", "Data Course", "--format", "json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["group"]["title"] == "Data Course"
    m = rep["members"][0]
    assert {"member_id", "name", "activity", "influence", "interests"} <= set(m)
    assert m["member_id"].startswith("id") and isinstance(m["activity"], float)
    assert rep["lifecycle"]["stage"] in ("creation", "growth", "maturity", "decline")
    assert {"dau", "wau", "mau", "answered_share_30d", "median_first_answer_minutes", "going_quiet"} <= set(rep["health"])
    assert "李雷" in {x["name"] for x in rep["members"]}


def test_report_since_limits_the_window(db, capsys):
    main(["report", "--db", db, "--group", "g9", "--format", "json", "--since", "2026-10-01"])
    recent = json.loads(capsys.readouterr().out)
    main(["report", "--db", db, "--group", "g9", "--format", "json"])
    full = json.loads(capsys.readouterr().out)
    assert recent["since"].startswith("2026-10-01")
    assert sum(m["features"]["messages"] for m in recent["members"]) < sum(m["features"]["messages"] for m in full["members"])


def test_report_html_writes_page_and_charts(db, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["report", "--db", db, "--group", "g9", "--format", "html", "--out", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "Data Course" in page
    for name in ("daily.png", "cohorts.png", "top_activity.png", "top_influence.png", "interests.png"):
        data = (out / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, name


def test_report_text_and_unknown_group(db, capsys):
    assert main(["report", "--db", db, "--group", "g9"]) == 0
    text = capsys.readouterr().out
    assert "Lifecycle stage: growth" in text and "Top by activity" in text
    assert main(["report", "--db", db, "--group", "nosuch"]) == 2
    assert "no group 'nosuch'" in capsys.readouterr().err


def test_fit_stores_weights_or_says_why_not(db, capsys):
    assert main(["fit", "--db", db, "--group", "g9", "--period-days", "21"]) == 0
    out = capsys.readouterr().out
    assert "R² held-out" in out and "saved" in out

    async def stored():
        store = await EventStore.open(db)
        g = await store.find_group("g9")
        s = await store.get_settings(g.pk)
        await store.close()
        return s

    weights = asyncio.run(stored())["scoring.weights"]
    assert set(weights) >= {"messages", "active_days"} and all(v >= 0 for v in weights.values())
    assert main(["fit", "--db", db, "--group", "g9", "--period-days", "60"]) == 2
    assert "180 days of history" in capsys.readouterr().err


def test_demo_hook_prints_boards_and_writes_the_report(db, tmp_path, monkeypatch):
    import io

    from rich.console import Console

    from bot.app import App
    from bot.config import load_config
    from bot.scoring_feature import demo

    monkeypatch.setenv("COMMUNITYBOT_DEMO_OUT", str(tmp_path / "demo"))

    async def run():
        app = await App.create(load_config(None), db)
        try:
            group = await app.store.find_group("g9")
            buf = io.StringIO()
            await demo(app, group, Console(file=buf, width=120))
            return buf.getvalue()
        finally:
            await app.stop()

    out = asyncio.run(run())
    assert "Top by activity" in out and "Top by influence" in out and "Lifecycle stage: growth" in out
    assert (tmp_path / "demo" / "report" / "report.html").exists()


def test_bad_scoring_config_names_the_key():
    from bot.config import ConfigError, load_config_text

    with pytest.raises(ConfigError, match=r"\[scoring\]: weights: unknown feature\(s\) mesages"):
        load_config_text("[scoring]\nweights = {mesages = 1.0}\n")
    with pytest.raises(ConfigError, match="'half_life_days' must be float"):
        load_config_text('[scoring]\nhalf_life_days = "two weeks"\n')
    with pytest.raises(ConfigError, match="damping must be between 0 and 1"):
        load_config_text("[scoring]\ndamping = 1.5\n")
    cfg = load_config_text('[scoring]\ntaxonomy = {rust = ["rust", "cargo", "раст"]}\n')
    assert cfg.section("scoring").taxonomy == {"rust": ["rust", "cargo", "раст"]}


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out)]) == 0
    return out


def test_demo_community_report_and_charts(demo_dir, capsys):
    capsys.readouterr()
    db = f"sqlite:///{demo_dir / 'demo.db'}"
    assert main(["report", "--db", db, "--group", "Course 101 · Data Science", "--format", "json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["members"] and all({"member_id", "name", "activity", "influence", "interests"} <= set(m) for m in rep["members"])
    assert rep["lifecycle"]["stage"] in ("creation", "growth", "maturity", "decline")
    assert rep["health"]["mau"] > 0
    for name in ("daily.png", "cohorts.png", "top_activity.png", "top_influence.png", "interests.png"):
        data = (demo_dir / "report" / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, name
