"""Onboarding's service and its due timers, on the app's injected clock.

A timer is a row (`onb_timers`): a kind, a key, a due time. `run_due()` runs every timer
due at `app.clock.now()` once — the claim is a conditional UPDATE, so a second process
or a timer racing a button press never acts twice — and nothing else ever waits:

- the running bot calls `run_due()` every `tick_seconds` from a background task (real
  clock only; with a `FakeClock` the tests and the demo call it after moving time);
- every event of a group calls it too when something is already due, so a busy group
  is punctual even between ticks;
- after a restart, due rows are simply still there: late, never lost.

Timer kinds: "gate" (a newcomer's time is up) and "delete" (a welcome, a gate message
or suggestions to remove).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from adapters.base import Action, ActionKind
from bot.clock import FakeClock
from storage.onboarding import OnboardingStore
from storage.once import SingleFlight
from storage.store import GroupInfo

if TYPE_CHECKING:
    from bot.app import App
    from bot.onboarding import OnboardingSettings

log = logging.getLogger(__name__)


class OnboardingService:
    """State and helpers shared by onboarding's steps, buttons, commands and timers."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._store: OnboardingStore | None = None
        self._next_due: float | None = None
        self._known_due = False
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self._groups: dict[int, GroupInfo] = {}
        #: (group pk, member id) → {"pending", "released_ts", "warm"}: read once per
        #: member per process, dropped whenever onboarding changes it.
        self.members: dict[tuple[int, str], dict[str, Any]] = {}
        #: Groups whose members' states were loaded at once; members to read on their own.
        self._loaded: set[int] = set()
        self._stale: set[tuple[int, str]] = set()
        self._once = SingleFlight()
        #: (group pk, member id) → (message id, channel) of their latest welcome, so a
        #: raid account gated after its welcome loses the welcome too.
        self.welcomes: dict[tuple[int, str], tuple[str, str]] = {}
        #: group pk → the raid's shared gate message (mode, question, answer, ids).
        self.raid_gates: dict[int, dict[str, Any]] = {}
        # Onboarding's own counters, on the app's registry (served at /metrics).
        from prometheus_client import Counter

        self.gate_counter = Counter("communitybot_onboarding_gates_total", "Join gates by outcome (opened, passed, failed, timeout, left)",
                                    ["platform", "outcome"], registry=app.metrics.registry)
        self.raid_counter = Counter("communitybot_onboarding_raid_gates_total", "Times a join raid switched the gate on",
                                    ["platform"], registry=app.metrics.registry)

    @property
    def store(self) -> OnboardingStore:
        """The onboarding tables (built on first use: an app may be made without a store
        to list its commands)."""
        if self._store is None:
            self._store = OnboardingStore(self.app.store.engine, self.app.store._insert)
        return self._store

    def now_ts(self) -> float:
        """The app clock as epoch seconds."""
        return self.app.clock.now().timestamp()

    async def settings(self, group: GroupInfo) -> OnboardingSettings:
        """The group's `[onboarding]` settings (chat overrides included)."""
        self._groups[group.pk] = group
        return await self.app.settings("onboarding", group)

    async def group_by_pk(self, pk: int) -> GroupInfo | None:
        """A group by primary key (cached)."""
        if pk not in self._groups:
            for g in await self.app.store.groups():
                self._groups[g.pk] = g
        return self._groups.get(pk)

    async def member_state(self, group_pk: int, member_id: str) -> dict[str, Any]:
        """Whether the member waits at the gate, when they passed it, their warm-up count."""
        key = (group_pk, member_id)
        st = self.members.get(key)
        if st is not None:
            return st
        if key not in self._stale:
            # First sight of the group: its records and open gates in two queries, not
            # two per member (a restart under load meets hundreds of members at once).
            if group_pk not in self._loaded:
                await self._once.do(("onb", group_pk), lambda: self._load_group(group_pk))
            st = self.members.get(key)
            if st is None and group_pk in self._loaded:
                st = {"pending": False, "released_ts": None, "warm": 0}  # no record, no gate
        if st is None:
            rec = await self.store.member(group_pk, member_id)
            pending = await self.store.pending_gate(group_pk, member_id) is not None
            st = {"pending": pending, "released_ts": rec["released_ts"], "warm": rec["warm_count"]}
            self._stale.discard(key)
        if len(self.members) > 50_000:
            self.members.clear()
            self._loaded.clear()
        self.members[key] = st
        return st

    async def _load_group(self, group_pk: int) -> None:
        if group_pk in self._loaded:
            return
        pending = {g["member_id"] for g in await self.store.gates(group_pk, "pending")}
        records = {r["member_id"]: r for r in await self.store.members(group_pk)}
        for member in records.keys() | pending:
            key = (group_pk, member)
            if key in self.members or key in self._stale:
                continue  # newer than what was just read
            rec = records.get(member)
            self.members[key] = {"pending": member in pending, "released_ts": rec["released_ts"] if rec else None,
                                 "warm": rec["warm_count"] if rec else 0}
        self._loaded.add(group_pk)

    def forget_state(self, group_pk: int, member_id: str) -> None:
        """Drop a member's cached gate/warm-up state (it just changed): read it again,
        on its own, when next needed."""
        self.members.pop((group_pk, member_id), None)
        self._stale.add((group_pk, member_id))

    # -- timers ----------------------------------------------------------------------
    async def add_timer(self, group: GroupInfo, kind: str, key: str, due_ts: float, data: dict | None = None) -> None:
        """Schedule a timer (see module docstring)."""
        await self.store.add_timer(group.pk, kind, key, due_ts, data)
        if self._next_due is None or due_ts < self._next_due:
            self._next_due = due_ts
        self._known_due = True

    async def delete_later(self, group: GroupInfo, message_id: str | None, channel_id: str = "",
                           minutes: float | None = None, chat_id: str | None = None) -> None:
        """Delete a message the bot sent after `minutes` (the welcome lifetime by default)."""
        if not message_id:
            return
        if minutes is None:
            minutes = (await self.settings(group)).welcome_delete_minutes
        if minutes <= 0:
            return
        chat = chat_id or group.group_id
        due = self.now_ts() + minutes * 60
        await self.add_timer(group, "delete", f"{chat}:{message_id}", due, {"chat": chat, "message_id": message_id, "channel_id": channel_id})

    async def delete_now(self, group: GroupInfo, message_id: str | None, channel_id: str = "", chat_id: str | None = None) -> None:
        """Delete a bot message now and forget any timer that would have deleted it."""
        if not message_id:
            return
        chat = chat_id or group.group_id
        await self.store.cancel_timer(group.pk, "delete", f"{chat}:{message_id}", self.now_ts())
        await self.app.act(Action(ActionKind.DELETE, group.platform, chat, message_id=message_id, channel_id=channel_id, reason="onboarding"))

    async def maybe_run_due(self) -> None:
        """Run due timers if the earliest known one is due (cheap when none is)."""
        if self._known_due and (self._next_due is None or self._next_due > self.now_ts()):
            return
        await self.run_due()

    async def run_due(self) -> list[tuple[str, str]]:
        """Run every timer due now; returns (kind, key) of those this call ran."""
        ran: list[tuple[str, str]] = []
        async with self._lock:
            now = self.now_ts()
            while batch := await self.store.due_timers(now):
                ran += await self._run_batch(batch, now)
            self._next_due = await self.store.next_due()
            self._known_due = True
        return ran

    async def _run_batch(self, batch: list[dict[str, Any]], now: float) -> list[tuple[str, str]]:
        """Claim and run one batch of due timers (every claimed row leaves the due list)."""
        from bot.onboarding_gate import gate_timeout

        ran: list[tuple[str, str]] = []
        settings: dict[int, Any] = {}
        for t in batch:
            if not await self.store.claim_timer(t["id"], now):
                continue
            group = await self.group_by_pk(t["group_pk"])
            if group is None:
                continue
            try:
                if t["kind"] == "gate":
                    if group.pk not in settings:
                        settings[group.pk] = await self.settings(group)
                    await gate_timeout(self.app, group, int(t["key"]), settings[group.pk])
                elif t["kind"] == "delete":
                    d: dict[str, Any] = t["data"]
                    await self.app.act(Action(ActionKind.DELETE, group.platform, d["chat"], message_id=d["message_id"],
                                              channel_id=d.get("channel_id", ""), reason="onboarding: expired"))
                else:
                    log.warning("onboarding: unknown timer kind %r", t["kind"])
                    continue
            except Exception:
                log.exception("onboarding timer %s %s failed", t["kind"], t["key"])
                self.app.metrics.errors.labels("onboarding_timer").inc()
                continue
            ran.append((t["kind"], t["key"]))
        return ran

    # -- lifecycle -------------------------------------------------------------------
    async def start(self, app: App) -> None:
        """Run what came due while the bot was down; then tick (real clock only)."""
        await self.run_due()
        if isinstance(app.clock, FakeClock):
            return  # tests and the demo move time themselves and call run_due()
        tick = app.config.section("onboarding").tick_seconds
        self._task = asyncio.create_task(self._loop(tick), name="onboarding-timers")

    async def _loop(self, tick: float) -> None:
        while True:
            await asyncio.sleep(tick)
            try:
                await self.maybe_run_due()
            except Exception:
                log.exception("onboarding timers failed")

    async def stop(self, app: App) -> None:
        """Stop ticking."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None

    # -- shared helpers --------------------------------------------------------------
    async def alert_target(self, group: GroupInfo) -> tuple[str, str]:
        """(chat, channel) where moderators are told things: moderation's alert chat when
        that feature is installed, else the group itself."""
        from bot.config import SECTIONS

        if "moderation" in SECTIONS:
            mod = await self.app.settings("moderation", group)
            if getattr(mod, "alerts_chat", ""):
                return mod.alerts_chat, getattr(mod, "alerts_channel", "")
            return group.group_id, getattr(mod, "alerts_channel", "")
        return group.group_id, ""

    def until(self, minutes: float) -> Any:
        """The clock's now plus `minutes`."""
        return self.app.clock.now() + timedelta(minutes=minutes)
