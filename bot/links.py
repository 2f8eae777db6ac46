"""`/link` and `/unlink`: one person, accounts on several platforms, one standing.

    Telegram:  /link            → (privately) "Your link code is KD7-M2Q. Type /link KD7-M2Q on
                                   the other platform within 10 minutes."
    Discord:   /link KD7M2Q     → "Linked: this account and your telegram account now
                                   count as one person."

Whole-community numbers (leaderboards, points balances) add up per person: call
`person_ids(app, platform, member_ids)` or `combine(app, {(platform, member): value})`;
a never-linked account is its own person ("platform:member_id"). Per-platform numbers
need nothing from here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from bot import i18n
from bot.commands import Ctx
from storage.links import LinkStore

if TYPE_CHECKING:
    from bot.app import App

#: Minutes a link code stays valid.
CODE_MINUTES = 10

_PLATFORM_NAMES = {"telegram": "Telegram", "discord": "Discord", "console": "console"}


def links(app: App) -> LinkStore:
    """The app's `LinkStore` (one per app, on its store)."""
    ls = app.services.get("links")
    if ls is None or ls.store is not app.store:
        ls = app.services["links"] = LinkStore(app.store)
    return ls


async def person_ids(app: App, platform: str, member_ids: Iterable[str]) -> dict[str, str]:
    """{member_id: person_id} for accounts of one platform; use it to merge scores across
    platforms (an unlinked account is its own person, "platform:member_id")."""
    return await links(app).person_ids(platform, list(member_ids))


async def combine(app: App, values: Mapping[tuple[str, str], float]) -> dict[str, float]:
    """Sum per-account values ({(platform, member_id): value}) into per-person totals."""
    mapping = await links(app).person_map(list(values))
    out: dict[str, float] = defaultdict(float)
    for account, value in values.items():
        out[mapping[account]] += value
    return dict(out)


async def _link(ctx: Ctx) -> str | object:
    ev = ctx.event
    now = ctx.app.clock.now().timestamp()
    store = links(ctx.app)
    if not ctx.args:
        code = await store.create_code(ev.platform, ev.member_id or "", now, ttl=CODE_MINUTES * 60)
        shown = f"{code[:3]}-{code[3:]}"
        return ctx.private(ctx.t("link.code", code=shown, minutes=CODE_MINUTES), ephemeral=True)
    result = await store.redeem(ctx.arg_text, ev.platform, ev.member_id or "", now)
    if not result.ok:
        return ctx.private(ctx.t(f"link.error.{result.error}", minutes=CODE_MINUTES), ephemeral=True)
    from bot.communities import forget_accounts

    forget_accounts(ctx.app)
    await ctx.app.store.audit(ctx.group.pk, ev.member_id or "", "link", {
        "person": result.person_id, "other": f"{result.other_platform}:{result.other_member_id}",
    })
    other = _PLATFORM_NAMES.get(result.other_platform, result.other_platform)
    return ctx.private(ctx.t("link.done", other=other), ephemeral=True)


async def _unlink(ctx: Ctx) -> object:
    ev = ctx.event
    done = await links(ctx.app).unlink(ev.platform, ev.member_id or "")
    if done:
        from bot.communities import forget_accounts

        forget_accounts(ctx.app)
        await ctx.app.store.audit(ctx.group.pk, ev.member_id or "", "unlink", "")
    return ctx.private(ctx.t("link.unlinked" if done else "link.not_linked"), ephemeral=True)


def install(app: App) -> None:
    """Register /link and /unlink and the link store service."""
    links(app)
    app.router.command("link", usage="/link [CODE]", help_key="cmd.help.link")(_link)
    app.router.command("unlink", usage="/unlink", help_key="cmd.help.unlink")(_unlink)


i18n.add(
    {
        "en": {
            "cmd.help.link": "link your accounts on Telegram and Discord so they count as one",
            "cmd.help.unlink": "undo /link for this account",
            "link.code": "Your link code is {code}. Type /link {code} on your other platform within {minutes} minutes.",
            "link.done": "Linked: this account and your {other} account now count as one person.",
            "link.error.unknown": "That code is not valid. Type /link on your other platform to get a new one.",
            "link.error.expired": "That code has expired (codes last {minutes} minutes). Type /link on your other platform for a new one.",
            "link.error.self": "Type the code on your other platform, not here.",
            "link.error.same_platform": "That code comes from this same platform; type it where you don't have the code yet.",
            "link.unlinked": "This account is no longer linked to your other accounts.",
            "link.not_linked": "This account is not linked to any other account.",
        },
        "zh-CN": {
            "cmd.help.link": "关联你在 Telegram 和 Discord 的账号，合并计算",
            "cmd.help.unlink": "取消本账号的关联",
            "link.code": "你的关联码是 {code}。请在 {minutes} 分钟内到另一个平台输入 /link {code}。",
            "link.done": "关联成功：本账号与你的 {other} 账号现在算作同一个人。",
            "link.error.unknown": "关联码无效。请在另一个平台输入 /link 获取新的关联码。",
            "link.error.expired": "关联码已过期（有效期 {minutes} 分钟）。请在另一个平台输入 /link 获取新的关联码。",
            "link.error.self": "请到你的另一个平台输入这个关联码，而不是在这里。",
            "link.error.same_platform": "这个关联码来自同一个平台；请到另一个平台输入。",
            "link.unlinked": "本账号已取消与其他账号的关联。",
            "link.not_linked": "本账号没有关联任何其他账号。",
        },
    }
)


async def demo(app: App, group, out) -> None:
    """Link a sample member's Telegram and Discord accounts in a sample community and show
    the one board and one balance (`bot.communities_demo`)."""
    from bot.communities_demo import demo as _demo

    await _demo(app, group, out)
