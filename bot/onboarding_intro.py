"""Introductions: a newcomer picks interest tags with buttons; the bot suggests two or
three active members (and, when scoring and the events calendar are installed,
channels and upcoming events) that match, and tells the suggested members who opted in.
Members who opted out (/intro off) are never suggested. /profile starts from the picks
and then follows behaviour (see `blend`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from adapters.base import Button, Reply
from bot import i18n
from bot.commands import Ctx, UsageError
from bot.onboarding import DEFAULT_TAGS
from bot.onboarding_gate import mention_of, service
from bot.onboarding_sources import extra_suggestions, scoring_member_tags

if TYPE_CHECKING:
    from bot.app import App
    from bot.onboarding import OnboardingSettings
    from storage.store import GroupInfo

#: Longest tag that fits a button payload (Telegram allows 64 bytes of callback data).
MAX_TAG = 24
DONE = "=done"


@dataclass
class Suggestion:
    """A member, channel or event suggested to a newcomer, and the tags they share."""

    kind: str  # "member", "channel", "event"
    id: str
    title: str
    tags: list[str]
    score: float
    when: str = ""
    extra: dict = field(default_factory=dict)


async def tags_for(app: App, group: GroupInfo, s: OnboardingSettings) -> list[str]:
    """The interest tags offered: the section's own, scoring's taxonomy, or built-in."""
    from bot.config import SECTIONS

    tags = list(s.intro_tags)
    if not tags and "scoring" in SECTIONS:
        tags = list((await app.settings("scoring", group)).taxonomy)
    tags = tags or list(DEFAULT_TAGS)
    return [t for t in dict.fromkeys(t.strip() for t in tags) if t and len(t.encode()) <= MAX_TAG and ":" not in t]


def intro_buttons(where: str, member_id: str, tags: list[str], picked: list[str], lang: str) -> list[list[Button]]:
    """Tag buttons (three a row, ✓ on picked ones) and "Done"; `where` is "w" for a
    welcome, "p" for an /intro picker (the text is rebuilt differently)."""
    rows: list[list[Button]] = []
    for i in range(0, len(tags), 3):
        rows.append([Button(("✓ " if t in picked else "") + t, f"intro:{where}:{member_id}:{t}") for t in tags[i : i + 3]])
    rows.append([Button(i18n.t(lang, "onb.intro.btn_done"), f"intro:{where}:{member_id}:{DONE}")])
    return rows


async def suggest(app: App, group: GroupInfo, member_id: str, tags: list[str], s: OnboardingSettings) -> list[Suggestion]:
    """Active members (and channels, events) that match `tags`, best first, at most
    `intro_suggestions`; never the newcomer, a bot, or a member who opted out."""
    svc = service(app)
    if not tags:
        return []
    since = svc.now_ts() - s.intro_active_days * 86400
    active = await svc.store.active_members(group.pk, since)
    records = {r["member_id"]: r for r in await svc.store.members(group.pk)}
    learned = await scoring_member_tags(app, group)
    names = await app.store.member_names(group.platform)
    members: list[Suggestion] = []
    for mid, n in active.items():
        if mid == member_id:
            continue
        rec = records.get(mid)
        opt = rec["optin"] if rec else ""
        if opt == "out" or (opt == "" and not s.intro_suggest_default):
            continue
        theirs = dict(learned.get(mid, {}))
        for t in rec["tags"] if rec else []:
            theirs[t] = 1.0  # what they said themselves counts fully
        common = [t for t in tags if theirs.get(t, 0.0) >= 0.1]
        if not common:
            continue
        score = sum(theirs[t] for t in common) * (1 + math.log1p(n))
        members.append(Suggestion("member", mid, names.get(mid) or mid, common, score, extra={"optin": opt}))
    members.sort(key=lambda x: (-x.score, x.title))
    others = sorted(await extra_suggestions(app, group, tags), key=lambda x: -x.score)
    k = s.intro_suggestions
    # Mostly people (the point of an introduction), plus the best place or event.
    picked = members[: max(k - 1, 1)] + others[:1]
    rest = members[len(picked) - len(others[:1]) :] + others[1:]
    picked += rest[: max(k - len(picked), 0)]
    return picked[:k]


def suggestion_lines(lang: str, sugg: list[Suggestion]) -> list[str]:
    """One line per suggestion."""
    out = []
    for x in sugg:
        tags = ", ".join(x.tags)
        if x.kind == "member":
            out.append(i18n.t(lang, "onb.intro.suggest_member", name=x.title, tags=tags))
        elif x.kind == "channel":
            out.append(i18n.t(lang, "onb.intro.suggest_channel", title=x.title, tags=tags))
        else:
            out.append(i18n.t(lang, "onb.intro.suggest_event", title=x.title, when=x.when, tags=tags))
    return out


async def finish_intro(app: App, group: GroupInfo, member_id: str, name: str, username: str | None,
                       tags: list[str], lang: str, channel_id: str = "", reply_to: str | None = None) -> list[Suggestion]:
    """Suggest matches to the newcomer and tell the opted-in ones; returns the suggestions."""
    svc = service(app)
    s = await svc.settings(group)
    now = svc.now_ts()
    await svc.store.save_member(group.pk, member_id, tags=tags, tags_ts=now, intro_done_ts=now)
    sugg = await suggest(app, group, member_id, tags, s)
    mention = mention_of(name, username)
    if sugg:
        text = "\n".join([i18n.t(lang, "onb.intro.suggest_head", mention=mention, tags=", ".join(tags)), *suggestion_lines(lang, sugg)])
    else:
        text = i18n.t(lang, "onb.intro.suggest_none", mention=mention, tags=", ".join(tags))
    sent = await app.send(Reply(group.platform, group.group_id, text, channel_id=channel_id, reply_to_id=reply_to))
    if sent.ok:
        await svc.delete_later(group, sent.message_id, channel_id)
    told = []
    if s.intro_notify:
        for x in sugg:
            if x.kind == "member" and x.extra.get("optin") == "in":
                note = i18n.t(lang, "onb.intro.notify", name=name or member_id, group=group.title or group.group_id, tags=", ".join(x.tags))
                await app.send(Reply(group.platform, group.group_id, note, private_to=x.id))
                told.append(x.id)
    await app.store.audit(group.pk, member_id, "intro.done", {"tags": tags, "suggested": [f"{x.kind}:{x.id}" for x in sugg], "told": told})
    return sugg


async def on_intro_button(ctx: Ctx) -> Reply | list[Reply] | None:
    """A press on an interest button: "intro:<w|p>:<member>:<tag or =done>"."""
    from bot.onboarding_welcome import render_welcome

    if len(ctx.args) < 3 or ctx.args[0] not in ("w", "p"):
        raise UsageError("")
    where, owner, tag = ctx.args[0], ctx.args[1], ":".join(ctx.args[2:])
    app, group = ctx.app, ctx.group
    svc = service(app)
    presser = ctx.event.member_id or ""
    if presser != owner:
        name, _ = await svc.store.member_name(group.platform, owner)
        return ctx.reply(ctx.t("onb.intro.not_yours", name=name or owner), private_to=presser, ephemeral=True)
    s = await svc.settings(group)
    tags = await tags_for(app, group, s)
    rec = await svc.store.member(group.pk, owner)
    picked = [t for t in rec["tags"] if t in tags]
    name, username = ctx.event.member_name, ctx.event.username
    if tag == DONE:
        if not picked:
            return ctx.reply(ctx.t("onb.intro.none_picked"), private_to=presser, ephemeral=True)
        done = True
    else:
        if tag not in tags:
            raise UsageError(ctx.t("button.unknown"))
        picked = [t for t in picked if t != tag] if tag in picked else [*picked, tag]
        await svc.store.save_member(group.pk, owner, tags=picked, tags_ts=svc.now_ts())
        done = False
    head = render_welcome(s, ctx.lang, group, name, username) if where == "w" and s.welcome else ctx.t("onb.intro.ask", mention=mention_of(name, username))
    lines = [head]
    if picked:
        lines.append(ctx.t("onb.welcome.picked", tags=", ".join(picked)))
    if ctx.event.message_id:
        await app.send(Reply(group.platform, group.group_id, "\n\n".join(lines), channel_id=ctx.event.channel_id,
                             edit_message_id=ctx.event.message_id, buttons=[] if done else intro_buttons(where, owner, tags, picked, ctx.lang)))
    if done:
        await finish_intro(app, group, owner, name, username, picked, ctx.lang, ctx.event.channel_id, ctx.event.message_id)
        return None
    return ctx.reply(ctx.t("onb.intro.saved", tags=", ".join(picked) or "—"), private_to=presser, ephemeral=True)


async def cmd_intro(ctx: Ctx) -> Reply | str:
    """/intro [on|off|status]: pick interests, or choose whether to be suggested."""
    svc = service(ctx.app)
    mid = ctx.event.member_id or ""
    arg = ctx.args[0].lower() if ctx.args else ""
    if arg in ("on", "off"):
        await svc.store.save_member(ctx.group.pk, mid, optin="in" if arg == "on" else "out")
        return ctx.t("onb.intro.on" if arg == "on" else "onb.intro.off")
    rec = await svc.store.member(ctx.group.pk, mid)
    if arg == "status":
        return ctx.t("onb.intro.status", state=ctx.t(f"onb.intro.state.{rec['optin']}"), tags=", ".join(rec["tags"]) or "—")
    if arg:
        raise UsageError("")
    s = await svc.settings(ctx.group)
    tags = await tags_for(ctx.app, ctx.group, s)
    if not tags:
        return ctx.t("onb.intro.no_tags")
    picked = [t for t in rec["tags"] if t in tags]
    text = ctx.t("onb.intro.ask", mention=mention_of(ctx.event.member_name, ctx.event.username))
    if picked:
        text += "\n\n" + ctx.t("onb.welcome.picked", tags=", ".join(picked))
    return ctx.reply(text, buttons=intro_buttons("p", mid, tags, picked, ctx.lang))


def register(app: App) -> None:
    """Register /intro, the interest buttons and the /profile that starts from the picks."""
    from bot.onboarding_profile import install_profile

    app.router.command("intro", usage="/intro [on|off|status]", help_key="cmd.help.intro")(cmd_intro)
    app.router.button("intro")(on_intro_button)
    install_profile(app)
