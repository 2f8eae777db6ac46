"""Shared fixtures: a conversation harness on a real SQLite file, the PostgreSQL URL
when one is configured, and a guard that fails any test opening a non-local socket."""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

from bot.testing import BotHarness

# The base spam model's disk cache (bot.mod_model) goes to one directory per test run,
# shared by the CLI subprocesses the tests start, not to the user's ~/.cache.
if "COMMUNITYBOT_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["COMMUNITYBOT_CACHE_DIR"] = tempfile.mkdtemp(prefix="communitybot-test-cache-")
    atexit.register(shutil.rmtree, os.environ["COMMUNITYBOT_CACHE_DIR"], True)

# The native screening loops are on from the start, as in a running bot, not only once
# some test has made a moderation service; tests/test_native.py compares both paths.
from bot import native  # noqa: E402

native.enable()

_real_connect = socket.socket.connect


def _local(address) -> bool:
    if isinstance(address, (str, bytes)):
        return True  # unix socket
    host = address[0]
    if host in ("localhost", "::1", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address):
        raise RuntimeError(f"test tried to open a network connection to {address!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    yield


POSTGRES_URL = os.environ.get("COMMUNITYBOT_TEST_POSTGRES_URL")


def db_params():
    """SQLite always; PostgreSQL when COMMUNITYBOT_TEST_POSTGRES_URL is set."""
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgresql",
            id="postgresql",
            marks=pytest.mark.skipif(
                not POSTGRES_URL, reason="set COMMUNITYBOT_TEST_POSTGRES_URL to run against PostgreSQL"
            ),
        ),
    ]


@pytest.fixture(params=db_params())
async def db_url(request, tmp_path):
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    import uuid

    import asyncpg

    name = "cbt_" + uuid.uuid4().hex[:12]
    admin = await asyncpg.connect(POSTGRES_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base = POSTGRES_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    admin = await asyncpg.connect(POSTGRES_URL)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
async def bot(tmp_path):
    """A `BotHarness`: the whole bot on a real SQLite file, driven like a chat."""
    h = await BotHarness.create(tmp_path)
    yield h
    await h.close()


@pytest.fixture
async def fake():
    """The fake Telegram Bot API server (aiohttp on 127.0.0.1), see tests/telegram_fake_api.py."""
    from telegram_fake_api import FakeBotApi

    f = FakeBotApi()
    await f.start()
    yield f
    await f.stop()


@pytest.fixture
async def tg(tmp_path, fake, monkeypatch):
    """The whole bot on the real python-telegram-bot stack against `fake`."""
    from telegram_harness import TgHarness

    monkeypatch.setenv("TEST_TG_TOKEN", fake.token)
    h = await TgHarness(tmp_path, fake).start()
    yield h
    await h.close()
