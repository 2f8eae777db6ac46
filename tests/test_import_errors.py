"""Bad input: each case names the file and where, exits 2, and loses nothing."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.exports import TG_NEW, write

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)


def with_message(i, msg):
    data = copy.deepcopy(TG_NEW)
    data["messages"][i] = msg
    return data


CASES = [
    ("not-json.json", "hello, this is not json", ["not JSON"]),
    ("array.json", "[1, 2, 3]", ["not a chat export"]),
    ("other.json", json.dumps({"foo": 1}), ["not a chat export"]),
    ("full.json", json.dumps({"about": "x", "chats": {"list": []}}), ["full Telegram account export"]),
    ("noid.json", json.dumps(with_message(3, {"type": "message", "date": "2026-01-05T09:00:00", "text": "x"})),
     ["message #3", "no 'id'"]),
    ("nodate.json", json.dumps(with_message(2, {"id": 3, "type": "message", "text": "x"})), ["message #2", "no 'date'"]),
    ("baddate.json", json.dumps(with_message(4, {"id": 5, "type": "message", "date": "yesterday", "text": "x"})),
     ["message #4", "unreadable date 'yesterday'"]),
]


@pytest.mark.parametrize("name,content,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_file_is_named_with_position(tmp_path, name, content, expected):
    path = write(tmp_path, name, content)
    r = cli("import", str(path), "--db", f"sqlite:///{tmp_path / 'db.sqlite'}", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert name in r.stderr
    for e in expected:
        assert e in r.stderr


def test_truncated_file_stops_then_resumes_without_duplicates(tmp_path):
    full = json.dumps(TG_NEW, indent=1)
    cut = write(tmp_path, "result.json", full[: int(len(full) * 0.7)])
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    r = cli("import", str(cut), "--db", db, cwd=tmp_path)
    assert r.returncode == 2
    assert "result.json" in r.stderr and "truncated" in r.stderr and "near byte" in r.stderr
    write(tmp_path, "result.json", full)
    r = cli("import", str(cut), "--db", db, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    first = json.loads(r.stdout)
    assert first["events_duplicate"] > 0
    r = cli("import", str(cut), "--db", db, "--json", cwd=tmp_path)
    second = json.loads(r.stdout)
    assert second["events_new"] == 0
    assert second["events_duplicate"] == first["events_new"] + first["events_duplicate"]


def test_missing_file(tmp_path):
    r = cli("import", str(tmp_path / "nope.json"), "--db", f"sqlite:///{tmp_path / 'db.sqlite'}", cwd=tmp_path)
    assert r.returncode == 2 and "nope.json" in r.stderr and "not found" in r.stderr
