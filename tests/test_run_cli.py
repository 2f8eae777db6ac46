"""`communitybot run` and `check-config --online` as real processes against the fake
Bot API, configured only through the config file and the environment."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
from telegram_harness import GROUP, PEOPLE, group

ROOT = Path(__file__).resolve().parent.parent


def config(tmp_path, fake, extra: str = "") -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[telegram]\nenabled = true\ntoken_env = "RUNCLI_TOKEN"\napi_base_url = "{fake.base_url}"\n'
                   f"poll_timeout = 1\n{extra}", encoding="utf-8")
    return cfg


async def run_cli(*args, token: str, cwd: Path, timeout: float = 120) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RUNCLI_TOKEN": token}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", *args, cwd=cwd, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode()


async def test_check_config_online(tmp_path, fake):
    cfg = config(tmp_path, fake)
    db = f"sqlite:///{tmp_path / 'c.db'}"
    code, out = await run_cli("check-config", "--config", str(cfg), "--db", db, "--online", token=fake.token, cwd=tmp_path)
    assert code == 0, out
    assert "token valid: @" in out and "database" in out and "reachable" in out
    assert fake.token not in out and "$RUNCLI_TOKEN (set)" in out
    code, out = await run_cli("check-config", "--config", str(cfg), "--db", db, "--online", token="999:WRONG", cwd=tmp_path)
    assert code == 2 and "rejected the token" in out and "999:WRONG" not in out


async def test_check_config_names_missing_secret(tmp_path, fake):
    cfg = config(tmp_path, fake)
    env_less = {k: v for k, v in os.environ.items() if k != "RUNCLI_TOKEN"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "check-config", "--config", str(cfg),
                                                cwd=tmp_path, env={**env_less, "PYTHONPATH": str(ROOT)},
                                                stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    assert proc.returncode == 2 and b"RUNCLI_TOKEN" in err and b"not set" in err


async def test_run_with_a_wrong_token_says_so(tmp_path, fake):
    code, out = await run_cli("run", "--config", str(config(tmp_path, fake)), "--db", f"sqlite:///{tmp_path / 'r.db'}",
                              token="999:WRONG", cwd=tmp_path)
    assert code == 2, out
    assert "Traceback" not in out and "999:WRONG" not in out and "token" in out.lower()


async def test_run_serves_metrics_and_stops_on_sigterm(tmp_path, fake):
    cfg = config(tmp_path, fake, '[health]\nenabled = true\nport = 0\n')
    # port 0 is not reachable from outside the process: use a fixed free port instead
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg.write_text(cfg.read_text().replace("port = 0", f"port = {port}"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RUNCLI_TOKEN": fake.token}
    log_path = tmp_path / "run.log"
    log_file = open(log_path, "wb")  # noqa: SIM115 - closed below, after the process ends
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", "--config", str(cfg), "--db",
                                                f"sqlite:///{tmp_path / 'r.db'}", "--log-level", "DEBUG",
                                                "--log-format", "json", cwd=tmp_path, env=env,
                                                stderr=log_file)  # a file: a full pipe would block the bot
    try:
        for i in range(5):
            await fake.push(message={"message_id": 100 + i, "date": 1764072000 + i, "chat": group(GROUP, "G"),
                                     "from": PEOPLE["alice"], "text": f"hello number {i} from the course"})

        async def scraped() -> str:
            try:
                async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/metrics") as r:
                    return await r.text()
            except aiohttp.ClientError:
                return ""

        text = ""
        for _ in range(1200):  # generous: a loaded CI machine starts Python slowly
            text = await scraped()
            if 'communitybot_events_ingested_total{kind="message",platform="telegram"} 5.0' in text:
                break
            await asyncio.sleep(0.1)
        assert 'communitybot_events_ingested_total{kind="message",platform="telegram"} 5.0' in text
        async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/readyz") as r:
            assert r.status == 200 and '"adapter:telegram": true' in await r.text()
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)
        log_file.close()
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert proc.returncode == 0, log[-3000:]
    # A full run's logs at DEBUG, every library included: the token never appears.
    assert log.count("\n") > 20 and fake.token not in log and "/bot123:" not in log


async def test_run_with_a_community_of_two_chats(tmp_path, fake):
    """`communitybot run` configured only by its file: two Telegram chats form one
    community, so /top in one lists the members of both."""
    from telegram_harness import OTHER, until

    cfg = config(tmp_path, fake, f'[[communities]]\nid = "course"\ntitle = "Course 101"\ntelegram = [{GROUP}, {OTHER}]\n'
                                 '[communities.onboarding]\nwelcome = false\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RUNCLI_TOKEN": fake.token}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", "--config", str(cfg), "--db",
                                                f"sqlite:///{tmp_path / 'r.db'}", cwd=tmp_path, env=env,
                                                stderr=asyncio.subprocess.DEVNULL)
    try:
        date = 1764072000
        for i, (chat, who) in enumerate([(GROUP, "alice"), (OTHER, "bob"), (OTHER, "bob"), (GROUP, "chen")]):
            await fake.push(message={"message_id": 200 + i, "date": date + i, "chat": group(chat, "G"),
                                     "from": PEOPLE[who], "text": f"a message about the capstone, number {i}"})
        await fake.push(message={"message_id": 300, "date": date + 10, "chat": group(GROUP, "G"),
                                 "from": PEOPLE["chen"], "text": "/top all"})

        def answer() -> str:
            texts = [c.params.get("text", "") for c in fake.called("sendMessage") if int(c.params["chat_id"]) == GROUP]
            return next((t for t in texts if "Course 101" in t), "")

        await until(answer, "the /top answer", tries=6000)
        board = answer()
        assert "Course 101 · Telegram" in board and "Bob" in board and "Alice" in board and "Chen" in board
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 60)
    assert proc.returncode == 0


async def test_run_with_two_workers_shards_groups_and_stops_cleanly(tmp_path, fake):
    """`[bot] workers = 2`: the parent polls the fake Bot API, the workers store and
    answer; every update stored once, a command answered once, SIGTERM stops all."""
    import sqlite3

    from telegram_harness import until

    cfg = config(tmp_path, fake, '[bot]\nworkers = 2\n[moderation]\nmode = "observe"\n')
    db = tmp_path / "w.db"
    n = 30
    ids = [await fake.push(message={"message_id": 2000 + i, "date": 1764072000 + i, "chat": group(GROUP - i % 5, "G"),
                                    "from": PEOPLE["alice"], "text": f"sharded message {i}"}) for i in range(n)]

    def stored() -> list[str]:
        try:
            with sqlite3.connect(db) as conn:
                return [r[0] for r in conn.execute("select text from events")]
        except sqlite3.OperationalError:
            return []  # not migrated yet

    env = {**os.environ, "PYTHONPATH": str(ROOT), "RUNCLI_TOKEN": fake.token}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", "--config", str(cfg), "--db", f"sqlite:///{db}",
                                                cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE)
    try:
        await until(lambda: fake.offsets and max(fake.offsets) > ids[-1], "all updates acknowledged", tries=12000)
        await fake.push(message={"message_id": 5000, "date": 1764079999, "chat": group(GROUP, "G"),
                                 "from": PEOPLE["bob"], "text": "/ping"})
        await until(lambda: [c for c in fake.called("sendMessage") if c.params["text"] == "pong"], "the answer", tries=12000)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    assert "2 worker processes" in err.decode()
    assert [c.params["text"] for c in fake.called("sendMessage")].count("pong") == 1
    assert sorted(stored()) == sorted([f"sharded message {i}" for i in range(n)] + ["/ping"])
