"""Logging: human-readable lines by default, JSON lines with `--log-format json`; each
line carries the group and event it is about, and known secrets are masked in every
line, whatever logged them (a token inside a library's URL included)."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime

from storage.events import Event

_ctx: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("communitybot_log_ctx", default=None)
_SECRETS: set[str] = set()


def bind_event(event: Event) -> None:
    """Attach the event's platform, group and key to log lines of the current task."""
    _ctx.set({"platform": event.platform, "group": event.group_id, "event": event.key})


def add_secret(value: str | None) -> None:
    """Mask `value` in every log line from now on (tokens, passwords)."""
    if value and len(value) >= 6:
        _SECRETS.add(value)


def redact(text: str) -> str:
    """`text` with every registered secret replaced by ***."""
    for s in _SECRETS:
        if s in text:
            text = text.replace(s, "***")
    return text


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = _ctx.get() or {}
        record.cb_platform = ctx.get("platform", "")
        record.cb_group = ctx.get("group", "")
        record.cb_event = ctx.get("event", "")
        return True


class TextFormatter(logging.Formatter):
    """`time level logger [platform:group event] message`, secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        where = ""
        if getattr(record, "cb_group", ""):
            where = f" [{record.cb_platform}:{record.cb_group} {record.cb_event}]"
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M:%S")
        line = f"{ts} {record.levelname} {record.name}{where}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, platform, group, event, exc."""

    def format(self, record: logging.LogRecord) -> str:
        obj = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("platform", "group", "event"):
            v = getattr(record, f"cb_{key}", "")
            if v:
                obj[key] = v
        if record.exc_info:
            obj["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(obj, ensure_ascii=False))


def setup_logging(level: str = "WARNING", fmt: str = "text", stream=None) -> None:
    """Configure the root logger once for the process."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_ContextFilter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(getattr(logging, str(level).upper(), logging.WARNING))
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
