"""SIGKILL in the middle of an import and of live ingestion: after a restart the store is
consistent, nothing acknowledged is lost, nothing is counted twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bench.ingest import generate

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def count(db: Path, sql: str = "SELECT count(*) FROM events") -> int:
    try:
        con = sqlite3.connect(db, timeout=10)
        try:
            return con.execute(sql).fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def test_sigkill_during_import_then_rerun(tmp_path):
    export = tmp_path / "result.json"
    generate(export, 60_000)
    db = tmp_path / "c.db"
    url = f"sqlite:///{db}"
    proc = subprocess.Popen([sys.executable, "-m", "bot", "import", str(export), "--db", url, "--json"],
                            cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while count(db) < 5000 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "import finished before it could be killed; make the file larger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = count(db)
    assert 0 < partial < 60_000
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    r = subprocess.run([sys.executable, "-m", "bot", "import", str(export), "--db", url, "--json"],
                       cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["events_duplicate"] == partial
    assert summary["events_new"] == 60_000 - partial
    assert count(db) == 60_000
    assert count(db, "SELECT count(DISTINCT key) FROM events") == 60_000


def test_sigkill_during_live_ingestion(tmp_path):
    db = tmp_path / "live.db"
    url = f"sqlite:///{db}"
    feeder = [sys.executable, str(ROOT / "tests" / "crash_feeder.py")]
    proc = subprocess.Popen([*feeder, url, "0", "100000"], cwd=tmp_path, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    acked = []
    for line in proc.stdout:
        acked.append(int(line.split()[1]))
        if len(acked) >= 300:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stored = {int(r[0]) for r in sqlite3.connect(db).execute("SELECT message_id FROM events").fetchall()}
    assert set(acked) <= stored  # nothing acknowledged is lost
    # Restart and redeliver everything from 0 (a platform redelivering unacknowledged updates).
    last = max(stored)
    r = subprocess.run([*feeder, url, "0", str(last + 50)], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == last + 50
    assert con.execute("SELECT count(DISTINCT message_id) FROM events").fetchone()[0] == last + 50
