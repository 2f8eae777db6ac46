"""Points rules, levels and level-up announcements.

A pipeline step turns contributions into ledger rows: a message (cooldown and minimum
length, so flooding earns nothing), a reply received, a helpful answer (the asker
reacted to it or thanked for it), a reaction received (capped per day) and a streak of
active days; a daily cap bounds them all. Every row has an idempotency key derived
from the platform ids, so a redelivered or re-imported event awards nothing twice.
`grant()` is the one door to the ledger; it also announces level-ups and hands out a
level's reward (a Discord role, a Telegram custom title).

Spam reversal: `reverse_points_for_message(app, group, message_id)` writes a reversing
row for every row a message earned. It is subscribed to moderation's
`on_spam_confirmed` hook (and `restore_points_for_message` to `on_spam_cleared`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.base import Action, ActionKind, Reply
from bot import i18n, points_texts
from bot.config import register_section, setting
from storage.events import Event, EventKind
from storage.ledger import Ledger
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

_QUESTION_WORDS = re.compile(
    r"(?i)^\s*(how|what|why|when|where|who|which|can|could|does|do|is|are|should|any(one|body)|"
    r"怎么|如何|为什么|为啥|什么|哪|谁|有没有|能不能|请问|как|что|почему|зачем|где|когда|кто|можно|подскажите)"
)
_THANKS = re.compile(
    r"(?i)(thank|thx|\bty\b|appreciate|helpful|谢谢|感谢|多谢|谢了|谢啦|спасибо|благодарю|спс)"
)


def is_question(text: str) -> bool:
    """A message that asks something (en/zh/ru): a question mark or a question word."""
    return "?" in text or "？" in text or bool(_QUESTION_WORDS.search(text or "")) or text.rstrip().endswith(("吗", "呢"))


def is_thanks(text: str) -> bool:
    """A message that thanks someone (en/zh/ru)."""
    return bool(_THANKS.search(text or ""))


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
        led = app.services["ledger"] = Ledger(app.store.engine)
    return led


def day_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Midnight of `now`'s day in `zone`."""
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


async def grant(
    app, group: GroupInfo, member_id: str, amount: int, reason: str, key: str, *,
    when: datetime | None = None, ref: str | None = None, actor: str | None = None,
    note: str = "", capped: bool = False, channel_id: str = "",
) -> int:
    """Write one ledger row (once per `key`); returns the points written (0 if none).

    `capped` rows are cut to what is left of the member's daily cap. A grant that
    crosses a level is announced, and the level's reward handed out.
    """
    if amount == 0 or not member_id:
        return 0
    led = ledger_of(app)
    when = when or app.clock.now()
    cfg = await app.settings("points", group)
    if capped and amount > 0:
        start = day_start(when, await zone_of(app, group)).timestamp()
        left = cfg.daily_cap - await led.earned_since(group.pk, member_id, start, CAPPED)
        amount = min(amount, left)
        if amount <= 0:
            return 0
    if not await led.add(group.pk, member_id, amount, reason, key, when.timestamp(), ref, actor, note):
        return 0
    if amount > 0:
        after = await led.xp(group.pk, member_id)
        old, new = level_for(after - amount, cfg.level_curve)[0], level_for(after, cfg.level_curve)[0]
        if new > old:
            await _level_up(app, group, member_id, old, new, cfg, channel_id)
    return amount


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
    if taken:
        await app.store.audit(group.pk, actor, "points.reverse", {"message_id": message_id, "points": taken})
    return taken


async def restore_points_for_message(app, group: GroupInfo, message_id: str, actor: str = "moderation") -> int:
    """Undo the reversals of a message a moderator cleared ("not spam"); idempotent."""
    led = ledger_of(app)
    now = app.clock.now().timestamp()
    back = 0
    for row in await led.for_message(group.pk, message_id):
        if row.reason == "reversal" and row.amount < 0:
            if await led.add(group.pk, row.member_id, -row.amount, "restore", f"restore:{row.key}", now, message_id, actor, f"not spam {message_id}"):
                back += -row.amount
    if back:
        await app.store.audit(group.pk, actor, "points.restore", {"message_id": message_id, "points": back})
    return back


async def _on_spam_confirmed(app, ev) -> None:
    """Moderation's `on_spam_confirmed` hook: a `SpamEvent` (group, message_id, by)."""
    if ev.message_id:
        await reverse_points_for_message(app, ev.group, ev.message_id, actor=f"moderation:{ev.by}")


async def _on_spam_cleared(app, ev) -> None:
    """Moderation's `on_spam_cleared` hook: give back what the reversal took."""
    if ev.message_id:
        await restore_points_for_message(app, ev.group, ev.message_id, actor=f"moderation:{ev.by}")


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


async def apply_rules(app, group: GroupInfo, e: Event) -> None:
    """Award what event `e` earns under the group's rules (idempotent per event)."""
    if e.member_id is None or e.is_bot or e.kind not in (EventKind.MESSAGE, EventKind.REACTION):
        return
    cfg = await app.settings("points", group)
    if not cfg.enabled:
        return
    if e.kind is EventKind.MESSAGE:
        await _on_message(app, group, e, cfg)
    else:
        await _on_reaction(app, group, e, cfg)


async def backfill(app, group: GroupInfo, since: datetime, until: datetime) -> int:
    """Apply the rules to stored events in [since, until), oldest first: points for an
    imported history. Safe to repeat (ledger keys). Returns the events considered."""
    events = await app.store.events(group.pk, since, until, kinds=[EventKind.MESSAGE, EventKind.REACTION])
    for e in events:
        await apply_rules(app, group, e)
    return len(events)


async def _points_step(app, turn) -> None:
    await apply_rules(app, turn.group, turn.event)


async def _on_message(app, group: GroupInfo, e: Event, cfg: PointsSettings) -> None:
    led = ledger_of(app)
    substantial = len((e.text or "").strip()) >= cfg.message_min_length or e.media is not None
    if substantial and e.message_id:
        last = await led.last_ts(group.pk, e.member_id, "message")
        if last is None or e.time.timestamp() - last >= cfg.message_cooldown:
            got = await grant(app, group, e.member_id, cfg.message, "message", f"msg:{e.message_id}",
                              when=e.time, ref=e.message_id, capped=True, channel_id=e.channel_id)
            if got:
                await _streak(app, group, e, cfg)
    if not e.reply_to_id:
        return
    if substantial and e.target_member_id and e.target_member_id != e.member_id:
        await grant(app, group, e.target_member_id, cfg.reply_received, "reply", f"reply:{e.message_id}",
                    when=e.time, ref=e.reply_to_id, capped=True, channel_id=e.channel_id)
    if is_thanks(e.text):
        await _helpful(app, group, e.reply_to_id, e.member_id, e.time, cfg, e.channel_id)


async def _on_reaction(app, group: GroupInfo, e: Event, cfg: PointsSettings) -> None:
    if e.data.get("removed") or not e.target_member_id or e.target_member_id == e.member_id or not e.message_id:
        return
    led = ledger_of(app)
    start = day_start(e.time, await zone_of(app, group)).timestamp()
    if await led.earned_since(group.pk, e.target_member_id, start, ("reaction",)) < cfg.reaction_daily_cap:
        left = cfg.reaction_daily_cap - await led.earned_since(group.pk, e.target_member_id, start, ("reaction",))
        await grant(app, group, e.target_member_id, min(cfg.reaction_received, left), "reaction",
                    f"react:{e.message_id}:{e.member_id}", when=e.time, ref=e.message_id, capped=True,
                    channel_id=e.channel_id)
    await _helpful(app, group, e.message_id, e.member_id, e.time, cfg, e.channel_id)


async def _helpful(app, group: GroupInfo, answer_id: str, asker: str, when: datetime, cfg: PointsSettings, channel_id: str) -> None:
    """Award the author of `answer_id` if it answers a question `asker` asked."""
    answer = await app.store.message(group.pk, answer_id)
    if answer is None or not answer.reply_to_id or answer.member_id in (None, asker):
        return
    question = await app.store.message(group.pk, answer.reply_to_id)
    if question is None or question.member_id != asker or not is_question(question.text):
        return
    await grant(app, group, answer.member_id, cfg.helpful_answer, "helpful", f"helpful:{answer_id}",
                when=when, ref=answer_id, capped=True, channel_id=channel_id)


async def _streak(app, group: GroupInfo, e: Event, cfg: PointsSettings) -> None:
    """On a member's first award of a day, pay a bonus when the run of consecutive
    active days reaches a multiple of `streak_days`."""
    if cfg.streak_days <= 0 or cfg.streak_bonus <= 0:
        return
    zone = await zone_of(app, group)
    today = e.time.astimezone(zone).date()
    since = day_start(e.time, zone) - timedelta(days=max(60, cfg.streak_days * 3))
    days = {datetime.fromtimestamp(t, zone).date() for t in await ledger_of(app).times(group.pk, e.member_id, "message", since.timestamp())}
    run = 0
    while today - timedelta(days=run) in days:
        run += 1
    if run and run % cfg.streak_days == 0:
        await grant(app, group, e.member_id, cfg.streak_bonus, "streak", f"streak:{e.member_id}:{today.isoformat()}",
                    when=e.time, capped=True, channel_id=e.channel_id, note=f"{run} days")


def install(app) -> None:
    """Register the points step and the points commands."""
    from bot import points_commands

    ledger_of(app)
    app.pipeline.add_step("points", _points_step)
    app.services["points.reverse"] = reverse_points_for_message
    # Moderation may be installed before or after points: subscribe now and at start.
    hook_moderation(app)
    app.on_start.append(_hook_on_start)
    points_commands.register(app)
