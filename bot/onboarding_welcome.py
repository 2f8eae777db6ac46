"""Welcome messages, /rules, and the admins' /setwelcome, /setrules and /gate.

The welcome is the group's own text (`/setwelcome`, or `welcome_text` in the config) or
the built-in one in the group's language, with {name}, {mention}, {group} and {rules}
filled in. It carries the interest buttons of the introduction and is deleted after
`welcome_delete_minutes`, so the chat stays clean.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from adapters.base import Reply
from bot import i18n
from bot.commands import Ctx, UsageError
from bot.onboarding import GATE_MODES, unknown_placeholder
from bot.onboarding_gate import mention_of, service

if TYPE_CHECKING:
    from bot.app import App
    from bot.onboarding import OnboardingSettings
    from storage.store import GroupInfo


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def rules_of(s: OnboardingSettings, lang: str) -> str:
    """The group's rules, or the built-in note that there are none."""
    return s.rules_text.strip() or i18n.t(lang, "onb.rules.none")


def render_welcome(s: OnboardingSettings, lang: str, group: GroupInfo, name: str, username: str | None) -> str:
    """The welcome text for one member."""
    template = s.welcome_text.strip() or i18n.t(lang, "onb.welcome.default")
    values = _Keep(name=name, mention=mention_of(name, username), group=group.title or group.group_id, rules=rules_of(s, lang))
    try:
        return string.Formatter().vformat(template, (), values)
    except (ValueError, IndexError):
        return template  # a stray brace in a hand-written text: show it as written


async def welcome(app: App, group: GroupInfo, member_id: str, name: str, username: str | None, channel_id: str, lang: str) -> str | None:
    """Greet a newcomer (with interest buttons when introductions are on); returns the
    message id. The welcome is deleted after the configured time."""
    from bot.onboarding_intro import intro_buttons, tags_for

    svc = service(app)
    s = await svc.settings(group)
    tags = await tags_for(app, group, s) if s.intro else []
    if not s.welcome and not tags:
        return None
    parts = [render_welcome(s, lang, group, name, username)] if s.welcome else [i18n.t(lang, "onb.intro.ask", mention=mention_of(name, username))]
    if tags and s.welcome:
        parts.append(i18n.t(lang, "onb.welcome.ask"))
    buttons = intro_buttons("w", member_id, tags, [], lang) if tags else []
    sent = await app.send(Reply(group.platform, group.group_id, "\n\n".join(parts), channel_id=channel_id, buttons=buttons))
    await app.store.audit(group.pk, "onboarding", "welcome", {"member": member_id})
    if sent.ok and sent.message_id:
        await svc.delete_later(group, sent.message_id, channel_id)
        svc.welcomes[(group.pk, member_id)] = (sent.message_id, channel_id)
        return sent.message_id
    return None


async def cmd_rules(ctx: Ctx) -> str:
    """/rules"""
    s = await service(ctx.app).settings(ctx.group)
    return ctx.t("onb.rules.head", group=ctx.group.title or ctx.group.group_id) + "\n" + rules_of(s, ctx.lang)


async def cmd_setwelcome(ctx: Ctx) -> str:
    """/setwelcome [text] (admins): set the welcome; no text resets it."""
    text = ctx.arg_text.strip()
    bad = unknown_placeholder(text)
    if bad:
        raise UsageError(ctx.t("onb.setwelcome.bad", name=bad))
    await ctx.store.set_setting(ctx.group.pk, "onboarding.welcome_text", text)
    await ctx.store.audit(ctx.group.pk, ctx.event.member_id or "?", "onboarding.setwelcome", {"text": text})
    if not text:
        return ctx.t("onb.setwelcome.reset")
    s = await service(ctx.app).settings(ctx.group)
    preview = render_welcome(s, ctx.lang, ctx.group, ctx.event.member_name or "?", ctx.event.username)
    return ctx.t("onb.setwelcome.done", preview=preview)


async def cmd_setrules(ctx: Ctx) -> str:
    """/setrules [text] (admins): set the rules; no text clears them."""
    text = ctx.arg_text.strip()
    await ctx.store.set_setting(ctx.group.pk, "onboarding.rules_text", text)
    await ctx.store.audit(ctx.group.pk, ctx.event.member_id or "?", "onboarding.setrules", {"text": text})
    return ctx.t("onb.setrules.done" if text else "onb.setrules.reset")


async def cmd_gate(ctx: Ctx) -> str:
    """/gate [off|button|question] (admins): show or set the join gate."""
    svc = service(ctx.app)
    if ctx.args:
        mode = ctx.args[0].lower()
        if mode not in GATE_MODES or len(ctx.args) > 1:
            raise UsageError("")
        await ctx.store.set_setting(ctx.group.pk, "onboarding.gate", mode)
        await svc.store.note_gate_mode(ctx.group.pk, mode, ctx.event.time.timestamp())
        await ctx.store.audit(ctx.group.pk, ctx.event.member_id or "?", "onboarding.gate", {"mode": mode})
        return ctx.t("onb.gate.set", mode=ctx.t(f"onb.mode.{mode}"))
    s = await svc.settings(ctx.group)
    state = await svc.store.group_state(ctx.group.pk)
    raid = ""
    now = svc.now_ts()
    if state["raid_until_ts"] and state["raid_until_ts"] > now and s.raid_gate != "off":
        until = datetime.fromtimestamp(state["raid_until_ts"], UTC).strftime("%H:%M")
        raid = ctx.t("onb.gate.status_raid", raid_mode=ctx.t(f"onb.mode.{s.raid_gate}"), until=until)
    return ctx.t("onb.gate.status", mode=ctx.t(f"onb.mode.{s.gate}"), raid=raid, minutes=f"{s.gate_minutes:g}", failure=s.gate_failure)


def register(app: App) -> None:
    """Register /rules, /setwelcome, /setrules and /gate."""
    r = app.router
    r.command("rules", usage="/rules", help_key="cmd.help.rules")(cmd_rules)
    r.command("setwelcome", usage="/setwelcome [text with {name} {mention} {group} {rules}]", help_key="cmd.help.setwelcome", admin=True)(cmd_setwelcome)
    r.command("setrules", usage="/setrules [text]", help_key="cmd.help.setrules", admin=True)(cmd_setrules)
    r.command("gate", usage="/gate [off|button|question]", help_key="cmd.help.gate", admin=True)(cmd_gate)
