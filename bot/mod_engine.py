"""The moderation service: per-group windows, settings, trust and the classifier.

`app.services["moderation"]` is a `ModerationService`. Other features use two hooks:

- `on_spam_confirmed`: async callables `fn(app, SpamEvent)` run when a message is
  confirmed as spam (a moderator pressed "Spam", or enforce mode removed it). The
  points feature reverses the points that message earned.
- `on_spam_cleared`: the same, when a moderator marks a flagged message "Not spam"
  after it was acted on (points may be restored).
"""

from __future__ import annotations

import asyncio
import logging
import time as _time
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select

from bot import native
from bot.config import register_section, setting
from bot.mod_model import load_model
from scoring.anomaly import AnomalySettings
from scoring.checks import (
    SEVERITIES,
    BlocklistSettings,
    FloodSettings,
    MentionSettings,
    NewcomerSettings,
    RaidSettings,
    RepeatSettings,
    ShoutingSettings,
    SymbolSettings,
)
from scoring.screen import Screener, default_checks
from scoring.spam import SpamModel, SpamSettings
from scoring.window import GroupWindow, MemberWindow
from storage import fastread, fresh
from storage.events import Event, EventKind
from storage.models import EventRow
from storage.moderation import ModerationStore
from storage.once import SingleFlight
from storage.store import GroupInfo

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

MODES = ("observe", "alert", "enforce", "dry_run")


@dataclass
class ModerationSettings:
    """How moderation acts in a group, where alerts go, trust, reports and warnings."""

    mode: str = setting("alert", "observe (record only), alert (tell moderators), enforce (act by severity), dry_run (alert with what enforce would do).")
    alerts_chat: str = setting("", "Chat/server id (same platform) where alerts go; empty: the group itself, where only moderators can press the buttons.")
    alerts_channel: str = setting("", "Channel or topic inside alerts_chat for alerts (Discord channel id); empty: the flagged message's channel.")
    alert_min_severity: str = setting("medium", "Lowest severity that alerts; lower verdicts are only written to the audit log.")
    mute_minutes: int = setting(60, "Mute length for medium severity in enforce mode and for the 'Mute' button.")
    trust_days: float = setting(7.0, "Members seen this many days...")
    trust_messages: int = setting(20, "...with this many messages and no confirmed spam are trusted (skip content checks).")
    trust_admins: bool = setting(True, "Admins and moderators are trusted.")
    report_hide: int = setting(3, "Reports from different members that hide (delete) a message; 0 never hides.")
    report_limit: int = setting(5, "Reports one member may make per hour.")
    warn_limit: int = setting(3, "Warnings within warn_days that mute the member.")
    warn_days: float = setting(30.0, "How long warnings count.")
    warn_mute_hours: float = setting(24.0, "Mute length when the warning limit is reached.")
    learn: bool = setting(True, "Moderator decisions train the spam classifier.")
    model_path: str = setting("", "Spam model file written by `communitybot train`; empty: the built-in base model.")

    def check(self) -> str | None:
        """Validate the enumerated fields."""
        if self.mode not in MODES:
            return f"mode must be one of {', '.join(MODES)}, got {self.mode!r}"
        if self.alert_min_severity not in SEVERITIES:
            return f"alert_min_severity must be one of {', '.join(SEVERITIES)}, got {self.alert_min_severity!r}"
        return None


#: Config section of each check's settings: `[check_flood]`, `[check_spam]`, ...
CHECK_SECTIONS: dict[str, type] = {
    "raid": RaidSettings,
    "flood": FloodSettings,
    "repeat": RepeatSettings,
    "newcomer": NewcomerSettings,
    "mentions": MentionSettings,
    "shouting": ShoutingSettings,
    "symbols": SymbolSettings,
    "blocklist": BlocklistSettings,
    "spam": SpamSettings,
    "anomaly": AnomalySettings,
}


def register_settings() -> None:
    """Register `[moderation]` and one `[check_<name>]` section per check."""
    register_section("moderation", ModerationSettings)
    for name, cls in CHECK_SECTIONS.items():
        register_section(f"check_{name}", cls)


register_settings()


@dataclass
class GroupSettings:
    """Everything moderation reads for one group, resolved once and cached."""

    mod: ModerationSettings
    checks: dict[str, Any]
    at: float


@dataclass
class TrustRecord:
    """A member's standing, kept in memory and written back now and then."""

    first_ts: float
    messages: int = 0
    spam: int = 0
    ham: int = 0
    unsaved: int = 0


@dataclass(frozen=True)
class SpamEvent:
    """What `on_spam_confirmed` / `on_spam_cleared` callbacks receive."""

    group: GroupInfo
    member_id: str | None
    message_id: str | None
    flag_id: int
    by: str
    ts: float


class ModerationService:
    """State shared by the moderation step, commands, buttons and CLI."""

    SETTINGS_TTL = 30.0
    ADMIN_TTL = 600.0

    def __init__(self, app: App) -> None:
        self.app = app
        self._store: ModerationStore | None = None
        mod = app.config.section("moderation")
        self.model: SpamModel = load_model(mod.model_path or None)
        native.enable()  # the screening loops in C, built once per machine (else pure Python)
        self.screener = Screener(default_checks(self.model))
        self.windows: dict[int, GroupWindow] = {}
        self.trust: dict[tuple[int, str], TrustRecord] = {}
        self.cluster_flags: dict[tuple[int, str], int] = {}
        #: A member's latest flag (a copy and when to read it again), which their next flagged
        #: messages join (`mod_policy.member_flag`).
        self.member_flags: dict[tuple[int, str], tuple[dict, float]] = {}
        #: Flag id → its last stored (member, message) pairs and their JSON pieces (`mod_policy`).
        self.flag_json: dict[int, tuple[list, list[str]]] = {}
        self.on_spam_confirmed: list = []
        self.on_spam_cleared: list = []
        self._settings: dict[int, GroupSettings] = {}
        self._admins: dict[tuple[int, str], tuple[bool, float]] = {}
        self._groups: dict[int, GroupInfo] = {}
        self._ready = False
        self._loaded: set[int] = set()
        self._lock = asyncio.Lock()
        self._once = SingleFlight()

    @property
    def store(self) -> ModerationStore:
        """The moderation tables on the app's store (made on first use)."""
        if self._store is None:
            self._store = ModerationStore(self.app.store.engine, self.app.store._insert, self.app.store.writes)
        return self._store

    async def ready(self) -> None:
        """Replay stored moderator labels into the classifier once per process."""
        if self._ready:
            return
        async with self._lock:
            if self._ready:
                return
            for label, text in await self.store.labels():
                self.model.learn(text, label)
            self._ready = True

    def now(self) -> float:
        """The app clock as epoch seconds."""
        return self.app.clock.now().timestamp()

    def window(self, group_pk: int) -> GroupWindow:
        """The group's in-memory window."""
        w = self.windows.get(group_pk)
        if w is None:
            w = self.windows[group_pk] = GroupWindow()
        return w

    async def settings(self, group: GroupInfo) -> GroupSettings:
        """The group's moderation and check settings (cached for SETTINGS_TTL seconds)."""
        now = _time.monotonic()
        gs = self._settings.get(group.pk)
        if gs is None or now - gs.at > self.SETTINGS_TTL:
            mod = await self.app.settings("moderation", group)
            checks = {name: await self.app.settings(f"check_{name}", group) for name in CHECK_SECTIONS}
            gs = self._settings[group.pk] = GroupSettings(mod, checks, now)
        self._groups[group.pk] = group
        return gs

    def forget_flag(self, flag_id: int | None = None, group_pk: int | None = None) -> None:
        """Drop in-memory copies of a flag (it was decided or changed), or of every flag
        of a group (a member was forgotten: a copy may still hold their id)."""
        for key, (flag, _) in list(self.member_flags.items()):
            if flag["id"] == flag_id or key[0] == group_pk:
                del self.member_flags[key]

    def invalidate(self, group_pk: int | None = None) -> None:
        """Forget cached settings (after `/config set`)."""
        if group_pk is None:
            self._settings.clear()
        else:
            self._settings.pop(group_pk, None)

    async def group_by_pk(self, pk: int) -> GroupInfo | None:
        """A group by its primary key."""
        if pk not in self._groups:
            for g in await self.app.store.groups():
                self._groups[g.pk] = g
        return self._groups.get(pk)

    async def member_window(self, group: GroupInfo, event: Event) -> MemberWindow:
        """The member's window, seeded from the trust table or stored history on first sight."""
        w = self.window(group.pk)
        mid = event.member_id or ""
        if w.has_member(mid):
            return w.member(mid)
        rec = await self.trust_record(group, mid, event)
        m = w.member(mid)
        m.first_ts = rec.first_ts
        # The window counts this message itself when the screener notes it.
        m.messages = max(rec.messages - (1 if event.kind in (EventKind.MESSAGE, EventKind.COMMAND) else 0), 0)
        return m

    async def trust_record(self, group: GroupInfo, member_id: str, event: Event | None = None) -> TrustRecord:
        """The member's trust record: from memory, else new (history is loaded per group)."""
        key = (group.pk, member_id)
        rec = self.trust.get(key)
        if rec is not None:
            return rec
        if group.pk not in self._loaded:
            await self._once.do(group.pk, lambda: self._load_group(group))
            rec = self.trust.get(key)
            if rec is not None:
                return rec
        ts = event.time.timestamp() if event is not None else self.now()
        # Unknown after loading: the member's first event is the one being handled.
        rec = self.trust[key] = TrustRecord(ts, 0)
        return rec

    async def _load_group(self, group: GroupInfo) -> None:
        """Load every member's standing once: trust rows, else first time and message
        count from stored history (one grouped query, also for imported history)."""
        if group.pk in self._loaded:
            return
        # A group created in this turn has no history yet (`storage.fresh`).
        engine = self.app.store.engine
        history = [] if fresh.unread(engine, group.pk) else await fastread.rows(engine, _history_query(), {"hq_g": group.pk})
        for mid, first, n in history:
            self.trust.setdefault((group.pk, mid), TrustRecord(float(first), int(n)))
        for row in await self.store.trust_rows(group.pk):
            self.trust[(group.pk, row["member_id"])] = TrustRecord(row["first_ts"], row["messages"], row["spam"], row["ham"])
        self._loaded.add(group.pk)

    async def note_clean(self, group: GroupInfo, member_id: str, rec: TrustRecord) -> None:
        """Count one unflagged message; write the record back every 25 messages."""
        rec.messages += 1
        rec.unsaved += 1
        if rec.unsaved >= 25:
            await self.save_trust(group.pk, member_id, rec)

    async def save_trust(self, group_pk: int, member_id: str, rec: TrustRecord) -> None:
        """Write one trust record."""
        rec.unsaved = 0
        await self.store.save_trust(group_pk, member_id, rec.first_ts, rec.messages, rec.spam, rec.ham, self.now())

    async def flush(self) -> None:
        """Write every changed trust record (at stop), in one transaction."""
        rows = []
        for (pk, mid), rec in list(self.trust.items()):
            if rec.unsaved:
                rec.unsaved = 0
                rows.append((pk, mid, rec.first_ts, rec.messages, rec.spam, rec.ham))
        if rows:
            await self.store.save_trust_many(rows, self.now())

    async def is_admin(self, group: GroupInfo, member_id: str) -> bool:
        """`app.is_admin`, cached for ADMIN_TTL seconds (it may be a platform call)."""
        key = (group.pk, member_id)
        hit = self._admins.get(key)
        now = _time.monotonic()
        if hit is not None and now - hit[1] < self.ADMIN_TTL:
            return hit[0]
        ok = await self.app.is_admin(group, member_id)
        self._admins[key] = (ok, now)
        return ok

    async def is_trusted(self, group: GroupInfo, member_id: str, rec: TrustRecord, s: ModerationSettings, ts: float) -> bool:
        """Admins (if trust_admins), or tenure plus enough clean messages and no spam."""
        if rec.spam == 0 and rec.messages >= s.trust_messages and ts - rec.first_ts >= s.trust_days * 86400:
            return True
        return bool(s.trust_admins and await self.is_admin(group, member_id))

    async def fire(self, hooks: list, event: SpamEvent) -> None:
        """Run spam hooks, each in its own error boundary."""
        for fn in list(hooks):
            try:
                await fn(self.app, event)
            except Exception:
                log.exception("spam hook %r failed", fn)


@cache
def _history_query():
    """Each member's first time and message count in a group's stored history, built once
    with a bound parameter (building it cost a new group 0.5 ms)."""
    t = EventRow.__table__
    kinds = [EventKind.MESSAGE.value, EventKind.COMMAND.value, EventKind.JOIN.value]
    return (
        select(t.c.member_id, func.min(t.c.ts), func.count())
        .where(t.c.group_pk == bindparam("hq_g"), t.c.member_id.is_not(None), t.c.kind.in_(kinds))
        .group_by(t.c.member_id)
    )
