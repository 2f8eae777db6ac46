"""The real commands a user types, run as subprocesses."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.exports import DISCORD, TG_NEW, write

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, cwd, stdin=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True,
                          input=stdin, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=timeout)


def test_import_json_summary(tmp_path):
    tg, dc = write(tmp_path, "result.json", TG_NEW), write(tmp_path, "general.json", DISCORD)
    db = f"sqlite:///{tmp_path / 'community.db'}"
    r = cli("import", str(tg), str(dc), "--db", db, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["events_new"] > 0 and data["events_duplicate"] == 0 and data["members"] == 6
    assert {"platform": "telegram", "group_id": "-1001500000001", "title": "Course 101"} in data["groups"]
    assert {"platform": "discord", "group_id": "900000000000000001", "title": "Study Server"} in data["groups"]
    r = cli("import", str(tg), str(dc), "--db", db, cwd=tmp_path)
    assert r.returncode == 0
    assert "0 new events" in r.stdout and "already" in r.stdout
    assert "type:unsupported" in r.stdout  # unknown kinds are reported, not fatal


def test_default_db_is_in_working_directory(tmp_path):
    r = cli("import", str(write(tmp_path, "result.json", TG_NEW)), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "communitybot.db").exists()


def test_db_upgrade_and_current(tmp_path):
    db = f"sqlite:///{tmp_path / 'x.db'}"
    r = cli("db", "current", "--db", db, cwd=tmp_path)
    assert r.returncode == 1 and "(empty)" in r.stdout
    r = cli("db", "upgrade", "--db", db, cwd=tmp_path)
    assert r.returncode == 0 and "revision" in r.stdout
    r = cli("db", "current", "--db", db, cwd=tmp_path)
    assert r.returncode == 0


def test_run_without_adapters_points_to_console_and_demo(tmp_path):
    r = cli("run", "--db", f"sqlite:///{tmp_path / 'x.db'}", cwd=tmp_path)
    assert r.returncode == 2
    assert "no adapters configured" in r.stderr and "console" in r.stderr and "demo" in r.stderr


def test_bad_config_names_the_key_and_file(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[bot]\nlanguage = "en"\nlangauge = "zh-CN"\n')
    r = cli("run", "--config", str(cfg), cwd=tmp_path)
    assert r.returncode == 2 and "langauge" in r.stderr and "config.toml" in r.stderr


def test_console_end_to_end(tmp_path):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    r = cli("console", "--group", "Course 101", "--as", "alice", "--db", db, cwd=tmp_path,
            stdin="hello everyone\n/ping\n/as bob\n/help\n/nosuch\n/quit\n")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "you are alice, the new group's owner and admin" in out
    assert "bot: pong" in out
    assert "(you are now bob)" in out
    assert "/help" in out and "/ping" in out
    assert "Unknown command /nosuch" in out
    # the messages went through the pipeline into the store
    r = cli("stats", "--group", "Course 101", "--db", db, cwd=tmp_path)
    assert "messages 4" in r.stdout, r.stdout  # hello, /ping, /help, /nosuch
    # A second session: the group exists, so bob is no owner; alice still is.
    r = cli("console", "--group", "Course 101", "--as", "bob", "--db", db, cwd=tmp_path,
            stdin="/config set bot.language zh-CN\n/as alice\n/config set bot.language zh-CN\n")
    assert r.returncode == 0, r.stderr
    assert "owner" not in r.stdout.splitlines()[0]
    assert "Only admins can use /config" in r.stdout
    assert "bot.language 已设为" in r.stdout


def test_demo_runs_without_network_or_config(tmp_path):
    r = cli("demo", "--out", str(tmp_path / "demo"), cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Busiest members" in r.stdout and "Messages per week" in r.stdout
    assert "already stored (idempotent)" in r.stdout
    assert (tmp_path / "demo" / "result.json").exists()
    # The community section: after /link, one line for the person and one balance.
    section = r.stdout[r.stdout.index("kai_dev on Discord: /top points all"):]
    after = section[section.index("maria_l on Discord: /link"):]
    assert "Telegram + Discord" in section
    # The sample's last week ends at the time the demo runs (never a message from the
    # future), so the figures vary with the day; how they add up does not.
    before = section[:section.index("maria_l on Discord: /link")]
    telegram_alone = int(re.search(r"\d+\. Dr\. Maria Lopez — (\d+)", before).group(1))
    merged = int(re.search(r"1\. maria_l — (\d+)", after).group(1))
    tg, dc = map(int, re.search(r"One balance across your linked accounts: Telegram (\d+) · Discord (\d+)\.", after).groups())
    assert tg == telegram_alone and dc > 0 and merged == tg + dc


def test_report_on_a_group_with_no_interests_yet(tmp_path):
    db = f"sqlite:///{tmp_path / 'r.db'}"
    r = cli("console", "--group", "Fresh", "--db", db, cwd=tmp_path, stdin="/help\n/quit\n")
    assert r.returncode == 0, r.stderr
    for fmt in ("text", "json"):
        r = cli("report", "--group", "Fresh", "--db", db, "--format", fmt, cwd=tmp_path)
        assert r.returncode == 0, r.stderr


def test_audit_lists_what_was_done_to_a_group(tmp_path):
    """`communitybot audit --group G` as an owner types it: a unique beginning of the
    title will do; an unknown group is an error that names the groups there are."""
    db = f"sqlite:///{tmp_path / 'community.db'}"
    r = cli("import", str(write(tmp_path, "result.json", TG_NEW)), str(write(tmp_path, "general.json", DISCORD)),
            "--db", db, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = cli("forget", "--db", db, "--platform", "telegram", "--member", "user11", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = cli("audit", "--db", db, "--group", "course", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "privacy" in r.stdout and "forget" in r.stdout and "user11" not in r.stdout  # the pseudonym, not the id
    r = cli("audit", "--db", db, "--group", "Study Server", "--json", cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout) == []  # nothing was done there
    r = cli("audit", "--db", db, "--group", "nope", cwd=tmp_path)
    assert r.returncode == 2
    assert "no group 'nope'" in r.stderr and "'Course 101'" in r.stderr and "'Study Server'" in r.stderr
