"""/healthz, /readyz and /metrics served by the running bot, scraped over HTTP."""

from __future__ import annotations

import os
import uuid

import aiohttp
import pytest

from bot.health import HealthServer
from bot.testing import BotHarness
from tests.conftest import POSTGRES_URL


async def get(server: HealthServer, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{server.port}{path}") as r:
        return r.status, await r.text()


def sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture
async def served(tmp_path):
    h = await BotHarness.create(tmp_path)
    server = HealthServer(h.app, "127.0.0.1", 0)
    await server.start()
    yield h, server
    await server.stop()
    await h.close()


async def test_metrics_move_by_exactly_the_events_driven(served):
    h, server = served
    _, before = await get(server, "/metrics")
    for i in range(5):
        await h.say("alice", f"message {i}")
    await h.say("bob", "/ping")
    e = await h.say("carol", "hello")
    await h.adapter.inject(e)  # a redelivery
    _, after = await get(server, "/metrics")
    name = "communitybot_events_ingested_total"
    assert sample(after, name, platform="fake", kind="message") - sample(before, name, platform="fake", kind="message") == 6
    assert sample(after, name, platform="fake", kind="command") == 1
    assert sample(after, "communitybot_events_duplicate_total", platform="fake") == 1
    # Every reply the fake platform received is counted once: the pong, and anything the
    # scheduler posted meanwhile (the harness clock starts on a Monday 09:00).
    assert sample(after, "communitybot_replies_sent_total", platform="fake", ok="true") == len(h.adapter.sent)
    assert any(r.text == "pong" for r in h.adapter.sent)
    assert sample(after, "communitybot_pipeline_seconds_count") == 7
    sends = sample(after, "communitybot_platform_call_seconds_count", call="send", platform="fake")
    edits = sample(after, "communitybot_platform_call_seconds_count", call="edit", platform="fake")
    assert sends + edits == len(h.adapter.sent)


async def test_errors_are_counted_by_step(served):
    h, server = served

    async def broken(app, turn):
        raise RuntimeError("boom")

    h.app.pipeline.add_step("broken", broken)
    await h.say("alice", "hi")
    await h.say("alice", "hi again")
    _, text = await get(server, "/metrics")
    assert sample(text, "communitybot_errors_total", step="broken") == 2


async def test_healthz_and_readyz(served):
    h, server = served
    assert (await get(server, "/healthz"))[0] == 200
    status, body = await get(server, "/readyz")
    assert status == 200 and '"database": true' in body and '"adapter:fake": true' in body


async def test_readyz_follows_the_sqlite_file(tmp_path):
    h = await BotHarness.create(tmp_path)
    server = HealthServer(h.app, "127.0.0.1", 0)
    await server.start()
    try:
        db = tmp_path / "bot.db"
        await h.app.store.engine.dispose()
        saved = db.read_bytes()
        for suffix in ("-wal", "-shm"):
            (tmp_path / f"bot.db{suffix}").unlink(missing_ok=True)
        db.write_bytes(b"this is not a database" * 100)
        status, body = await get(server, "/readyz")
        assert status == 503 and '"database": false' in body
        await h.app.store.engine.dispose()
        db.write_bytes(saved)
        status, _ = await get(server, "/readyz")
        assert status == 200
    finally:
        await server.stop()
        await h.close()


@pytest.mark.skipif(not POSTGRES_URL, reason="set COMMUNITYBOT_TEST_POSTGRES_URL to run against PostgreSQL")
async def test_readyz_follows_postgresql(tmp_path):
    import asyncpg

    name = "cbt_ready_" + uuid.uuid4().hex[:8]
    admin = await asyncpg.connect(POSTGRES_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    h = await BotHarness.create(tmp_path, db_url=url)
    server = HealthServer(h.app, "127.0.0.1", 0)
    await server.start()
    try:
        assert (await get(server, "/readyz"))[0] == 200
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
        status, body = await get(server, "/readyz")
        assert status == 503 and '"database": false' in body
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        assert (await get(server, "/readyz"))[0] == 200
    finally:
        await server.stop()
        await h.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def test_env_overrides(monkeypatch):
    from bot.config import ConfigError, load_config_text

    monkeypatch.setenv("COMMUNITYBOT_HEALTH__PORT", "9999")
    monkeypatch.setenv("COMMUNITYBOT_BOT__LANGUAGE", "zh-CN")
    cfg = load_config_text("[health]\nport = 1234\n")
    assert cfg.health.port == 9999 and cfg.bot.language == "zh-CN"
    monkeypatch.setenv("COMMUNITYBOT_HEALTH__PORT", "many")
    with pytest.raises(ConfigError, match="COMMUNITYBOT_HEALTH__PORT"):
        load_config_text("")
    assert os.environ.get("COMMUNITYBOT_HEALTH__PORT") == "many"


async def test_feature_counters_move(served):
    """Moderation verdicts, alerts sent and decided, and points awarded show in /metrics."""
    h, server = served
    _, before = await get(server, "/metrics")
    await h.say("alice", "Has anyone finished the week 3 notebook on regression models?")
    await h.later(120)
    await h.join("spammer")
    await h.say("spammer", "💰 Earn $500 a day from home! DM me now https://bit.ly/earn-fast-now https://t.me/x")
    _, after = await get(server, "/metrics")
    checks = sample(after, "communitybot_moderation_verdicts_total", check="flood", flagged="false")
    assert checks - sample(before, "communitybot_moderation_verdicts_total", check="flood", flagged="false") == 2
    assert sample(after, "communitybot_moderation_verdicts_total", check="spam", flagged="true") == 1
    assert sample(after, "communitybot_alerts_sent_total", platform="fake") == 1
    assert sample(after, "communitybot_points_awarded_total", reason="message") > 0
    alert = next(r for r in h.adapter.sent if r.buttons and r.buttons[0][0].data.startswith("mod:"))  # not the welcome
    spam_button = next(b for row in alert.buttons for b in row if "ban" in b.text.lower() or "spam" in b.text.lower())
    await h.press("admin", spam_button.data, message_id=h.adapter.sent_ids[h.adapter.sent.index(alert)])
    _, last = await get(server, "/metrics")
    assert sample(last, "communitybot_alerts_decided_total", decision="spam") == 1
    assert sample(last, "communitybot_actions_total", platform="fake", kind="ban", ok="true") == 1
