"""A full disk: the bot says so, refuses the event (so the platform keeps it) and asks to
stop; what was stored stays intact."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest

from bot.testing import BotHarness


@pytest.fixture
def tiny_disk():
    path = Path("/tmp") / f"cb-tinyfs-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(path)], capture_output=True)
    if r.returncode != 0:
        path.rmdir()
        pytest.skip("needs root to mount a small tmpfs (a full disk to fill)")
    yield path
    subprocess.run(["umount", str(path)], capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


async def test_full_disk_stops_cleanly_without_corruption(tiny_disk, caplog):
    h = await BotHarness.create(tiny_disk, config=f'[database]\nretry_seconds = 0\nspool_path = "{tiny_disk / "spool.db"}"\n')
    try:
        for i in range(5):
            await h.say("alice", f"stored before the disk filled up, message {i}")
        filler = tiny_disk / "filler"
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        refused = 0
        for i in range(20):
            try:
                await h.say("bob", f"while the disk is full, number {i} " + "x" * 2000)
            except Exception:
                refused += 1
            if h.app.fatal:
                break
        assert h.app.fatal and "cannot store or spool events" in h.app.fatal
        assert h.app.stop_requested.is_set() and refused >= 1
        assert any("stopping" in r.getMessage() for r in caplog.records)
        filler.unlink()
    finally:
        await h.close()
    con = sqlite3.connect(tiny_disk / "bot.db")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    texts = [t for (t,) in con.execute("SELECT text FROM events WHERE member_id = 'alice'")]
    assert len(texts) == 5
