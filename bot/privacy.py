"""Member data rights: /mydata (a private JSON export), /forgetme (erase and
pseudonymise, after a confirmation button only the member can press), /optout and
/optin (hidden from public boards and reports), and the retention job that blanks old
texts (`[privacy] retention_days`).

Boards and reports ask `is_public(member_id, hidden)` with the set from
`hidden_members(app, group)`; pseudonyms of forgotten members are never public.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from adapters.base import Button
from bot import i18n
from bot.commands import Ctx
from bot.config import register_section, setting
from storage.privacy import ANON, ForgetResult, PrivacyStore

if TYPE_CHECKING:
    from bot.app import App
    from storage.store import GroupInfo


@dataclass
class PrivacySettings:
    """Member data rights."""

    retention_days: int = setting(0, "Blank message texts older than this many days (0: keep forever); counts and scores stay.")
    retention_hour: int = setting(3, "Hour (UTC) of the daily retention purge.")

    def check(self) -> str | None:
        """Validate the numbers."""
        if self.retention_days < 0:
            return f"retention_days must be 0 (keep forever) or more, got {self.retention_days}"
        if not 0 <= self.retention_hour <= 23:
            return f"retention_hour must be 0-23, got {self.retention_hour}"
        return None


register_section("privacy", PrivacySettings)


def privacy_store(app: App) -> PrivacyStore:
    """The app's privacy store (created on first use)."""
    ps = app.services.get("privacy")
    if ps is None:
        ps = app.services["privacy"] = PrivacyStore(app.store)
    return ps


async def hidden_members(app: App, group: GroupInfo) -> set[str]:
    """Member ids of the group that opted out of public boards and reports."""
    return await privacy_store(app).hidden(group.pk)


def is_public(member_id: str, hidden: set[str]) -> bool:
    """May this member appear on a public board or report?"""
    return bool(member_id) and member_id not in hidden and not member_id.startswith(ANON)


async def public_points_top(
    app: App, group: GroupInfo, since: float | None, until: float | None, limit: int, exclude: tuple[str, ...] = (),
) -> list[tuple[str, int]]:
    """The points leaderboard (`Ledger.top`) without hidden members and pseudonyms."""
    from bot.points import ledger_of

    hidden = await hidden_members(app, group)
    n = limit + len(hidden) + 10
    while True:
        rows = await ledger_of(app).top(group.pk, since, until, n, exclude=exclude)
        shown = [(m, p) for m, p in rows if is_public(m, hidden)]
        if len(shown) >= limit or len(rows) < n:
            return shown[:limit]
        n *= 4


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")


# -- /mydata -----------------------------------------------------------------------
async def export_member(app: App, group: GroupInfo, member_id: str) -> dict[str, Any]:
    """Everything stored about the member in `group`, plus the interests scoring has
    already computed for them (read from its cache; not computed just for this)."""
    data = await privacy_store(app).export(group.pk, group.platform, member_id)
    gc = app.services.get("scoring").groups.get(group.pk) if "scoring" in app.services else None
    snap = gc.snapshot if gc else None
    if snap is not None and snap.interests is not None and (code := snap.frame.code(member_id)) >= 0:
        data["interests"] = [{"tag": t, "share": round(float(s), 3)} for t, s in snap.interests.top_tags(code)]
    else:
        data["interests"] = None
        data["interests_note"] = "not computed yet for this group; ask again after /profile"
    data["group"] = {"platform": group.platform, "group_id": group.group_id, "title": group.title}
    data["exported_at"] = app.clock.now().isoformat(timespec="seconds")
    return data


async def _mydata(ctx: Ctx):
    member = ctx.event.member_id or ""
    data = await export_member(ctx.app, ctx.group, member)
    n = len(data["events"])
    return ctx.private(ctx.t("privacy.mydata", events=n, points=len(data["points_ledger"])), file=("mydata.json", _json(data)))


# -- /forgetme -----------------------------------------------------------------------
def pseudonym(group: GroupInfo, member_id: str) -> str:
    """A fresh, unlinkable pseudonym: a random salt, so the real id cannot be guessed back."""
    salt = secrets.token_bytes(16)
    return ANON + hashlib.sha256(salt + f"{group.pk}:{member_id}".encode()).hexdigest()[:12]


async def forget_member(app: App, group: GroupInfo, member_id: str) -> ForgetResult:
    """Forget the member in `group` (see `PrivacyStore.forget`), then drop every cache
    that still holds their id or words: the score cache and the store's member caches."""
    res = await privacy_store(app).forget(group.pk, group.platform, member_id, pseudonym(group, member_id))
    app.store._members.pop((group.platform, member_id), None)
    app.store._group_members.discard((group.pk, member_id))
    scoring = app.services.get("scoring")
    if scoring is not None:
        scoring.drop(group.pk)
    points_state = app.services.get("points.state")
    if points_state is not None:
        points_state.forget_member(group.pk, member_id)
    mod = app.services.get("moderation")
    if mod is not None and group.pk in getattr(mod, "windows", {}):
        # The moderation window (minutes of recent activity, in memory only) holds the
        # member's counters and the fingerprints of their recent texts: drop them now
        # rather than when they age out.
        mod.windows[group.pk].forget_member(member_id)
    if mod is not None and hasattr(mod, "forget_flag"):
        mod.forget_flag(group_pk=group.pk)
    await app.store.audit(group.pk, "privacy", "forget", f"member forgotten as {res.pseudonym}")
    return res


def kept_text(lang: str, res: ForgetResult) -> str:
    """The sentence saying what was kept for moderation and why (or that nothing was)."""
    parts = []
    if res.banned:
        parts.append(i18n.t(lang, "privacy.kept.ban"))
    if res.kept_flags:
        parts.append(i18n.t(lang, "privacy.kept.flags", n=res.kept_flags))
    if res.kept_warnings:
        parts.append(i18n.t(lang, "privacy.kept.warnings", n=res.kept_warnings))
    if res.kept_trust:
        parts.append(i18n.t(lang, "privacy.kept.trust"))
    if not parts:
        return i18n.t(lang, "privacy.kept.none")
    return i18n.t(lang, "privacy.kept.some", items="; ".join(parts))


async def _forgetme(ctx: Ctx):
    m = ctx.event.member_id or ""
    buttons = [[Button(ctx.t("privacy.forget.yes"), f"forget:confirm:{m}"), Button(ctx.t("privacy.forget.no"), f"forget:cancel:{m}")]]
    # In the group, not in a DM: a press in a Telegram DM would arrive as that DM's
    # event, not this group's. Ephemeral: on Discord only the member sees it; on
    # Telegram others may see it, so the button checks who presses it.
    return ctx.reply(ctx.t("privacy.forget.ask"), buttons=buttons, ephemeral=True)


async def _forget_button(ctx: Ctx):
    action, _, owner = ctx.payload.partition(":")
    if action not in ("confirm", "cancel") or not owner:
        return ctx.private(ctx.t("button.unknown"), ephemeral=True)
    if ctx.event.member_id != owner:
        # Only the member themself may forget themself: a button can be seen by others.
        return ctx.private(ctx.t("privacy.forget.not_yours"), ephemeral=True)
    if action == "cancel":
        return ctx.private(ctx.t("privacy.forget.cancelled"), ephemeral=True)
    res = await forget_member(ctx.app, ctx.group, owner)
    return ctx.private(ctx.t("privacy.forget.done", texts=res.changed.get("texts erased", 0)) + "\n" + kept_text(ctx.lang, res))


# -- /optout /optin ------------------------------------------------------------------
async def _optout(ctx: Ctx):
    changed = await privacy_store(ctx.app).set_optout(ctx.group.pk, ctx.event.member_id or "", True, ctx.app.clock.now().timestamp())
    return ctx.private(ctx.t("privacy.optout" if changed else "privacy.optout.already"), ephemeral=True)


async def _optin(ctx: Ctx):
    changed = await privacy_store(ctx.app).set_optout(ctx.group.pk, ctx.event.member_id or "", False, 0.0)
    return ctx.private(ctx.t("privacy.optin" if changed else "privacy.optin.already"), ephemeral=True)


# -- retention -----------------------------------------------------------------------
async def purge_old_texts(app: App, group: GroupInfo, now: datetime | None = None) -> int:
    """Blank texts of the group's events older than its `retention_days` (0: none).
    Returns how many events lost their text."""
    cfg: PrivacySettings = await app.settings("privacy", group)
    if cfg.retention_days <= 0:
        return 0
    cutoff = (now or app.clock.now()) - timedelta(days=cfg.retention_days)
    n = await privacy_store(app).purge_texts(group.pk, cutoff.timestamp())
    if n and "scoring" in app.services:
        # The score cache holds the loaded texts in memory: reload without them.
        app.services["scoring"].drop(group.pk)
    return n


async def _retention_job(app: App, group: GroupInfo, s, fire: datetime) -> str:
    n = await purge_old_texts(app, group, fire)
    return f"{n} texts blanked"


async def _sync_retention(app: App, group: GroupInfo) -> list[tuple]:
    """The group's daily retention schedule from its settings (or disabled)."""
    cfg: PrivacySettings = await app.settings("privacy", group)
    return [("privacy_retention", {"hour": cfg.retention_hour, "minute": 30}, cfg.retention_days > 0, "UTC", 6 * 3600.0)]


def install(app: App) -> None:
    """Register the commands, the forget button and the retention job."""
    from bot.scheduler import scheduler_of

    privacy_store(app)
    r = app.router
    r.command("mydata", usage="/mydata", help_key="cmd.help.mydata")(_mydata)
    r.command("forgetme", usage="/forgetme", help_key="cmd.help.forgetme")(_forgetme)
    r.command("optout", usage="/optout", help_key="cmd.help.optout")(_optout)
    r.command("optin", usage="/optin", help_key="cmd.help.optin")(_optin)
    r.button("forget")(_forget_button)
    sched = scheduler_of(app)
    sched.handler("privacy_retention")(_retention_job)
    sched.group_syncs.append(_sync_retention)
    sched.optional_kinds.add("privacy_retention")


async def demo(app: App, group: GroupInfo, out) -> None:
    """Show a sample member's /mydata summary and what /optout does to the points board."""
    from bot.points import ledger_of

    top = await ledger_of(app).top(group.pk, limit=3)
    if not top:
        return
    names = await app.store.member_names(group.platform)
    member = top[0][0]
    name = names.get(member) or member
    data = await export_member(app, group, member)
    out.print(f"[bold]Privacy[/bold]: /mydata for {name} holds {len(data['events'])} events, "
              f"{len(data['points_ledger'])} points rows, {len(data['moderation']['flags'])} flags, "
              f"{len(_json(data)) // 1024} KB of JSON (sent privately as mydata.json).")
    await privacy_store(app).set_optout(group.pk, member, True, app.clock.now().timestamp())
    after = await public_points_top(app, group, None, None, 3)
    await privacy_store(app).set_optout(group.pk, member, False, 0.0)
    show = ", ".join(names.get(m) or m for m, _ in after)
    out.print(f"  after {name}'s /optout the all-time points board starts with: {show} (nothing deleted; /optin undoes it)")


i18n.add(
    {
        "en": {
            "cmd.help.mydata": "get privately a file with everything stored about you here",
            "cmd.help.forgetme": "erase your texts and name here and anonymise your records",
            "cmd.help.optout": "leave public leaderboards and reports (nothing is deleted)",
            "cmd.help.optin": "appear on public leaderboards and reports again",
            "privacy.mydata": "Everything stored about you in this group is in the attached file: {events} events and {points} points entries.",
            "privacy.forget.ask": "This erases your messages' texts, your name and username, and replaces your id by an anonymous one in the group's records; your points leave the leaderboards. It cannot be undone. Continue?",
            "privacy.forget.yes": "Yes, forget me",
            "privacy.forget.no": "Cancel",
            "privacy.forget.not_yours": "Only the member who asked can confirm this.",
            "privacy.forget.cancelled": "Cancelled: nothing was erased.",
            "privacy.forget.done": "Done: {texts} texts erased, your name removed, your records anonymised.",
            "privacy.kept.none": "Nothing that names you was kept.",
            "privacy.kept.some": "Kept under your id for moderation (texts erased): {items}. Moderators must be able to recognise a ban or a pending case when you return.",
            "privacy.kept.ban": "the record of your ban",
            "privacy.kept.flags": "{n} moderation flag(s) (open or leading to a ban)",
            "privacy.kept.warnings": "{n} warning(s), without their reasons",
            "privacy.kept.trust": "your spam counters",
            "privacy.optout": "Done: you no longer appear on public leaderboards or reports. Nothing was deleted; /optin undoes it.",
            "privacy.optout.already": "You are already hidden from public leaderboards and reports.",
            "privacy.optin": "Done: you appear on public leaderboards and reports again.",
            "privacy.optin.already": "You already appear on public leaderboards and reports.",
        },
        "zh-CN": {
            "cmd.help.mydata": "私信获取本群保存的关于你的全部数据文件",
            "cmd.help.forgetme": "删除你在本群的文字和名字，并将你的记录匿名化",
            "cmd.help.optout": "不出现在公开排行榜和报告中（不删除任何数据）",
            "cmd.help.optin": "重新出现在公开排行榜和报告中",
            "privacy.mydata": "本群保存的关于你的全部数据见附件：{events} 条事件，{points} 条积分记录。",
            "privacy.forget.ask": "此操作会删除你消息的文字、你的名字和用户名，并在本群记录中用匿名 ID 替换你的 ID；你的积分将从排行榜移除。操作不可撤销。确定继续吗？",
            "privacy.forget.yes": "确定，删除我的数据",
            "privacy.forget.no": "取消",
            "privacy.forget.not_yours": "只有提出请求的成员本人可以确认。",
            "privacy.forget.cancelled": "已取消：没有删除任何内容。",
            "privacy.forget.done": "已完成：删除了 {texts} 条文字，移除了你的名字，你的记录已匿名化。",
            "privacy.kept.none": "没有保留任何指向你的记录。",
            "privacy.kept.some": "为管理需要以你的 ID 保留（文字已删除）：{items}。你再次加入时，管理员需要能识别封禁或待处理的案件。",
            "privacy.kept.ban": "你的封禁记录",
            "privacy.kept.flags": "{n} 条管理标记（待处理或导致封禁）",
            "privacy.kept.warnings": "{n} 次警告（不含原因）",
            "privacy.kept.trust": "你的垃圾消息计数",
            "privacy.optout": "已完成：你不再出现在公开排行榜和报告中。没有删除任何数据；输入 /optin 可恢复。",
            "privacy.optout.already": "你已经不在公开排行榜和报告中。",
            "privacy.optin": "已完成：你重新出现在公开排行榜和报告中。",
            "privacy.optin.already": "你已经出现在公开排行榜和报告中。",
        },
    }
)
