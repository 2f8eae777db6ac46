"""Alerts to moderators and the buttons on them.

An alert names who, shows the message (shortened) and every check that fired with its
reason, and carries three buttons. Only moderators can press them: the router refuses
anyone else (`admin=True`), and when alerts go to a separate moderators' chat the
presser must also be an admin of the flagged group. A press is recorded on the flag,
the alert is edited to show the decision, the action is carried out, and the decision
trains the classifier and the member's trust.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from adapters.base import Action, ActionKind, Button, Reply
from bot import i18n
from bot.commands import Ctx, UsageError
from bot.mod_engine import ModerationService, ModerationSettings, SpamEvent
from bot.mod_reasons import reason_text
from storage.models import Member
from storage.store import GroupInfo

if TYPE_CHECKING:
    from bot.app import App

i18n.add(
    {
        "en": {
            "mod.alert.auto": "⚠️ Possible spam",
            "mod.alert.raid": "🚨 Raid: {count} members posted the same text",
            "mod.alert.joins": "🚨 Join raid: {count} members joined at once",
            "mod.alert.report": "🚩 Reported by {count} member(s)",
            "mod.alert.group": "Group: {title}",
            "mod.alert.from": "From: {name} ({id})",
            "mod.alert.message": "Message: “{text}”",
            "mod.alert.checks": "Checks:",
            "mod.alert.reporters": "Reporters: {names}",
            "mod.alert.would": "Enforce mode would: {actions}",
            "mod.alert.done": "Done automatically: {actions}",
            "mod.alert.decision": "Decision: {decision} — by {by}",
            "mod.btn.spam": "Spam: delete and ban",
            "mod.btn.mute": "Mute {minutes} min",
            "mod.btn.ham": "Not spam",
            "mod.decision.spam": "spam (deleted, banned)",
            "mod.decision.muted": "muted",
            "mod.decision.ham": "not spam",
            "mod.already": "Already decided: {decision} by {by}.",
            "mod.flag.missing": "That alert is no longer known.",
            "mod.not_mod_there": "You are not a moderator of the group this alert is about.",
        },
        "zh-CN": {
            "mod.alert.auto": "⚠️ 疑似垃圾消息",
            "mod.alert.raid": "🚨 刷屏攻击：{count} 位成员发送了相同内容",
            "mod.alert.joins": "🚨 集中加群：{count} 位成员同时加入",
            "mod.alert.report": "🚩 被 {count} 位成员举报",
            "mod.alert.group": "群组：{title}",
            "mod.alert.from": "发送者：{name}（{id}）",
            "mod.alert.message": "消息：“{text}”",
            "mod.alert.checks": "检查结果：",
            "mod.alert.reporters": "举报者：{names}",
            "mod.alert.would": "执行模式下将会：{actions}",
            "mod.alert.done": "已自动处理：{actions}",
            "mod.alert.decision": "处理结果：{decision} —— 由 {by}",
            "mod.btn.spam": "垃圾消息：删除并封禁",
            "mod.btn.mute": "禁言 {minutes} 分钟",
            "mod.btn.ham": "不是垃圾消息",
            "mod.decision.spam": "垃圾消息（已删除并封禁）",
            "mod.decision.muted": "已禁言",
            "mod.decision.ham": "不是垃圾消息",
            "mod.already": "已经处理过：{decision}，由 {by}。",
            "mod.flag.missing": "找不到这条提醒。",
            "mod.not_mod_there": "你不是该群组的管理员。",
        },
    }
)


async def names_of(app: App, platform: str, ids) -> dict[str, str]:
    """Display names of just these members (alerts must not read the whole member table)."""
    ids = [i for i in set(ids) if i]
    if not ids:
        return {}
    q = select(Member.member_id, Member.name).where(Member.platform == platform, Member.member_id.in_(ids))
    async with app.store.engine.connect() as conn:
        return {mid: name for mid, name in await conn.execute(q) if name}


def shorten(text: str, n: int = 200) -> str:
    """One line of at most `n` characters."""
    t = " ".join((text or "").split())
    return t if len(t) <= n else t[: n - 1] + "…"


async def render(
    app: App, group: GroupInfo, flag: dict, lang: str, would: str = "", reporters: list[str] | None = None,
    known: dict[str, str] | None = None,
) -> str:
    """The alert text for a flag in its current state. `reporters` and `known` (names
    the caller already has, e.g. from the event) save the lookups when given."""
    kind = flag["kind"]
    head = {"raid": "mod.alert.raid", "joins": "mod.alert.joins", "report": "mod.alert.report"}.get(kind, "mod.alert.auto")
    if reporters is None:
        reporters = await app.services["moderation"].store.reporters(flag["id"])
    names = dict(known or {})
    missing = [m for m in (flag["member_id"], flag.get("decided_by"), *reporters) if m and not names.get(m)]
    names.update(await names_of(app, group.platform, missing))

    def name(mid: str | None) -> str:
        return names.get(mid or "", "") or (mid or "?")

    count = len(reporters) if kind == "report" else flag["count"]
    lines = [f"#{flag['id']} " + i18n.t(lang, head, count=count), i18n.t(lang, "mod.alert.group", title=group.title or group.group_id)]
    lines.append(i18n.t(lang, "mod.alert.from", name=name(flag["member_id"]), id=flag["member_id"]))
    if flag["text"]:
        lines.append(i18n.t(lang, "mod.alert.message", text=shorten(flag["text"])))
    fired = [v for v in flag["verdicts"] if v.get("flagged")]
    if fired:
        lines.append(i18n.t(lang, "mod.alert.checks"))
        lines += [f"• {reason_text(v['name'], v['reason'], lang)}" for v in fired]
    if reporters:
        lines.append(i18n.t(lang, "mod.alert.reporters", names=", ".join(name(r) for r in reporters)))
    if would:
        lines.append(i18n.t(lang, "mod.alert.would", actions=would))
    if flag.get("action") and not flag.get("decided_by"):
        lines.append(i18n.t(lang, "mod.alert.done", actions=flag["action"]))
    if flag.get("decided_by"):
        decision = i18n.t(lang, f"mod.decision.{flag['status']}") if flag["status"] in ("spam", "muted", "ham") else flag["status"]
        lines.append(i18n.t(lang, "mod.alert.decision", decision=decision, by=name(flag["decided_by"])))
    return "\n".join(lines)


def buttons(flag_id: int, lang: str, mute_minutes: int) -> list[list[Button]]:
    """The three decision buttons of an alert."""
    return [
        [Button(i18n.t(lang, "mod.btn.spam"), f"mod:spam:{flag_id}")],
        [
            Button(i18n.t(lang, "mod.btn.mute", minutes=mute_minutes), f"mod:mute:{flag_id}"),
            Button(i18n.t(lang, "mod.btn.ham"), f"mod:ham:{flag_id}"),
        ],
    ]


def alert_target(group: GroupInfo, flag: dict, s: ModerationSettings) -> tuple[str, str]:
    """(chat id, channel id) where the group's alerts go."""
    if s.alerts_chat:
        return s.alerts_chat, s.alerts_channel
    return group.group_id, s.alerts_channel or flag.get("channel_id") or ""


async def send_alert(
    app: App, group: GroupInfo, flag: dict, s: ModerationSettings, lang: str, would: str = "",
    reporters: list[str] | None = None, known: dict[str, str] | None = None,
) -> None:
    """Send a new alert for `flag` and remember where it went (`reporters`, `known`: as
    for `render`)."""
    chat, channel = alert_target(group, flag, s)
    text = await render(app, group, flag, lang, would, reporters, known)
    sent = await app.send(Reply(group.platform, chat, text, channel_id=channel, buttons=buttons(flag["id"], lang, s.mute_minutes)))
    if sent.ok:
        app.metrics.alerts_sent.labels(group.platform).inc()
    if sent.ok and sent.message_id:
        where = f"{chat}#{channel}"
        await app.services["moderation"].store.update_flag(flag["id"], alert_chat=where, alert_message_id=sent.message_id)
        flag.update(alert_chat=where, alert_message_id=sent.message_id)


def edit_reply(group: GroupInfo, flag: dict, text: str, keep_buttons: list | None = None) -> Reply | None:
    """A Reply editing the flag's alert in place, or None if it never went out."""
    if not flag.get("alert_message_id"):
        return None
    chat, _, channel = (flag.get("alert_chat") or group.group_id).partition("#")
    return Reply(group.platform, chat, text, channel_id=channel, edit_message_id=flag["alert_message_id"], buttons=keep_buttons or [])


async def update_alert(app: App, group: GroupInfo, flag: dict, lang: str, would: str = "") -> None:
    """Edit the flag's alert to its current state (count, verdicts, reporters)."""
    s = (await app.services["moderation"].settings(group)).mod
    text = await render(app, group, flag, lang, would)
    keep = None if flag.get("decided_by") else buttons(flag["id"], lang, s.mute_minutes)
    r = edit_reply(group, flag, text, keep)
    if r is not None:
        await app.send(r)


async def on_button(ctx: Ctx) -> list[Reply] | str | None:
    """A moderator pressed an alert button: "mod:<spam|mute|ham>:<flag id>"."""
    if len(ctx.args) != 2 or ctx.args[0] not in ("spam", "mute", "ham") or not ctx.args[1].isdigit():
        raise UsageError(ctx.t("mod.flag.missing"))
    decision, flag_id = ctx.args[0], int(ctx.args[1])
    app = ctx.app
    svc: ModerationService = app.services["moderation"]
    flag = await svc.store.flag(flag_id)
    group = await svc.group_by_pk(flag["group_pk"]) if flag else None
    if flag is None or group is None:
        raise UsageError(ctx.t("mod.flag.missing"))
    presser = ctx.event.member_id or ""
    if group.pk != ctx.group.pk and not await app.is_admin(group, presser):
        return [ctx.reply(ctx.t("mod.not_mod_there"), private_to=presser, ephemeral=True)]
    if flag.get("decided_by"):
        names = await names_of(app, group.platform, [flag["decided_by"]])
        label = ctx.t(f"mod.decision.{flag['status']}") if flag["status"] in ("spam", "muted", "ham") else flag["status"]
        return [ctx.reply(ctx.t("mod.already", decision=label, by=names.get(flag["decided_by"], flag["decided_by"])), private_to=presser, ephemeral=True)]
    s = (await svc.settings(group)).mod
    lang = await app.language(group)
    now = app.clock.now()
    ts = now.timestamp()
    pairs = [(m, msg) for m, msg in flag["members"]] or [(flag["member_id"], flag["message_id"])]
    members = list(dict.fromkeys(m for m, _ in pairs if m))
    reason = f"moderator {presser}: {decision} (flag #{flag_id})"
    acts: list[Action] = []
    status = {"spam": "spam", "mute": "muted", "ham": "ham"}[decision]
    if decision == "spam":
        acts += [Action(ActionKind.DELETE, group.platform, group.group_id, m, msg, flag["channel_id"], reason=reason) for m, msg in pairs if msg]
        acts += [Action(ActionKind.BAN, group.platform, group.group_id, m, reason=reason) for m in members]
    elif decision == "mute":
        until = now + timedelta(minutes=s.mute_minutes)
        acts += [Action(ActionKind.MUTE, group.platform, group.group_id, m, until=until, reason=reason) for m in members]
    elif flag["status"] == "acted":
        # The policy acted on its own; a moderator says it was wrong: undo what can be undone.
        kind = ActionKind.UNBAN if "ban" in (flag.get("action") or "") else ActionKind.UNMUTE
        acts += [Action(kind, group.platform, group.group_id, m, reason=reason) for m in members]
    ctx.actions.extend(acts)
    await svc.store.update_flag(flag_id, status=status, decided_by=presser, decided_ts=ts)
    svc.forget_flag(flag_id)
    app.metrics.alerts_decided.labels(decision).inc()
    was_acted = flag["status"] == "acted"
    flag.update(status=status, decided_by=presser, decided_ts=ts)
    await learn_from(app, group, flag, decision, presser, s, ts, was_acted)
    if decision == "spam" and not was_acted:
        for m, msg in pairs:
            await svc.fire(svc.on_spam_confirmed, SpamEvent(group, m, msg, flag_id, presser, ts))
    elif decision == "ham" and was_acted:
        for m, msg in pairs:
            await svc.fire(svc.on_spam_cleared, SpamEvent(group, m, msg, flag_id, presser, ts))
    await app.store.audit(group.pk, presser, f"mod.{decision}", {"flag": flag_id, "actions": [a.kind.value for a in acts], "verdicts": [v["reason"] for v in flag["verdicts"] if v.get("flagged")]})
    r = edit_reply(group, flag, await render(app, group, flag, lang))
    return [r] if r is not None else None


async def learn_from(app: App, group: GroupInfo, flag: dict, decision: str, by: str, s: ModerationSettings, ts: float, was_acted: bool = False) -> None:
    """A spam / not-spam decision trains the classifier (and is stored) and the member's trust."""
    if decision not in ("spam", "ham"):
        return
    svc: ModerationService = app.services["moderation"]
    label = 1 if decision == "spam" else 0
    if s.learn and flag["text"] and flag["kind"] != "joins":
        svc.model.learn(flag["text"], label)
        await svc.store.add_label(label, flag["text"], ts, group.pk, f"moderator:{by}")
    members = list(dict.fromkeys(m for m, _ in flag["members"] if m)) or [flag["member_id"]]
    for mid in members:
        rec = await svc.trust_record(group, mid)
        if label:
            rec.spam += 1
        else:
            rec.ham += 1
            if was_acted:  # the policy counted a ban against the member; take it back
                rec.spam = max(rec.spam - 1, 0)
        await svc.save_trust(group.pk, mid, rec)
