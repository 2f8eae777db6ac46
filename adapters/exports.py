"""Chat-history importers: Telegram Desktop `result.json` and DiscordChatExporter JSON.

Both stream the file with ijson, so a 1 GB export never sits whole in memory: the
header (chat id, guild, channel) is read first, then messages one at a time, each
translated to `Event`s by a pure function (`telegram_message_events`,
`discord_message_events`). Bad input raises `ExportError` naming the file, the message
index and the byte offset; kinds the importer does not know are counted, not fatal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import ijson

from adapters.export_discord import discord_message_events
from adapters.export_telegram import parse_time, telegram_chat_id, telegram_message_events
from storage.events import Event

__all__ = [
    "ExportError",
    "ExportHeader",
    "parse_time",
    "detect_format",
    "iter_export",
    "telegram_chat_id",
    "telegram_message_events",
    "discord_message_events",
]


class ExportError(Exception):
    """An export that cannot be read, with the file and position it went wrong at."""

    def __init__(self, path: Path | str, what: str, index: int | None = None, offset: int | None = None) -> None:
        where = []
        if index is not None:
            where.append(f"message #{index}")
        if offset is not None:
            where.append(f"near byte {offset}")
        loc = f" ({', '.join(where)})" if where else ""
        super().__init__(f"{path}{loc}: {what}")
        self.path = str(path)
        self.what = what
        self.index = index
        self.offset = offset


@dataclass
class ExportHeader:
    """What an export says about its chat before the messages."""

    format: str  # "telegram" or "discord"
    platform: str
    group_id: str
    title: str
    channel_id: str = ""
    channel_title: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class _CountingReader:
    """A binary file wrapper that knows how many bytes have been read (for offsets and
    the progress bar)."""

    def __init__(self, f: IO[bytes], on_read: Callable[[int], None] | None = None) -> None:
        self.f = f
        self.pos = 0
        self.on_read = on_read

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.pos += len(data)
        if self.on_read and data:
            self.on_read(len(data))
        return data


def _header_complete(found: dict[str, Any]) -> bool:
    return {"id", "type"} <= found.keys() or {"guild", "channel"} <= found.keys()


def _top_level(path: Path) -> dict[str, Any]:
    """Top-level fields other than `messages`, read as a stream (stops at `messages`
    once the header is known, so a huge file costs only its first bytes)."""
    found: dict[str, Any] = {}
    keys: list[str] = []
    with open(path, "rb") as f:
        reader = _CountingReader(f)
        cur: str | None = None
        builder: ijson.ObjectBuilder | None = None
        try:
            for prefix, event, value in ijson.parse(reader, use_float=True):
                if prefix == "":
                    if event == "map_key":
                        cur = value
                        keys.append(value)
                        if value in ("messages", "chats"):
                            builder = None
                            if _header_complete(found):
                                break
                        else:
                            builder = ijson.ObjectBuilder()
                    elif event == "end_map":
                        break
                    elif event != "start_map":
                        raise ExportError(path, "not a chat export: the file is not a JSON object")
                    continue
                if builder is not None:
                    builder.event(event, value)
                    if prefix == cur and event not in ("start_map", "start_array", "map_key"):
                        found[cur] = builder.value
                        builder = None
        except ijson.common.IncompleteJSONError as exc:
            if not keys:
                raise ExportError(path, f"not JSON, or truncated before any content ({exc})", offset=reader.pos) from exc
        except ijson.common.JSONError as exc:
            raise ExportError(path, f"not valid JSON ({exc})", offset=reader.pos) from exc
    found["__keys__"] = keys
    return found


def detect_format(path: Path | str) -> ExportHeader:
    """Read an export's header and tell which importer it needs (by shape, not name)."""
    path = Path(path)
    if not path.exists():
        raise ExportError(path, "file not found")
    if path.is_dir():
        raise ExportError(path, "is a directory; give the export's result.json or .json file")
    top = _top_level(path)
    keys = set(top.get("__keys__", []))
    if "guild" in keys and "channel" in keys:
        guild, channel = top.get("guild") or {}, top.get("channel") or {}
        if not isinstance(guild, dict) or "id" not in guild:
            raise ExportError(path, "DiscordChatExporter file without guild.id")
        return ExportHeader(
            "discord",
            "discord",
            str(guild["id"]),
            str(guild.get("name") or ""),
            channel_id=str(channel.get("id") or ""),
            channel_title=str(channel.get("name") or ""),
            extra={"category": channel.get("category")},
        )
    if "chats" in keys and "messages" not in keys:
        raise ExportError(
            path,
            "this is a full Telegram account export; export a single chat instead "
            "(chat menu → Export chat history → JSON)",
        )
    if "messages" in keys and "id" in keys and "type" in keys:
        try:
            gid = telegram_chat_id(top["id"], str(top["type"]))
        except (TypeError, ValueError) as exc:
            raise ExportError(path, f"bad chat id/type {top.get('id')!r}/{top.get('type')!r}") from exc
        return ExportHeader("telegram", "telegram", gid, str(top.get("name") or ""), extra={"type": top["type"]})
    if "messages" in keys:
        raise ExportError(path, "has messages but no chat 'id' and 'type' (Telegram) or 'guild' and 'channel' (Discord)")
    raise ExportError(path, "not a chat export: expected a Telegram Desktop result.json or a DiscordChatExporter JSON file")


def iter_export(
    path: Path | str,
    header: ExportHeader,
    skipped: Counter,
    on_read: Callable[[int], None] | None = None,
    export_tz: ZoneInfo | None = None,
) -> Iterator[Event]:
    """Stream the export's events in file order. Unknown kinds go to `skipped`."""
    path = Path(path)
    with open(path, "rb") as f:
        reader = _CountingReader(f, on_read)
        index = -1
        try:
            for index, msg in enumerate(ijson.items(reader, "messages.item", use_float=True)):
                if not isinstance(msg, dict):
                    raise ExportError(path, f"message is a {type(msg).__name__}, expected an object", index, reader.pos)
                try:
                    if header.format == "telegram":
                        yield from telegram_message_events(msg, header.group_id, header.title, skipped, export_tz)
                    else:
                        yield from discord_message_events(msg, header.group_id, header.title, header.channel_id, skipped)
                except ExportError:
                    raise
                except (KeyError, ValueError, TypeError) as exc:
                    raise ExportError(path, str(exc), index, reader.pos) from exc
        except ijson.common.IncompleteJSONError as exc:
            raise ExportError(path, f"file ends early (truncated?): {exc}", index + 1, reader.pos) from exc
        except ijson.common.JSONError as exc:
            raise ExportError(path, f"invalid JSON: {exc}", index + 1, reader.pos) from exc
