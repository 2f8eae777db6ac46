"""`communitybot train`, `eval` and `scan` through the real command line."""

from __future__ import annotations

import asyncio
import json

from bot.cli import main
from bot.testing import BotHarness


def test_train_then_eval(tmp_path, capsys):
    spam = tmp_path / "spam.txt"
    spam.write_text("Win a free iPhone, click the link now\nCheap followers and likes, DM me\n", encoding="utf-8")
    ham = tmp_path / "ham.txt"
    ham.write_text("Lecture notes for week 2 are up\nWho wants to pair on the SQL task?\n", encoding="utf-8")
    out = tmp_path / "model.npz"
    assert main(["train", "--spam", str(spam), "--ham", str(ham), "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out and out.stat().st_size > 1000
    test = tmp_path / "test.tsv"
    test.write_text("spam\tEarn $500 a day from home, DM me now\nham\tIs the capstone due on Friday?\n"
                    "spam\t兼职日结，在家日赚300，加vx：abc8866\nham\t请问第三周作业是周五交吗？\n", encoding="utf-8")
    assert main(["eval", str(test), "--model", str(out)]) == 0
    line = capsys.readouterr().out
    assert "precision" in line and "recall" in line and "F1" in line and "FPR" in line
    assert "n=4 spam=2" in line


def test_train_and_eval_errors_name_the_file(tmp_path, capsys):
    assert main(["train", "--spam", str(tmp_path / "missing.txt")]) == 2
    assert "missing.txt: file not found" in capsys.readouterr().err
    assert main(["eval"]) == 2
    bad = tmp_path / "bad.tsv"
    bad.write_text("what\tever\n", encoding="utf-8")
    assert main(["eval", str(bad)]) == 2
    assert "bad.tsv:1" in capsys.readouterr().err


def _history(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'bot.db'}"

    async def build():
        bot = await BotHarness.create(tmp_path, db_url=url)
        await bot.say("alice", "Does anyone know if lesson 4 is due Friday?")
        await bot.say("spammer", "Earn $500 a day from home, DM me now https://bit.ly/3xProfit")
        for i in range(5):
            await bot.say(f"r{i}", "Join our crypto signals group t.me/+pumpgroup now")
        await bot.close()

    asyncio.run(build())
    return url


def test_scan_json_lists_flags_with_every_verdict(tmp_path, capsys):
    url = _history(tmp_path)
    assert main(["scan", "--db", url, "--group", "g1", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    ids = [f["member_id"] for f in data["flags"]]
    assert "spammer" in ids and "alice" not in ids and "r4" in ids
    spam = next(f for f in data["flags"] if f["member_id"] == "spammer")
    assert spam["message_id"] == "2"
    names = {c["name"] for c in spam["checks"]}
    assert {"spam", "newcomer", "flood", "raid"} <= names
    assert any(c["name"] == "spam" and c["flagged"] and "spam" in c["reason"] for c in spam["checks"])
    r4 = next(f for f in data["flags"] if f["member_id"] == "r4")
    assert any(c["name"] == "raid" and c["flagged"] for c in r4["checks"])


def test_scan_text_and_unknown_group(tmp_path, capsys):
    url = _history(tmp_path)
    assert main(["scan", "--db", url, "--group", "Course 101"]) == 0
    out = capsys.readouterr().out
    assert "flagged" in out and "✗ spam:" in out
    assert main(["scan", "--db", url, "--group", "nope"]) == 2
    assert "no group 'nope'" in capsys.readouterr().err
