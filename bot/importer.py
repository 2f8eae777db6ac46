"""`communitybot import`: chat exports → the event store, in batches, with a summary of
what was new and what was already there."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from adapters.exports import ExportError, ExportHeader, detect_format, iter_export
from storage.events import EventKind
from storage.store import BATCH, EventStore


@dataclass
class ImportSummary:
    """What an import did, per file and in total."""

    events_new: int = 0
    events_duplicate: int = 0
    messages: int = 0
    members: set[tuple[str, str]] = field(default_factory=set)
    members_new: int = 0
    groups: dict[tuple[str, str], str] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)
    files: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The summary as printed by `--json`."""
        return {
            "events_new": self.events_new,
            "events_duplicate": self.events_duplicate,
            "messages": self.messages,
            "members": len(self.members),
            "members_new": self.members_new,
            "groups": [{"platform": p, "group_id": g, "title": t} for (p, g), t in self.groups.items()],
            "skipped": dict(self.skipped),
            "files": self.files,
        }


#: A join or leave in an export and one the bot stored live from a `chat_member` update
#: within this many seconds are the same membership change.
TWIN_SECONDS = 120


async def drop_live_twins(store: EventStore, group_pk: int, batch: list, summary: ImportSummary) -> list:
    """Drop the export's joins and leaves that the bot already stored live.

    A live join reaches the store from Telegram's `chat_member` update (keyed by its
    time, as it has no message id); the export has the same join as a service message
    (keyed by its message id). Different keys, one join: the export's copy counts as
    already stored."""
    membership = [e for e in batch if e.kind in (EventKind.JOIN, EventKind.LEAVE) and e.member_id]
    if not membership:
        return batch
    since = min(e.time for e in membership) - timedelta(seconds=TWIN_SECONDS)
    until = max(e.time for e in membership) + timedelta(seconds=TWIN_SECONDS)
    live: dict[tuple, list[float]] = {}
    for e in await store.events(group_pk, since=since, until=until, kinds=[EventKind.JOIN, EventKind.LEAVE]):
        if e.data.get("via") == "chat_member":
            live.setdefault((e.member_id, e.kind), []).append(e.time.timestamp())
    if not live:
        return batch
    twins = {id(e) for e in membership
             if any(abs(t - e.time.timestamp()) <= TWIN_SECONDS for t in live.get((e.member_id, e.kind), ()))}
    summary.events_duplicate += len(twins)
    return [e for e in batch if id(e) not in twins]


async def import_file(
    store: EventStore,
    path: Path,
    summary: ImportSummary,
    on_read: Callable[[int], None] | None = None,
    export_tz: ZoneInfo | None = None,
    header: ExportHeader | None = None,
) -> None:
    """Import one export into the store; add its counts to `summary`.

    Batches are committed as they fill, so on an `ExportError` part way the store
    holds the events before the bad spot, and a rerun after fixing the file adds only
    the rest (the store is idempotent).
    """
    header = header or detect_format(path)
    known = set((await store.member_names(header.platform)).keys())
    group = await store.ensure_group(header.platform, header.group_id, header.title)
    summary.groups[(header.platform, header.group_id)] = header.title
    before_new, before_dup = summary.events_new, summary.events_duplicate
    file_members: set[str] = set()
    skipped: Counter = Counter()
    messages = 0

    # Parse in a worker thread while this task writes: sqlite3 and asyncpg release the
    # GIL while they work, so reading the next batch overlaps writing this one. The
    # queue is bounded, so memory stays flat whatever the file size.
    loop = asyncio.get_running_loop()
    q: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()

    def produce() -> None:
        nonlocal messages
        batch: list = []
        try:
            for ev in iter_export(path, header, skipped, on_read, export_tz):
                batch.append(ev)
                if ev.is_message:
                    messages += 1
                if ev.member_id is not None:
                    file_members.add(ev.member_id)
                if len(batch) >= BATCH:
                    q.put(batch)
                    batch = []
                    if stop.is_set():
                        return
            q.put(batch)
            q.put(None)
        except BaseException as exc:  # handed to the writer, which re-raises it
            q.put(batch)
            q.put(exc)

    producer = loop.run_in_executor(None, produce)
    try:
        while True:
            item = await loop.run_in_executor(None, q.get)
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            item = await drop_live_twins(store, group.pk, item, summary)
            if item:
                res = await store.append_many(item)
                summary.events_new += res.new
                summary.events_duplicate += res.duplicate
    finally:
        stop.set()
        while not producer.done():
            try:
                q.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.01)
        await store.link_replies(group.pk)
        summary.messages += messages
        summary.skipped.update(skipped)
        new_members = file_members - known
        summary.members_new += len(new_members - {m for p, m in summary.members if p == header.platform})
        summary.members.update((header.platform, m) for m in file_members)
        summary.files.append(
            {
                "file": str(path),
                "format": header.format,
                "group_id": header.group_id,
                "title": header.title,
                "events_new": summary.events_new - before_new,
                "events_duplicate": summary.events_duplicate - before_dup,
                "messages": messages,
            }
        )


async def import_files(
    store: EventStore,
    paths: Sequence[Path],
    on_file: Callable[[Path, int], Callable[[int], None] | None] | None = None,
    export_tz: ZoneInfo | None = None,
) -> ImportSummary:
    """Import several exports (format detected by shape). Headers are all checked
    first, so a wrong file is reported before anything is written."""
    headers = [detect_format(p) for p in paths]
    summary = ImportSummary()
    for path, header in zip(paths, headers, strict=True):
        on_read = on_file(path, path.stat().st_size) if on_file else None
        await import_file(store, path, summary, on_read, export_tz, header)
    return summary


__all__ = ["ExportError", "ImportSummary", "import_file", "import_files"]
