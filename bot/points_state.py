"""In-process memory for the points rules, so a message costs no extra reads.

The rules need, per member and day, the last message award (cooldown), today's capped
points and reaction points (caps), whether the member earned today (streaks) and the
XP (levels); and, for helpful answers, who wrote a recent message and what it replied
to. Reading those from the database for every message made the points step five times
slower than storing the event. `RuleState` loads a member's figures once per day from
the ledger (`Ledger.stats`) and then keeps them current as grants are written; recent
messages are remembered as they pass through the pipeline; the group's settings are
re-read every `SETTINGS_TTL` seconds and right after a `/config` command.

The ledger stays the truth: idempotency keys are enforced by the database, so a stale
memory can never pay an event twice. Writes that bypass `grant` (reversals, restores)
call `forget`. With several instances on one database, each instance's caps and
cooldowns are its own view (a member could earn slightly more than the daily cap across
instances); exact-once per event still holds.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from scoring.textnorm import untrack
from storage.ledger import MemberStats
from storage.once import SingleFlight

#: Seconds a group's points settings are reused before being read again.
SETTINGS_TTL = 10.0
#: Recent messages remembered for helpful-answer checks.
MESSAGES = 50_000
#: Members whose daily figures are kept.
MEMBERS = 100_000


@dataclass
class _Day:
    day_start: float
    last_message: float | None
    today_capped: int
    today_reaction: int
    today_messages: int
    xp: int

    def snapshot(self) -> MemberStats:
        return MemberStats(self.last_message, self.today_capped, self.today_reaction, self.today_messages, self.xp)


class Seen(NamedTuple):
    """A recent message as the helpful-answer rule needs it. A tuple of strings, which the
    garbage collector stops tracking: thousands are kept, for as long as they are recent."""

    member_id: str | None
    reply_to_id: str | None
    text: str


class RuleState:
    """Per-app memory of member figures, recent messages and group settings."""

    def __init__(self) -> None:
        self._days: OrderedDict[tuple[int, str], _Day] = OrderedDict()
        self._messages: OrderedDict[tuple[int, str], Seen] = OrderedDict()
        self._ctx: dict[int, tuple[float, object]] = {}
        #: group → the day start whose figures were loaded for the whole group at once.
        self._loaded: dict[int, float] = {}
        #: Members whose figures must be read again on their own (a write bypassed `grant`).
        self._stale: set[tuple[int, str]] = set()
        #: (group, since) → (zone, {member: day numbers with a message award}): streaks.
        self._times: dict[tuple[int, float], tuple[object, dict[str, set[int]]]] = {}
        self._once = SingleFlight()

    # -- settings ------------------------------------------------------------------
    def ctx(self, group_pk: int):
        """The cached rule context of a group, or None when missing or stale."""
        hit = self._ctx.get(group_pk)
        if hit and time.monotonic() - hit[0] < SETTINGS_TTL:
            return hit[1]
        return None

    def drop_ctx(self, group_pk: int) -> None:
        """Forget a group's settings (they may have just changed)."""
        self._ctx.pop(group_pk, None)

    def keep_ctx(self, group_pk: int, rc) -> None:
        """Remember a group's rule context."""
        self._ctx[group_pk] = (time.monotonic(), rc)

    # -- member figures ------------------------------------------------------------
    async def stats(self, ledger, group_pk: int, member_id: str, day_start: float, capped: tuple[str, ...]) -> MemberStats:
        """The member's figures for the day starting at `day_start`."""
        key = (group_pk, member_id)
        day = self._days.get(key)
        if day is None or day.day_start != day_start:
            if key in self._stale or len(self._days) >= MEMBERS:
                s = await ledger.stats(group_pk, member_id, day_start, capped)
                self._stale.discard(key)
            else:
                # First sight of the group today: one query loads every member's figures
                # (a restart under load would otherwise cost a query per member).
                await self._load_group(ledger, group_pk, day_start, capped)
                day = self._days.get(key)
                s = day.snapshot() if day is not None and day.day_start == day_start else MemberStats(None, 0, 0, 0, 0)
            day = _Day(day_start, s.last_message, s.today_capped, s.today_reaction, s.today_messages, s.xp)
            self._keep(key, day)
        else:
            self._days.move_to_end(key)
        return day.snapshot()

    def _keep(self, key: tuple[int, str], day: _Day) -> None:
        self._days[key] = day
        self._days.move_to_end(key)
        if len(self._days) > MEMBERS:
            old, _ = self._days.popitem(last=False)
            self._stale.add(old)  # its group's load no longer speaks for it

    async def _load_group(self, ledger, group_pk: int, day_start: float, capped: tuple[str, ...]) -> None:
        if self._loaded.get(group_pk) == day_start:
            return

        async def load() -> None:
            if self._loaded.get(group_pk) == day_start:
                return
            figures = await ledger.group_stats(group_pk, day_start, capped)
            for member, st in figures.items():
                key = (group_pk, member)
                old = self._days.get(key)
                if old is not None and old.day_start == day_start:
                    continue  # already current (kept up to date by `note`)
                self._keep(key, _Day(day_start, st.last_message, st.today_capped, st.today_reaction, st.today_messages, st.xp))
            self._loaded[group_pk] = day_start

        await self._once.do(("stats", group_pk, day_start), load)

    async def message_days(self, ledger, group_pk: int, member_id: str, since: float, zone) -> set[date]:
        """The days (in `zone`) since `since` on which the member earned message points
        (the streak rule): loaded for the whole group at once as day numbers, kept
        current by `note`."""
        key = (group_pk, since)
        if key not in self._times:
            async def load() -> None:
                if key not in self._times:
                    for k in [k for k in self._times if k[0] == group_pk]:
                        del self._times[k]  # an older day's window
                    times = await ledger.group_times(group_pk, "message", since)
                    self._times[key] = (zone, {m: {datetime.fromtimestamp(t, zone).toordinal() for t in ts}
                                               for m, ts in times.items()})

            await self._once.do(("times", group_pk, since), load)
        entry = self._times.get(key)
        if entry is None:  # dropped by a `forget` meanwhile: read the member alone
            return {datetime.fromtimestamp(t, zone).date() for t in await ledger.times(group_pk, member_id, "message", since)}
        return {date.fromordinal(n) for n in entry[1].get(member_id, ())}

    def note(self, group_pk: int, member_id: str, amount: int, reason: str, ts: float, capped: tuple[str, ...]) -> None:
        """A grant of `amount` was written: keep the member's figures current."""
        if reason == "message" and amount > 0:
            for (g, _since), (zone, days) in self._times.items():
                if g == group_pk:
                    days.setdefault(member_id, set()).add(datetime.fromtimestamp(ts, zone).toordinal())
        key = (group_pk, member_id)
        day = self._days.get(key)
        if day is None:
            loaded = self._loaded.get(group_pk)
            if loaded is None or key in self._stale:
                return  # read from the ledger when next needed
            # Not among the group's figures when it was loaded today: no rows then.
            day = _Day(loaded, None, 0, 0, 0, 0)
            self._keep(key, day)
        if ts < day.day_start or ts >= day.day_start + 86400 * 1.1:
            self.forget(group_pk, member_id)  # another day's row: reload when next needed
            return
        day.xp += amount
        if amount > 0 and reason in capped:
            day.today_capped += amount
        if amount > 0 and reason == "reaction":
            day.today_reaction += amount
        if reason == "message":
            day.today_messages += 1
            day.last_message = ts if day.last_message is None else max(day.last_message, ts)

    def forget(self, group_pk: int, member_id: str) -> None:
        """Drop a member's figures (after a write that did not go through `grant`): they
        are read again, on their own, when next needed."""
        self._days.pop((group_pk, member_id), None)
        self._stale.add((group_pk, member_id))
        for k in [k for k in self._times if k[0] == group_pk]:
            del self._times[k]  # reloaded for the group when the streak rule next asks

    def forget_member(self, group_pk: int, member_id: str) -> None:
        """Drop everything kept in memory about a member (`/forgetme`): figures and texts."""
        self.forget(group_pk, member_id)
        for key in [k for k, v in self._messages.items() if k[0] == group_pk and v.member_id == member_id]:
            del self._messages[key]

    # -- recent messages -------------------------------------------------------------
    def seen(self, group_pk: int, message_id: str, member_id: str | None, reply_to_id: str | None, text: str) -> None:
        """Remember a message that went through the rules."""
        # Kept by the thousand for a while: out of the collector's sight (`untrack`).
        self._messages[untrack((group_pk, message_id))] = untrack(Seen(member_id, reply_to_id, text))
        if len(self._messages) > MESSAGES:
            self._messages.popitem(last=False)

    async def message(self, store, group_pk: int, message_id: str) -> Seen | None:
        """A recent message from memory, else from the store."""
        hit = self._messages.get((group_pk, message_id))
        if hit is not None:
            return hit
        e = await store.message(group_pk, message_id)
        if e is None:
            return None
        seen = untrack(Seen(e.member_id, e.reply_to_id, e.text))
        self._messages[untrack((group_pk, message_id))] = seen
        return seen


def state_of(app) -> RuleState:
    """The app's `RuleState` (created on first use)."""
    st = app.services.get("points.state")
    if st is None:
        st = app.services["points.state"] = RuleState()
    return st
