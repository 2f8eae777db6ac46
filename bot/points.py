"""Points settings, levels, level-up announcements and spam reversal.

The rules (a pipeline step, `bot.points_rules`) turn contributions into ledger rows: a
message (cooldown and minimum length, so flooding earns nothing), a reply received, a
helpful answer, a reaction received (capped per day) and a streak of active days; a
daily cap bounds them all. Every row has an idempotency key derived from the platform
ids, so a redelivered or re-imported event awards nothing twice. List this feature after
moderation in `FEATURES`, so a message moderation stops earns nothing.
`grant()` is the one door to the ledger; it also announces level-ups and hands out a
level's reward (a Discord role, a Telegram custom title).

Spam reversal: `reverse_points_for_message(app, group, message_id)` writes a reversing
row for every row a message earned. It is subscribed to moderation's
`on_spam_confirmed` hook (and `restore_points_for_message` to `on_spam_cleared`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.base import Action, ActionKind, Reply
from bot import i18n, points_texts
from bot.communities import other_xp
from bot.config import register_section, setting
from storage.ledger import Ledger, MemberStats
from storage.store import GroupInfo

log = logging.getLogger(__name__)

#: Reasons the daily cap applies to (admin grants, events and bonuses are not capped).
CAPPED = ("message", "reply", "helpful", "reaction", "streak")


@dataclass
class PointsSettings:
    """Points rules, levels and the rewards catalog."""

    enabled: bool = setting(True, "Award points for contributions.")
    message: int = setting(1, "Points for a message (at most one per cooldown).")
    message_cooldown: float = setting(60.0, "Seconds between two message awards of one member.")
    message_min_length: int = setting(8, "Characters a message needs to earn points.")
    reply_received: int = setting(1, "Points for the author of a message someone replied to.")
    helpful_answer: int = setting(5, "Points for an answer the asker reacted to or thanked for.")
    reaction_received: int = setting(1, "Points for a reaction another member gave.")
    reaction_daily_cap: int = setting(10, "Most points from reactions received per day.")
    attendance: int = setting(10, "Points for checking in to a community event.")
    streak_days: int = setting(7, "Consecutive active days that earn a streak bonus.")
    streak_bonus: int = setting(20, "Points for each completed streak.")
    daily_cap: int = setting(50, "Most points per member per day from the rules above.")
    level_curve: list[int] = setting([5, 50, 100], "a, b, c: level L→L+1 needs a·L² + b·L + c points.")
    levelup_announce: str = setting("group", "Where level-ups are announced: group, channel or off.")
    levelup_channel: str = setting("", "Channel id for level-ups when levelup_announce = channel.")
    level_rewards: dict[str, str] = setting({}, 'Level → "role:ID" (Discord) or "title:TEXT" (Telegram).')
    rewards: dict[str, int] = setting({}, "Rewards catalog from the config: name → cost (unlimited stock).")
    admin_channel: str = setting("", "Channel for redemption requests and the moderator digest.")

    def check(self) -> str | None:
        """Reject a curve that never grows or a nonsense announcement mode."""
        if len(self.level_curve) != 3 or any(v < 0 for v in self.level_curve) or sum(self.level_curve) <= 0:
            return "level_curve must be three non-negative numbers [a, b, c], not all zero"
        if self.levelup_announce not in ("group", "channel", "off"):
            return f"levelup_announce must be group, channel or off, got {self.levelup_announce!r}"
        for lvl, reward in self.level_rewards.items():
            if not lvl.isdigit() or not reward.startswith(("role:", "title:")):
                return f"level_rewards entry {lvl!r} = {reward!r}: use \"5\" = \"role:ID\" or \"title:TEXT\""
        if any(c < 0 for c in self.rewards.values()):
            return "rewards costs must be zero or more"
        return None


register_section("points", PointsSettings)
i18n.add(points_texts.CATALOG)

#: False while backfilling history: no level-up posts or rewards for old levels.
_ANNOUNCE: ContextVar[bool] = ContextVar("points_announce", default=True)


@contextmanager
def quiet_level_ups() -> Iterator[None]:
    """Within this block, level-ups are neither announced nor rewarded (backfills)."""
    token = _ANNOUNCE.set(False)
    try:
        yield
    finally:
        _ANNOUNCE.reset(token)


def level_for(xp: int, curve: list[int]) -> tuple[int, int, int]:
    """(level, points into it, points the next level needs) for `xp` on the curve."""
    a, b, c = curve
    level, left = 0, max(0, xp)
    while True:
        need = a * level * level + b * level + c
        if need <= 0 or left < need:
            return level, left, need
        left -= need
        level += 1


def group_zone(tz_name: str | None) -> ZoneInfo:
    """The group's time zone, UTC if unknown."""
    try:
        return ZoneInfo(tz_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r, using UTC", tz_name)
        return ZoneInfo("UTC")


async def zone_of(app, group: GroupInfo) -> ZoneInfo:
    """The time zone a group's days, posts and event times are in."""
    if group.timezone:
        return group_zone(group.timezone)
    return group_zone((await app.settings("bot", group)).timezone)


def ledger_of(app) -> Ledger:
    """The app's `Ledger` (created on first use, on the store's engine)."""
    led = app.services.get("ledger")
    if led is None:
        led = app.services["ledger"] = Ledger(app.store.engine, app.store.writes)
    return led


def day_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Midnight of `now`'s day in `zone`."""
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class RuleCtx:
    """A group's points settings and time zone, read once per event."""

    cfg: PointsSettings
    zone: ZoneInfo


async def rule_ctx(app, group: GroupInfo) -> RuleCtx:
    """The group's points settings and zone (re-read at most every few seconds)."""
    from bot.points_state import state_of

    state = state_of(app)
    rc = state.ctx(group.pk)
    if rc is None:
        stored = await app.store.get_settings(group.pk)
        cfg = app.config.for_group("points", group.platform, group.group_id, stored)
        tz = group.timezone or app.config.for_group("bot", group.platform, group.group_id, stored).timezone
        rc = RuleCtx(cfg, group_zone(tz))
        state.keep_ctx(group.pk, rc)
    return rc


@dataclass(frozen=True, slots=True)
class Award:
    """One ledger row to write: `capped` rows count against the daily cap."""

    member_id: str
    amount: int
    reason: str
    key: str
    ref: str | None = None
    note: str = ""
    capped: bool = False
    actor: str | None = None


async def grant_many(
    app, group: GroupInfo, awards: list[Award], *, when: datetime | None = None,
    rc: RuleCtx | None = None, channel_id: str = "",
) -> list[int]:
    """Write several ledger rows in one transaction (each once per key); returns the
    points written per award (0 for a duplicate or a capped-out one).

    Capped awards are cut to what is left of the member's daily cap, in order. A member
    whose XP crosses a level is announced, and the level's reward handed out.
    """
    from bot.points_state import state_of

    awards = [a for a in awards if a.amount and a.member_id]
    if not awards:
        return []
    led, state = ledger_of(app), state_of(app)
    when = when or app.clock.now()
    rc = rc or await rule_ctx(app, group)
    start = day_start(when, rc.zone).timestamp()
    stats: dict[str, MemberStats] = {}
    used: dict[str, int] = {}
    amounts: list[int] = []
    for a in awards:
        if a.member_id not in stats:
            stats[a.member_id] = await state.stats(led, group.pk, a.member_id, start, CAPPED)
        amount = a.amount
        if a.capped and amount > 0:
            amount = max(0, min(amount, rc.cfg.daily_cap - stats[a.member_id].today_capped - used.get(a.member_id, 0)))
            used[a.member_id] = used.get(a.member_id, 0) + amount
        amounts.append(amount)
    rows = [
        {"member_id": a.member_id, "amount": n, "reason": a.reason, "key": a.key, "ref_message_id": a.ref,
         "actor": a.actor, "note": a.note}
        for a, n in zip(awards, amounts, strict=True) if n
    ]
    written = await led.add_many(group.pk, rows, when.timestamp()) if rows else set()
    for r in rows:
        if r["key"] in written and r["amount"] > 0:
            app.metrics.points.labels(r["reason"]).inc(r["amount"])
    gained: dict[str, int] = {}
    out = []
    for a, n in zip(awards, amounts, strict=True):
        if not n or a.key not in written:
            out.append(0)
            continue
        state.note(group.pk, a.member_id, n, a.reason, when.timestamp(), CAPPED)
        gained[a.member_id] = gained.get(a.member_id, 0) + n
        out.append(n)
    curve = rc.cfg.level_curve
    for member, n in gained.items():
        # In a community a level belongs to the person: their linked accounts count too.
        xp = stats[member].xp + await other_xp(app, group, member)
        old, new = level_for(xp, curve)[0], level_for(xp + n, curve)[0]
        if new > old and _ANNOUNCE.get():
            await _level_up(app, group, member, old, new, rc.cfg, channel_id)
    return out


async def grant(
    app, group: GroupInfo, member_id: str, amount: int, reason: str, key: str, *,
    when: datetime | None = None, ref: str | None = None, actor: str | None = None,
    note: str = "", capped: bool = False, channel_id: str = "", rc: RuleCtx | None = None,
) -> int:
    """Write one ledger row (once per `key`); returns the points written (0 if none).
    See `grant_many` for caps and level-ups."""
    out = await grant_many(app, group, [Award(member_id, amount, reason, key, ref, note, capped, actor)],
                           when=when, rc=rc, channel_id=channel_id)
    return out[0] if out else 0


async def _level_up(app, group: GroupInfo, member_id: str, old: int, new: int, cfg: PointsSettings, channel_id: str) -> None:
    lang = await app.language(group)
    names = await app.store.member_names(group.platform)
    name = names.get(member_id) or member_id
    if cfg.levelup_announce != "off":
        channel = cfg.levelup_channel if cfg.levelup_announce == "channel" else channel_id
        await app.send(Reply(group.platform, group.group_id, i18n.t(lang, "points.levelup", name=name, level=new), channel_id=channel))
    for lvl in range(old + 1, new + 1):
        reward = cfg.level_rewards.get(str(lvl))
        if not reward:
            continue
        kind, _, value = reward.partition(":")
        action = ActionKind.ADD_ROLE if kind == "role" else ActionKind.SET_TITLE
        await app.act(Action(action, group.platform, group.group_id, member_id=member_id, value=value, reason=f"level {lvl}"))


async def reverse_points_for_message(app, group: GroupInfo, message_id: str, actor: str = "moderation") -> int:
    """Reverse every award a message earned (its own, replies and reactions it got,
    helpful-answer points); idempotent. Returns the points taken back.

    A reversal never takes a member below zero: points already spent stay spent.
    """
    from bot.points_state import state_of

    led = ledger_of(app)
    now = app.clock.now()
    taken = 0
    for row in await led.for_message(group.pk, message_id):
        if row.amount <= 0 or row.reason == "reversal":
            continue
        amount = min(row.amount, max(0, await led.balance(group.pk, row.member_id)))
        key = f"rev:{row.key}"
        if amount > 0 and await led.add(group.pk, row.member_id, -amount, "reversal", key, now.timestamp(), message_id, actor, f"spam {message_id}"):
            taken += amount
            state_of(app).forget(group.pk, row.member_id)
    if taken:
        await app.store.audit(group.pk, actor, "points.reverse", {"message_id": message_id, "points": taken})
    return taken


async def restore_points_for_message(app, group: GroupInfo, message_id: str, actor: str = "moderation") -> int:
    """Undo the reversals of a message a moderator cleared ("not spam"); idempotent."""
    from bot.points_state import state_of

    led = ledger_of(app)
    now = app.clock.now().timestamp()
    back = 0
    for row in await led.for_message(group.pk, message_id):
        if row.reason == "reversal" and row.amount < 0:
            if await led.add(group.pk, row.member_id, -row.amount, "restore", f"restore:{row.key}", now, message_id, actor, f"not spam {message_id}"):
                back += -row.amount
                state_of(app).forget(group.pk, row.member_id)
    if back:
        await app.store.audit(group.pk, actor, "points.restore", {"message_id": message_id, "points": back})
    return back


async def _on_spam_confirmed(app, ev) -> None:
    """Moderation's `on_spam_confirmed` hook: a `SpamEvent` (group, message_id, by)."""
    if ev.message_id:
        await reverse_points_for_message(app, ev.group, ev.message_id, actor=f"moderation:{ev.by}")


async def _on_spam_cleared(app, ev) -> None:
    """Moderation's `on_spam_cleared` hook: give back what a reversal took, and award
    what the message would have earned had enforce mode not stopped it (idempotent)."""
    from bot.points_rules import apply_rules

    if not ev.message_id:
        return
    await restore_points_for_message(app, ev.group, ev.message_id, actor=f"moderation:{ev.by}")
    e = await app.store.message(ev.group.pk, ev.message_id)
    if e is not None:
        await apply_rules(app, ev.group, e)


def hook_moderation(app) -> bool:
    """Subscribe to moderation's spam hooks if the moderation feature is installed."""
    svc = app.services.get("moderation")
    if svc is None or not hasattr(svc, "on_spam_confirmed"):
        return False
    if _on_spam_confirmed not in svc.on_spam_confirmed:
        svc.on_spam_confirmed.append(_on_spam_confirmed)
    cleared = getattr(svc, "on_spam_cleared", None)
    if cleared is not None and _on_spam_cleared not in cleared:
        cleared.append(_on_spam_cleared)
    return True


async def _hook_on_start(app) -> None:
    hook_moderation(app)


def install(app) -> None:
    """Register the points step and the points commands."""
    from bot import points_commands
    from bot.points_rules import points_step

    app.pipeline.add_step("points", points_step)
    app.services["points.reverse"] = reverse_points_for_message
    # Moderation may be installed before or after points: subscribe now and at start.
    hook_moderation(app)
    app.on_start.append(_hook_on_start)
    points_commands.register(app)
