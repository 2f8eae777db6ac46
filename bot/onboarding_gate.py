"""The join gate, the raid gate and warm-up resistance.

A newcomer (not an admin, not someone the group knew before the gate went on) is
restricted (`Action MUTE`: Telegram `restrictChatMember`, Discord a timeout) and shown a
message with a button, or a sum with four answers, that only they can use. The right
press releases them (`UNMUTE`), removes the gate message and welcomes them; a wrong
answer gets a new question until `gate_attempts` run out; no answer by the deadline (a
timer on the app clock) removes them (`KICK`, or `BAN` if configured). Either way the
gate message is deleted.

A join raid (moderation's raid verdict on the join, or `raid_joins` joins within
`raid_seconds`) switches the gate on by itself for `raid_gate_minutes` and tells the
moderators once; the raid's own accounts that slipped in just before are gated too.

Warm-up: a member who passed the gate stays "new" to moderation's newcomer check for
their first `warmup_messages` messages (and edits of them), however long the gate took.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from adapters.base import Action, ActionKind, Button, Reply
from bot import i18n
from bot.commands import Ctx, UsageError
from storage.events import EventKind
from storage.store import GroupInfo

if TYPE_CHECKING:
    from bot.app import App
    from bot.onboarding import OnboardingSettings
    from bot.onboarding_timers import OnboardingService
    from bot.pipeline import Turn

log = logging.getLogger(__name__)
_rng = random.SystemRandom()


def service(app: App) -> OnboardingService:
    """The app's onboarding service."""
    return app.services["onboarding"]


def make_question(rng: random.Random | None = None) -> tuple[str, str, list[str]]:
    """A small sum: (question "3 + 4", answer "7", four shuffled choices incl. the answer)."""
    rng = rng or _rng
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    answer = a + b
    wrong = rng.sample([n for n in range(4, 19) if n != answer], 3)
    choices = [str(n) for n in [answer, *wrong]]
    rng.shuffle(choices)
    return f"{a} + {b}", str(answer), choices


def mention_of(name: str, username: str | None) -> str:
    """How a member is addressed in a message: @username when known, else the name."""
    return f"@{username}" if username else (name or "?")


def gate_buttons(gate_id: int, mode: str, choices: list[str], lang: str) -> list[list[Button]]:
    """The gate message's buttons."""
    if mode == "button":
        return [[Button(i18n.t(lang, "onb.gate.btn"), f"gate:{gate_id}:ok")]]
    return [[Button(c, f"gate:{gate_id}:{c}") for c in choices]]


async def raid_thresholds(app: App, group: GroupInfo, s: OnboardingSettings) -> tuple[int, float]:
    """(joins, seconds) that make a join raid: moderation's [check_raid] when installed."""
    from bot.config import SECTIONS

    if "check_raid" in SECTIONS:
        r = await app.settings("check_raid", group)
        return int(r.joins), float(r.join_seconds)
    return s.raid_joins, s.raid_seconds


async def detect_raid(app: App, turn: Turn, s: OnboardingSettings) -> tuple[int, float, list[str]] | None:
    """(joins in the window, window start, members who joined in it) if this join is part
    of a join raid, else None. Moderation's verdict counts when it left one."""
    e = turn.event
    joins, seconds = await raid_thresholds(app, turn.group, s)
    start = e.time - timedelta(seconds=seconds)
    members = await service(app).store.joiners(turn.group.pk, start.timestamp(), e.time.timestamp())
    screening = turn.notes.get("moderation")
    verdict = getattr(screening, "raid", None)
    by_moderation = verdict is not None and getattr(verdict, "data", {}).get("kind") == "joins"
    if by_moderation or len(members) >= joins:
        return len(members), start.timestamp(), members
    return None


async def gate_step(app: App, turn: Turn) -> None:
    """Pipeline step: joins meet the gate (or a welcome), leaves close open gates."""
    svc = service(app)
    await svc.maybe_run_due()
    e = turn.event
    if e.member_id is None or e.is_bot:
        return
    if e.kind is EventKind.JOIN:
        await on_join(app, turn)
    elif e.kind is EventKind.LEAVE:
        gate = await svc.store.pending_gate(turn.group.pk, e.member_id)
        if gate is not None and await svc.store.finish_gate(gate["id"], "left", svc.now_ts(), "left the group"):
            svc.gate_counter.labels(turn.group.platform, "left").inc()
            svc_forget(svc, turn.group.pk, e.member_id)
            await svc.store.cancel_timer(turn.group.pk, "gate", str(gate["id"]), svc.now_ts())
            await close_message(app, turn.group, gate)


async def on_join(app: App, turn: Turn) -> None:
    """Raid check, then gate or welcome the newcomer."""
    from bot.onboarding_welcome import welcome

    svc = service(app)
    e, group = turn.event, turn.group
    s = await svc.settings(group)
    ts = e.time.timestamp()
    gate_on_ts = await svc.store.note_gate_mode(group.pk, s.gate, ts)
    raid = await detect_raid(app, turn, s) if s.raid_gate != "off" else None
    state = await svc.store.group_state(group.pk)
    raid_on = state["raid_until_ts"] is not None and state["raid_until_ts"] > ts
    if raid is not None:
        count, window_start, members = raid
        until = ts + s.raid_gate_minutes * 60
        await svc.store.set_raid(group.pk, until, alert_ts=None if raid_on else ts)
        if not raid_on:
            svc.raid_counter.labels(group.platform).inc()
            await tell_moderators(app, group, s, count, until, turn.lang)
            if s.gate == "off" and s.raid_gate_recent:
                for mid in members:
                    if mid != e.member_id:
                        await maybe_gate(app, group, s, s.raid_gate, window_start, mid, "", None, e.channel_id, turn.lang, shared=True)
        state = await svc.store.group_state(group.pk)
    mode, since, shared = "off", None, False
    if s.gate != "off":
        mode, since = s.gate, gate_on_ts
    elif state["raid_until_ts"] is not None and state["raid_until_ts"] > ts and s.raid_gate != "off":
        # A raid's accounts share one gate message: one post, not one per account.
        mode, since, shared = s.raid_gate, state["raid_alert_ts"], True
    if mode != "off":
        gated = await maybe_gate(app, group, s, mode, since, e.member_id, e.member_name, e.username, e.channel_id, turn.lang, shared)
        if gated:
            return
    await welcome(app, group, e.member_id, e.member_name, e.username, e.channel_id, turn.lang)


async def maybe_gate(app: App, group: GroupInfo, s: OnboardingSettings, mode: str, since: float | None,
                     member_id: str, name: str, username: str | None, channel_id: str, lang: str,
                     shared: bool = False) -> bool:
    """Gate the member unless they are an admin, already gated, or known from before `since`."""
    svc = service(app)
    if await svc.store.pending_gate(group.pk, member_id) is not None:
        return True
    first = await svc.store.first_seen(group.pk, member_id)
    if since is not None and first is not None and first < since:
        return False
    if await app.is_admin(group, member_id):
        return False
    if not name:
        name, username = await svc.store.member_name(group.platform, member_id)
    await open_gate(app, group, s, mode, member_id, name or member_id, username, channel_id, lang, shared)
    return True


async def open_gate(app: App, group: GroupInfo, s: OnboardingSettings, mode: str, member_id: str,
                    name: str, username: str | None, channel_id: str, lang: str, shared: bool = False) -> int:
    """Restrict the member, post the gate message (or join the raid's shared one) and
    start their clock; returns the gate id."""
    svc = service(app)
    now = svc.now_ts()
    board = await shared_message(app, group, s, mode, channel_id, lang) if shared else None
    if board is not None:
        question, answer = board["question"], board["answer"]
    else:
        question, answer, choices = make_question() if mode == "question" else ("", "ok", [])
    gid = await svc.store.create_gate(group.pk, member_id, mode, answer, question, now, now + s.gate_minutes * 60, channel_id)
    svc_forget(svc, group.pk, member_id)
    earlier = svc.welcomes.pop((group.pk, member_id), None)
    if earlier is not None:
        await svc.delete_now(group, earlier[0], earlier[1])
    # The restriction outlives the deadline by an hour so a bot that is down does not
    # leave anyone muted forever; the timer removes them long before that.
    await app.act(Action(ActionKind.MUTE, group.platform, group.group_id, member_id,
                         until=svc.until(s.gate_minutes + 60), reason="onboarding: join gate"))
    if board is not None:
        await svc.store.update_gate(gid, message_id=board["message_id"], channel_id=board["channel_id"])
    else:
        key = "onb.gate.button" if mode == "button" else "onb.gate.question"
        text = i18n.t(lang, key, mention=mention_of(name, username), group=group.title or group.group_id,
                      minutes=f"{s.gate_minutes:g}", question=question)
        sent = await app.send(Reply(group.platform, group.group_id, text, channel_id=channel_id,
                                    buttons=gate_buttons(gid, mode, choices, lang)))
        if sent.ok and sent.message_id:
            await svc.store.update_gate(gid, message_id=sent.message_id)
    await svc.add_timer(group, "gate", str(gid), now + s.gate_minutes * 60)
    svc.gate_counter.labels(group.platform, "opened").inc()
    await app.store.audit(group.pk, "onboarding", "gate.open", {"member": member_id, "mode": mode, "gate": gid, "shared": shared})
    return gid


async def shared_message(app: App, group: GroupInfo, s: OnboardingSettings, mode: str, channel_id: str, lang: str) -> dict | None:
    """The raid's shared gate message (posted on first use); None if it could not be sent."""
    svc = service(app)
    board = svc.raid_gates.get(group.pk)
    if board is not None and board["mode"] == mode:
        return board
    question, answer, choices = make_question() if mode == "question" else ("", "ok", [])
    key = "onb.gate.raid_button" if mode == "button" else "onb.gate.raid_question"
    text = i18n.t(lang, key, group=group.title or group.group_id, minutes=f"{s.gate_minutes:g}", question=question)
    buttons = [[Button(i18n.t(lang, "onb.gate.btn"), "gate:r:ok")]] if mode == "button" else [[Button(c, f"gate:r:{c}") for c in choices]]
    sent = await app.send(Reply(group.platform, group.group_id, text, channel_id=channel_id, buttons=buttons))
    if not (sent.ok and sent.message_id):
        return None
    board = {"mode": mode, "question": question, "answer": answer, "message_id": sent.message_id, "channel_id": channel_id}
    svc.raid_gates[group.pk] = board
    return board


async def close_message(app: App, group: GroupInfo, gate: dict[str, Any]) -> None:
    """Delete a closed gate's message, unless other newcomers still wait under it."""
    svc = service(app)
    mid = gate["message_id"]
    if not mid or await svc.store.pending_on_message(group.pk, mid):
        return
    board = svc.raid_gates.get(group.pk)
    if board is not None and board["message_id"] == mid:
        svc.raid_gates.pop(group.pk, None)
    await svc.delete_now(group, mid, gate["channel_id"])


async def release(app: App, group: GroupInfo, gate: dict[str, Any], by: str, lang: str,
                  name: str = "", username: str | None = None) -> bool:
    """Let a gated member in (unrestrict, delete the gate message, welcome); once."""
    from bot.onboarding_welcome import welcome

    svc = service(app)
    now = svc.now_ts()
    if not await svc.store.finish_gate(gate["id"], "passed", now, "admin" if by != gate["member_id"] else "answered"):
        return False
    mid = gate["member_id"]
    svc_forget(svc, group.pk, mid)
    await svc.store.cancel_timer(group.pk, "gate", str(gate["id"]), now)
    await app.act(Action(ActionKind.UNMUTE, group.platform, group.group_id, mid, reason="onboarding: passed the join gate"))
    await close_message(app, group, gate)
    await svc.store.save_member(group.pk, mid, released_ts=now, warm_count=0)
    svc.gate_counter.labels(group.platform, "passed").inc()
    await app.store.audit(group.pk, by, "gate.passed", {"member": mid, "gate": gate["id"], "attempts": gate["attempts"]})
    if not name:
        name, username = await svc.store.member_name(group.platform, mid)
    await welcome(app, group, mid, name or mid, username, gate["channel_id"], lang)
    return True


async def remove(app: App, group: GroupInfo, gate: dict[str, Any], status: str, reason: str,
                 s: OnboardingSettings | None = None) -> bool:
    """Remove a member who failed the gate or ran out of time (kick or ban); once."""
    svc = service(app)
    now = svc.now_ts()
    if not await svc.store.finish_gate(gate["id"], status, now, reason):
        return False
    svc_forget(svc, group.pk, gate["member_id"])
    if status != "timeout":  # a timeout comes from this very timer, already claimed
        await svc.store.cancel_timer(group.pk, "gate", str(gate["id"]), now)
    s = s or await svc.settings(group)
    kind = ActionKind.BAN if s.gate_failure == "ban" else ActionKind.KICK
    svc.gate_counter.labels(group.platform, status).inc()
    await app.act(Action(kind, group.platform, group.group_id, gate["member_id"], reason=f"onboarding: {reason}"))
    await close_message(app, group, gate)
    await app.store.audit(group.pk, "onboarding", f"gate.{status}", {"member": gate["member_id"], "gate": gate["id"], "action": kind.value})
    return True


async def gate_timeout(app: App, group: GroupInfo, gate_id: int, s: OnboardingSettings | None = None) -> None:
    """A gate's deadline passed: remove the member if they have not passed yet."""
    gate = await service(app).store.gate(gate_id)
    if gate is not None and gate["status"] == "pending":
        await remove(app, group, gate, "timeout", "no answer in time", s)


async def on_gate_button(ctx: Ctx) -> Reply | None:
    """A press on a gate message: "gate:<gate id>:<choice>"."""
    app, group = ctx.app, ctx.group
    svc = service(app)
    presser = ctx.event.member_id or ""
    if len(ctx.args) != 2 or not (ctx.args[0].isdigit() or ctx.args[0] == "r"):
        raise UsageError(ctx.t("onb.gate.gone"))
    shared = ctx.args[0] == "r"
    if shared:  # the raid's shared message: the presser's own gate
        gate = await svc.store.pending_gate(group.pk, presser)
        if gate is None:
            return ctx.reply(ctx.t("onb.gate.not_gated"), private_to=presser, ephemeral=True)
    else:
        gate = await svc.store.gate(int(ctx.args[0]))
    if gate is None or gate["group_pk"] != group.pk or gate["status"] != "pending":
        return ctx.reply(ctx.t("onb.gate.gone"), private_to=presser, ephemeral=True)
    if presser != gate["member_id"]:
        if await app.is_admin(group, presser):
            name, _ = await svc.store.member_name(group.platform, gate["member_id"])
            await release(app, group, gate, presser, ctx.lang)
            return ctx.reply(ctx.t("onb.gate.admin_passed", name=ctx.event.member_name or presser, member=name or gate["member_id"]),
                             private_to=presser, ephemeral=True)
        name, _ = await svc.store.member_name(group.platform, gate["member_id"])
        return ctx.reply(ctx.t("onb.gate.not_yours", name=name or gate["member_id"]), private_to=presser, ephemeral=True)
    if ctx.args[1] == gate["answer"]:
        await release(app, group, gate, presser, ctx.lang, ctx.event.member_name, ctx.event.username)
        return ctx.reply(ctx.t("onb.gate.passed"), private_to=presser, ephemeral=True)
    s = await svc.settings(group)
    attempts = await svc.store.wrong_answer(gate["id"])
    if attempts >= s.gate_attempts or gate["mode"] != "question":
        await remove(app, group, gate, "failed", f"{attempts} wrong answer(s)")
        return None
    if shared:  # everyone shares the question: another try at the same one
        return ctx.reply(ctx.t("onb.gate.wrong_same", left=s.gate_attempts - attempts), private_to=presser, ephemeral=True)
    question, answer, choices = make_question()
    await svc.store.update_gate(gate["id"], question=question, answer=answer)
    left = s.gate_attempts - attempts
    text = ctx.t("onb.gate.question", mention=mention_of(ctx.event.member_name, ctx.event.username),
                 group=group.title or group.group_id, minutes=f"{s.gate_minutes:g}", question=question)
    if gate["message_id"]:
        await app.send(Reply(group.platform, group.group_id, text, channel_id=gate["channel_id"],
                             edit_message_id=gate["message_id"], buttons=gate_buttons(gate["id"], "question", choices, ctx.lang)))
    return ctx.reply(ctx.t("onb.gate.wrong", left=left), private_to=presser, ephemeral=True)


async def tell_moderators(app: App, group: GroupInfo, s: OnboardingSettings, count: int, until_ts: float, lang: str) -> None:
    """One message to the moderators when a raid switches the gate on."""
    svc = service(app)
    chat, channel = await svc.alert_target(group)
    _, seconds = await raid_thresholds(app, group, s)
    text = i18n.t(lang, "onb.raid.alert", group=group.title or group.group_id, count=count, seconds=f"{seconds:g}",
                  mode=i18n.t(lang, f"onb.mode.{s.raid_gate}"), until=datetime.fromtimestamp(until_ts, UTC).strftime("%H:%M"))
    await app.send(Reply(group.platform, chat, text, channel_id=channel))
    await app.store.audit(group.pk, "onboarding", "raid.gate_on", {"joins": count, "until": until_ts})


def svc_forget(svc: OnboardingService, group_pk: int, member_id: str) -> None:
    """Drop the cached gate/warm-up state of a member (it just changed)."""
    svc.forget_state(group_pk, member_id)


async def warmup_step(app: App, turn: Turn) -> None:
    """Before moderation: a gated member's message is removed (the platform should have
    stopped it); a released member's first messages and their edits stay "new" to
    moderation's newcomer check."""
    e = turn.event
    if e.member_id is None or e.kind not in (EventKind.MESSAGE, EventKind.COMMAND, EventKind.EDIT):
        return
    svc = service(app)
    st = await svc.member_state(turn.group.pk, e.member_id)
    if st["pending"]:
        if e.message_id and e.kind is not EventKind.EDIT:
            turn.actions.append(Action(ActionKind.DELETE, e.platform, e.group_id, e.member_id, e.message_id,
                                       e.channel_id, reason="onboarding: has not passed the join gate"))
            turn.stop = True
        return
    if st["released_ts"] is None:
        return
    s = await svc.settings(turn.group)
    mod = app.services.get("moderation")
    if st["warm"] >= s.warmup_messages:
        if not st.get("restored") and mod is not None and hasattr(mod, "member_window"):
            # Warm-up is over: give moderation back its own view (first seen at the join).
            w = await mod.member_window(turn.group, e)
            w.first_ts = (await mod.trust_record(turn.group, e.member_id)).first_ts
            w.messages = max(w.messages, st["warm"])
            st["restored"] = True
        return
    if e.kind is not EventKind.EDIT:
        st["warm"] = await svc.store.count_warm(turn.group.pk, e.member_id)
    turn.notes["onboarding_warmup"] = st["warm"]
    if mod is not None and hasattr(mod, "member_window"):
        await keep_new(mod, turn, st)


async def keep_new(mod, turn: Turn, st: dict[str, Any]) -> None:
    """Make moderation's newcomer check see a warming-up member as new, by its own rules:
    "first seen" now (new by hours) with the true count since the gate, or, when the
    group judges by message count alone, a count inside `first_messages`."""
    e = turn.event
    w = await mod.member_window(turn.group, e)
    newcomer = (await mod.settings(turn.group)).checks.get("newcomer")
    first_hours = float(getattr(newcomer, "first_hours", 24.0))
    first_messages = int(getattr(newcomer, "first_messages", 3))
    seen = st["warm"] - (0 if e.kind is EventKind.EDIT else 1)  # the screener counts this message itself
    if first_hours > 0:
        w.first_ts = e.time.timestamp()
        w.messages = max(seen, 0)
    else:
        w.first_ts = st["released_ts"]
        w.messages = max(min(seen, first_messages - 1), 0)
