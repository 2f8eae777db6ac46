"""Behaviour anomaly: robust z-scores, the isolation forest, and the check on a burst
against the member's and the group's own baseline; plus the demo hook."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import numpy as np
from rich.console import Console

from bot import moderation
from scoring.anomaly import AnomalyCheck, AnomalySettings, isolation_scores, robust_z
from scoring.checks import CheckContext
from scoring.window import GroupWindow
from storage.events import Event, EventKind

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_robust_z_ignores_outliers_in_the_baseline():
    base = [2, 3, 2, 4, 3, 2, 300]  # one huge bucket must not hide the next burst
    assert robust_z(40, base) > 10
    assert abs(robust_z(3, base)) < 1
    assert robust_z(5, []) == 0.0


def test_isolation_forest_finds_the_odd_member():
    rng = np.random.default_rng(0)
    feats = {f"m{i}": np.array([rng.poisson(2), rng.poisson(5), 40 + rng.normal(0, 5), 0.0, 0.0, 3.0]) for i in range(60)}
    feats["odd"] = np.array([60.0, 200.0, 300.0, 1.0, 4.0, 0.0])
    scores = isolation_scores(feats)
    assert min(scores, key=scores.get) == "odd" and scores["odd"] < 0


def _feed(window: GroupWindow, member: str, times: list[float]) -> None:
    m = window.member(member)
    for t in times:
        window.note_message(m, t, "some text here", 0, 0)


def test_burst_against_own_and_group_baseline_is_flagged():
    w = GroupWindow()
    t0 = T0.timestamp()
    for i in range(30):  # thirty members, two messages per 10 minutes for ten buckets
        _feed(w, f"m{i}", [t0 + b * 600 + k * 60 for b in range(10) for k in range(2)])
    _feed(w, "m0", [t0 + 6000 + k * 20 for k in range(14)])  # then m0 writes 14 in 5 minutes
    e = Event("fake", "g1", EventKind.MESSAGE, T0 + timedelta(seconds=6000 + 13 * 20), member_id="m0", text="x")
    ctx = CheckContext(e, e.time.timestamp(), "x", frozenset(), w.member("m0"), w)
    v = AnomalyCheck().check(ctx, AnomalySettings(forest=False))
    assert v.flagged and "rate 14/10min" in v.reason and "z own" in v.reason and "z group" in v.reason
    calm = AnomalyCheck().check(ctx, AnomalySettings(forest=False, min_messages=20))
    assert not calm.flagged and "below 20" in calm.reason


async def test_demo_shows_the_raid_and_its_alert(bot):
    await bot.say("alice", "Does anyone know if lesson 4 is due Friday?")
    await bot.say("spammer", "Earn $500 a day from home, DM me now https://bit.ly/3xProfit")
    for i in range(6):
        await bot.say(f"r{i}", "Join our crypto signals group t.me/+pumpgroup now")
    buf = io.StringIO()
    await moderation.demo(bot.app, bot.group, Console(file=buf, width=140))
    out = buf.getvalue()
    assert "Raid: 6 members posted the same text" in out
    assert "Spam: delete and ban" in out and "Earn $500" in out
