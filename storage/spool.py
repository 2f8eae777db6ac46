"""A bounded local spool for events received while the database is unreachable.

A plain sqlite3 file beside the bot (synchronous on purpose: it must work exactly when
the async engine does not). Events are written in arrival order and read back in the
same order when the database returns; the store's idempotency makes the write-through
safe to repeat after a crash half way.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import fields
from datetime import datetime
from pathlib import Path

from storage.events import Event, EventKind


class SpoolFull(Exception):
    """The spool holds `max_events` already; the event was not accepted."""


def event_to_json(e: Event) -> str:
    """Serialise an event (without `raw`) to JSON."""
    d = {f.name: getattr(e, f.name) for f in fields(e) if f.name != "raw"}
    d["time"] = e.time.isoformat()
    d["kind"] = e.kind.value
    d["mentions"] = list(e.mentions)
    return json.dumps(d, ensure_ascii=False, default=str)


def event_from_json(text: str) -> Event:
    """Rebuild an event written by `event_to_json`."""
    d = json.loads(text)
    d["time"] = datetime.fromisoformat(d["time"])
    d["kind"] = EventKind(d["kind"])
    d["mentions"] = tuple(d.get("mentions") or ())
    return Event(**d)


class Spool:
    """Events waiting for the database, oldest first."""

    def __init__(self, path: Path | str, max_events: int = 100_000) -> None:
        self.path = Path(path)
        self.max_events = max_events
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=FULL")
        self._con.execute("CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL)")

    def __len__(self) -> int:
        with self._lock:
            return self._con.execute("SELECT count(*) FROM spool").fetchone()[0]

    def put(self, event: Event) -> None:
        """Keep an event durably; raises `SpoolFull` past `max_events`."""
        with self._lock:
            n = self._con.execute("SELECT count(*) FROM spool").fetchone()[0]
            if n >= self.max_events:
                raise SpoolFull(f"spool {self.path} holds {n} events (max_events)")
            self._con.execute("INSERT INTO spool(event) VALUES (?)", (event_to_json(event),))

    def peek(self, limit: int = 500) -> list[tuple[int, Event]]:
        """The oldest events with their spool ids."""
        with self._lock:
            rows = self._con.execute("SELECT id, event FROM spool ORDER BY id LIMIT ?", (limit,)).fetchall()
        return [(i, event_from_json(t)) for i, t in rows]

    def remove(self, ids: list[int]) -> None:
        """Forget events once they are stored."""
        if not ids:
            return
        with self._lock:
            self._con.executemany("DELETE FROM spool WHERE id = ?", [(i,) for i in ids])

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._con.close()
