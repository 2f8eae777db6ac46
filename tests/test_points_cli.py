"""`communitybot points backfill` and `communitybot schedule` on an imported history."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.app import App
from bot.cli import main
from bot.config import load_config
from bot.points import ledger_of
from storage.events import Event, EventKind


async def _history(url: str) -> None:
    app = await App.create(load_config(None), url)
    t = datetime(2026, 11, 2, 9, tzinfo=UTC)
    events = []
    for i in range(30):
        who = ("alice", "chen", "bob")[i % 3]
        events.append(Event("telegram", "-1001", EventKind.MESSAGE, t + timedelta(minutes=5 * i), member_id=who,
                            member_name=who, message_id=str(i), text=f"a long enough message {i}", group_title="Course"))
    await app.store.append_many(events)  # stored like an import: no pipeline, no points
    await app.stop()


async def _balances(url: str) -> dict[str, int]:
    app = await App.create(load_config(None), url)
    g = await app.store.find_group("Course")
    out = {m: await ledger_of(app).balance(g.pk, m) for m in ("alice", "bob", "chen")}
    await app.stop()
    return out


def test_backfill_awards_imported_history_once(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    asyncio.run(_history(url))
    assert main(["points", "backfill", "--group", "Course", "--since", "2026-11-01", "--db", url]) == 0
    assert "30 messages and reactions" in capsys.readouterr().out
    assert asyncio.run(_balances(url)) == {"alice": 10, "bob": 10, "chen": 10}
    assert main(["points", "backfill", "--group", "Course", "--since", "2026-11-01", "--db", url]) == 0
    assert "0 points newly awarded" in capsys.readouterr().out
    assert asyncio.run(_balances(url)) == {"alice": 10, "bob": 10, "chen": 10}


def test_cli_errors_name_the_problem(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    asyncio.run(_history(url))
    assert main(["points", "backfill", "--group", "Nope", "--db", url]) == 2
    assert "no group 'Nope'" in capsys.readouterr().err
    assert main(["points", "backfill", "--group", "Course", "--since", "last week", "--db", url]) == 2
    assert "--since must be YYYY-MM-DD" in capsys.readouterr().err


def test_schedule_lists_jobs(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    asyncio.run(_history(url))
    assert main(["schedule", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "weekly_board:1" in out and "daily_digest:1" in out and "day_of_week=mon" in out
