"""The rules that turn contributions into points (the "points" pipeline step).

- a message: `message` points, at most once per `message_cooldown` and only when at
  least `message_min_length` characters long (or media), so flooding earns nothing;
- a reply received: the replied-to author gets `reply_received` (the reply must be
  substantial too, and not to oneself);
- a helpful answer: a reply to a question (en/zh/ru question marks and words) that the
  asker reacted to or thanked for (en/zh/ru) earns its author `helpful_answer`, once;
- a reaction received from someone else: `reaction_received`, at most
  `reaction_daily_cap` per day;
- a streak: every `streak_days` consecutive active days earn `streak_bonus`.
All of these share a `daily_cap` per member (days in the group's time zone). Keys come
from the platform ids, so a redelivered event awards nothing twice; each rule reads the
member's ledger figures once a day and keeps them in memory (`bot.points_state`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.points import CAPPED, Award, RuleCtx, day_start, grant_many, ledger_of, rule_ctx
from bot.points_state import state_of
from storage.events import Event, EventKind, command_name
from storage.store import GroupInfo

_QUESTION_WORDS = re.compile(
    r"(?i)^\s*(how|what|why|when|where|who|which|can|could|does|do|is|are|should|any(one|body)|"
    r"怎么|如何|为什么|为啥|什么|哪|谁|有没有|能不能|请问|как|что|почему|зачем|где|когда|кто|можно|подскажите)"
)
_THANKS = re.compile(
    r"(?i)(thank|thx|\bty\b|appreciate|helpful|谢谢|感谢|多谢|谢了|谢啦|спасибо|благодарю|спс)"
)


def is_question(text: str) -> bool:
    """A message that asks something (en/zh/ru): a question mark or a question word."""
    text = text or ""
    return "?" in text or "？" in text or bool(_QUESTION_WORDS.search(text)) or text.rstrip().endswith(("吗", "呢"))


def is_thanks(text: str) -> bool:
    """A message that thanks someone (en/zh/ru)."""
    return bool(_THANKS.search(text or ""))


async def apply_rules(app, group: GroupInfo, e: Event) -> None:
    """Award what event `e` earns under the group's rules (idempotent per event)."""
    if e.member_id is None or e.is_bot or e.kind not in (EventKind.MESSAGE, EventKind.REACTION):
        return
    rc = await rule_ctx(app, group)
    if not rc.cfg.enabled:
        return
    if e.kind is EventKind.MESSAGE:
        await _on_message(app, group, e, rc)
    else:
        await _on_reaction(app, group, e, rc)


async def backfill(app, group: GroupInfo, since: datetime, until: datetime) -> int:
    """Apply the rules to stored events in [since, until), oldest first: points for an
    imported history. Safe to repeat (ledger keys). Returns the events considered."""
    events = await app.store.events(group.pk, since, until, kinds=[EventKind.MESSAGE, EventKind.REACTION])
    for e in events:
        await apply_rules(app, group, e)
    return len(events)


async def points_step(app, turn) -> None:
    """The pipeline step: rules for every new message and reaction."""
    e = turn.event
    if e.kind is EventKind.COMMAND and (command_name(e.text) or ("",))[0] == "config":
        # /config set may change points settings: read them afresh from the next event on.
        state_of(app).drop_ctx(turn.group.pk)
    await apply_rules(app, turn.group, e)


async def _on_message(app, group: GroupInfo, e: Event, rc: RuleCtx) -> None:
    cfg, state = rc.cfg, state_of(app)
    if e.message_id:
        state.seen(group.pk, e.message_id, e.member_id, e.reply_to_id, e.text)
    substantial = len((e.text or "").strip()) >= cfg.message_min_length or e.media is not None
    awards: list[Award] = []
    if substantial and e.message_id:
        start = day_start(e.time, rc.zone).timestamp()
        stats = await state.stats(ledger_of(app), group.pk, e.member_id, start, CAPPED)
        if stats.last_message is None or e.time.timestamp() - stats.last_message >= cfg.message_cooldown:
            awards.append(Award(e.member_id, cfg.message, "message", f"msg:{e.message_id}", e.message_id, capped=True))
            if stats.today_messages == 0 and stats.today_capped < cfg.daily_cap:
                awards.extend(await _streak(app, group, e, rc))
    if e.reply_to_id and substantial and e.target_member_id and e.target_member_id != e.member_id:
        awards.append(Award(e.target_member_id, cfg.reply_received, "reply", f"reply:{e.message_id}", e.reply_to_id, capped=True))
    if e.reply_to_id and is_thanks(e.text):
        awards.extend(await _helpful(app, group, e.reply_to_id, e.member_id, rc))
    await grant_many(app, group, awards, when=e.time, rc=rc, channel_id=e.channel_id)


async def _on_reaction(app, group: GroupInfo, e: Event, rc: RuleCtx) -> None:
    if e.data.get("removed") or not e.target_member_id or e.target_member_id == e.member_id or not e.message_id:
        return
    cfg = rc.cfg
    stats = await state_of(app).stats(ledger_of(app), group.pk, e.target_member_id, day_start(e.time, rc.zone).timestamp(), CAPPED)
    left = cfg.reaction_daily_cap - stats.today_reaction
    awards: list[Award] = []
    if left > 0:
        awards.append(Award(e.target_member_id, min(cfg.reaction_received, left), "reaction",
                            f"react:{e.message_id}:{e.member_id}", e.message_id, capped=True))
    awards.extend(await _helpful(app, group, e.message_id, e.member_id, rc))
    await grant_many(app, group, awards, when=e.time, rc=rc, channel_id=e.channel_id)


async def _helpful(app, group: GroupInfo, answer_id: str, asker: str, rc: RuleCtx) -> list[Award]:
    """The helpful-answer award if `answer_id` answers a question `asker` asked."""
    state = state_of(app)
    answer = await state.message(app.store, group.pk, answer_id)
    if answer is None or not answer.reply_to_id or answer.member_id in (None, asker):
        return []
    question = await state.message(app.store, group.pk, answer.reply_to_id)
    if question is None or question.member_id != asker or not is_question(question.text):
        return []
    return [Award(answer.member_id, rc.cfg.helpful_answer, "helpful", f"helpful:{answer_id}", answer_id, capped=True)]


async def _streak(app, group: GroupInfo, e: Event, rc: RuleCtx) -> list[Award]:
    """On a member's first award of a day: the streak bonus when the run of consecutive
    active days, today included, reaches a multiple of `streak_days`."""
    cfg, zone = rc.cfg, rc.zone
    if cfg.streak_days <= 0 or cfg.streak_bonus <= 0:
        return []
    today = e.time.astimezone(zone).date()
    since = day_start(e.time, zone) - timedelta(days=max(60, cfg.streak_days * 3))
    days = await state_of(app).message_days(ledger_of(app), group.pk, e.member_id, since.timestamp(), zone) | {today}
    run = 0
    while today - timedelta(days=run) in days:
        run += 1
    if run % cfg.streak_days:
        return []
    return [Award(e.member_id, cfg.streak_bonus, "streak", f"streak:{e.member_id}:{today.isoformat()}",
                  note=f"{run} days", capped=True)]
