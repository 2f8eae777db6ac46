"""Moderation chat commands: /report (members), /flags and /warn (moderators)."""

from __future__ import annotations

from datetime import timedelta

from adapters.base import Action, ActionKind
from bot import i18n
from bot.commands import Ctx, Router, UsageError
from bot.mod_alerts import names_of, send_alert, shorten, update_alert
from bot.mod_engine import ModerationService
from bot.mod_reasons import reason_text

i18n.add(
    {
        "en": {
            "cmd.help.report": "Reply to a message with /report to show it to the moderators.",
            "cmd.help.flags": "List open moderation flags.",
            "cmd.help.warn": "Warn a member (reply, or /warn @name reason); warnings escalate to a mute.",
            "report.need_reply": "Reply to the message you want to report with /report.",
            "report.unknown": "I don't know that message (it may be older than the bot).",
            "report.self": "You can't report your own message.",
            "report.too_often": "You have reported {n} messages in the last hour; please wait before reporting more.",
            "report.again": "You already reported this message.",
            "report.thanks": "Thanks, the moderators will look at it.",
            "report.hidden": "Thanks. {n} members reported this message, so it has been hidden until a moderator decides.",
            "flags.none": "No open flags.",
            "flags.header": "Open flags ({n}):",
            "warn.need_target": "Reply to the member's message with /warn, or write /warn @name reason.",
            "warn.unknown": "I don't know a member called {name} here.",
            "warn.done": "{name} warned ({n}/{limit}): {reason}",
            "warn.muted": "{name} reached {limit} warnings and is muted for {hours:g} h.",
        },
        "zh-CN": {
            "cmd.help.report": "回复一条消息并输入 /report，把它提交给管理员。",
            "cmd.help.flags": "列出待处理的审核标记。",
            "cmd.help.warn": "警告成员（回复其消息，或 /warn @名字 原因）；警告累计会禁言。",
            "report.need_reply": "请回复你要举报的消息并输入 /report。",
            "report.unknown": "我不认识这条消息（可能早于机器人加入）。",
            "report.self": "不能举报自己的消息。",
            "report.too_often": "你在过去一小时内已举报 {n} 条消息，请稍后再举报。",
            "report.again": "你已经举报过这条消息了。",
            "report.thanks": "谢谢，管理员会查看。",
            "report.hidden": "谢谢。已有 {n} 位成员举报，这条消息已先隐藏，等待管理员处理。",
            "flags.none": "没有待处理的标记。",
            "flags.header": "待处理的标记（{n}）：",
            "warn.need_target": "请回复该成员的消息并输入 /warn，或写 /warn @名字 原因。",
            "warn.unknown": "这里没有叫 {name} 的成员。",
            "warn.done": "已警告 {name}（{n}/{limit}）：{reason}",
            "warn.muted": "{name} 已累计 {limit} 次警告，禁言 {hours:g} 小时。",
        },
    }
)


def register(router: Router) -> None:
    """Add /report, /flags and /warn to the router."""
    router.command("report", usage="/report (as a reply)", help_key="cmd.help.report")(report)
    router.command("flags", usage="/flags", help_key="cmd.help.flags", admin=True)(flags)
    router.command("warn", usage="/warn [@member] [reason]", help_key="cmd.help.warn", admin=True)(warn)


async def report(ctx: Ctx):
    """A member reports the message they reply to."""
    e, group = ctx.event, ctx.group
    if not e.reply_to_id:
        raise UsageError(ctx.t("report.need_reply"))
    svc: ModerationService = ctx.app.services["moderation"]
    target = await ctx.store.message(group.pk, e.reply_to_id)
    if target is None:
        return ctx.private(ctx.t("report.unknown"))
    if target.member_id == e.member_id:
        return ctx.private(ctx.t("report.self"))
    s = (await svc.settings(group)).mod
    ts = e.time.timestamp()
    made = await svc.store.reports_since(group.pk, e.member_id or "", ts - 3600)
    if made >= s.report_limit:
        return ctx.private(ctx.t("report.too_often", n=made))
    flag, created = await svc.store.create_flag(
        group.pk, f"msg:{target.message_id}", ts, kind="report", severity="medium", member_id=target.member_id,
        message_id=target.message_id, channel_id=target.channel_id, text=(target.text or "")[:2000],
        count=1, members=[(target.member_id, target.message_id)],
    )
    if not await svc.store.add_report(group.pk, flag["id"], e.member_id or "", ts):
        return ctx.private(ctx.t("report.again"))
    reporters = await svc.store.reporters(flag["id"])
    await ctx.store.audit(group.pk, e.member_id or "", "report", {"flag": flag["id"], "message": target.message_id, "reporters": len(reporters)})
    hidden = False
    if s.report_hide and len(reporters) >= s.report_hide and flag["status"] == "open":
        ctx.actions.append(
            Action(ActionKind.DELETE, group.platform, group.group_id, target.member_id, target.message_id, target.channel_id,
                   reason=f"hidden after {len(reporters)} reports")
        )
        await svc.store.update_flag(flag["id"], status="hidden", action="delete")
        svc.forget_flag(flag["id"])
        flag.update(status="hidden", action="delete")
        await ctx.store.audit(group.pk, "moderation", "hidden", {"flag": flag["id"], "reporters": reporters})
        hidden = True
    if s.mode != "observe" and not flag.get("decided_by"):
        if flag.get("alert_message_id"):
            await update_alert(ctx.app, group, flag, ctx.lang)
        else:
            await send_alert(ctx.app, group, flag, s, ctx.lang)
    if hidden:
        return ctx.private(ctx.t("report.hidden", n=len(reporters)))
    return ctx.private(ctx.t("report.thanks"))


async def flags(ctx: Ctx) -> str:
    """List the group's open flags, newest first."""
    svc: ModerationService = ctx.app.services["moderation"]
    rows = await svc.store.flags(ctx.group.pk, "open", limit=15)
    rows += [r for r in await svc.store.flags(ctx.group.pk, "hidden", limit=15)]
    if not rows:
        return ctx.t("flags.none")
    names = await names_of(ctx.app, ctx.group.platform, [f["member_id"] for f in rows])
    lines = [ctx.t("flags.header", n=len(rows))]
    for f in rows:
        fired = "; ".join(reason_text(v["name"], v["reason"], ctx.lang) for v in f["verdicts"] if v.get("flagged"))
        who = names.get(f["member_id"] or "", f["member_id"])
        count = f" ×{f['count']}" if f["count"] > 1 else ""
        lines.append(f"#{f['id']} [{f['kind']}{count}, {f['severity']}] {who}: “{shorten(f['text'], 60)}” {fired}".rstrip())
    return "\n".join(lines)


async def warn(ctx: Ctx) -> str:
    """Warn a member; the `warn_limit`-th warning within `warn_days` mutes them."""
    e, group = ctx.event, ctx.group
    svc: ModerationService = ctx.app.services["moderation"]
    args = list(ctx.args)
    member = None
    if args and args[0].startswith("@"):
        ref = args.pop(0)
        member = await ctx.store.find_member(group, ref)
        if member is None:
            raise UsageError(ctx.t("warn.unknown", name=ref))
    elif e.reply_to_id:
        target = await ctx.store.message(group.pk, e.reply_to_id)
        member = target.member_id if target else e.target_member_id
    if not member:
        raise UsageError(ctx.t("warn.need_target"))
    s = (await svc.settings(group)).mod
    reason = " ".join(args) or "-"
    ts = e.time.timestamp()
    await svc.store.add_warning(group.pk, member, e.member_id or "", reason, ts)
    n = await svc.store.warnings_since(group.pk, member, ts - s.warn_days * 86400)
    names = await names_of(ctx.app, group.platform, [member])
    name = names.get(member, member)
    await ctx.store.audit(group.pk, e.member_id or "", "warn", {"member": member, "reason": reason, "count": n})
    out = ctx.t("warn.done", name=name, n=n, limit=s.warn_limit, reason=reason)
    if n >= s.warn_limit:
        until = ctx.app.clock.now() + timedelta(hours=s.warn_mute_hours)
        ctx.actions.append(Action(ActionKind.MUTE, group.platform, group.group_id, member, until=until, reason=f"{n} warnings"))
        await ctx.store.audit(group.pk, "moderation", "mute", {"member": member, "warnings": n, "hours": s.warn_mute_hours})
        out += "\n" + ctx.t("warn.muted", name=name, limit=s.warn_limit, hours=s.warn_mute_hours)
    return out
