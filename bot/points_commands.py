"""Chat commands for points: /points /level /history /award /deduct and the points
leaderboard (`/top points [7d|30d|all]`).

The leaderboard is registered as the "points" board of scoring's `/top` registry
(`bot.leaderboards.add_board`), so `/top points 30d` works beside `/top activity`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.commands import Ctx, UsageError
from bot.communities import PLATFORM_NAMES, Scope, accounts_of, merge
from bot.leaderboards import Board, add_board
from bot.points import PointsSettings, grant, ledger_of, level_for
from bot.privacy import public_points_top

#: Leaderboard windows: name → days (None: all time).
WINDOWS = {"7d": 7, "30d": 30, "all": None}


def _window(ctx: Ctx, args: list[str]) -> tuple[str, float | None]:
    name = (args[0].lower() if args else "7d")
    if name not in WINDOWS:
        raise UsageError(ctx.t("points.bad_window", value=args[0]))
    days = WINDOWS[name]
    return name, (ctx.app.clock.now() - timedelta(days=days)).timestamp() if days else None


async def leaderboard_lines(app, group, since: float | None, until: float | None, limit: int) -> list[str]:
    """Numbered "1. name — N" lines of the points leaderboard in a window."""
    names = await app.store.member_names(group.platform)
    rows = await public_points_top(app, group, since, until, limit)
    return [f"{i}. {names.get(m) or m} — {p}" for i, (m, p) in enumerate(rows, 1)]


async def points_board(ctx: Ctx, args: list[str]) -> str:
    """The points leaderboard for `/top points [7d|30d|all]`."""
    name, since = _window(ctx, args)
    lines = await leaderboard_lines(ctx.app, ctx.group, since, None, 10)
    if not lines:
        return ctx.t("points.top_empty", window=ctx.t(f"points.window.{name}"))
    return "\n".join([ctx.t("points.top_header", window=ctx.t(f"points.window.{name}")), *lines])


async def render_points(ctx: Ctx, window: str) -> str:
    """The points board for scoring's `/top` registry (`bot.leaderboards`)."""
    return await points_board(ctx, [window])


async def merged_lines(
    app, scope: Scope, since: float | None, limit: int, prefer_platform: str = "", until: float | None = None,
) -> list[str]:
    """Numbered lines of the points board over a community's chats, a person's linked
    accounts added up."""
    totals = await ledger_of(app).totals([g.pk for g in scope.groups], since, until)
    rows = [r for r in await merge(app, scope, totals, prefer_platform) if r.value > 0][:limit]
    return [f"{i}. {r.name} — {int(r.value)}" for i, r in enumerate(rows, 1)]


async def render_points_merged(ctx: Ctx, window: str, scope: Scope) -> str:
    """`/top points` over several chats of a community."""
    name, since = _window(ctx, [window])
    lines = await merged_lines(ctx.app, scope, since, 10, ctx.group.platform)
    wname = ctx.t(f"points.window.{name}")
    if not lines:
        return ctx.t("points.top_empty", window=wname)
    head = ctx.t("points.top_header", window=wname).rstrip(":：")
    return "\n".join([f"{head} · {scope.label()}", *lines])


async def _target(ctx: Ctx, ref: str | None) -> tuple[str, str]:
    """(member_id, display name) of "@name" (or the caller when `ref` is None)."""
    if ref is None:
        return ctx.event.member_id, ctx.event.member_name or ctx.event.member_id
    mid = await ctx.store.find_member(ctx.group, ref)
    if mid is None:
        raise UsageError(ctx.t("points.no_member", ref=ref))
    names = await ctx.store.member_names(ctx.group.platform)
    return mid, names.get(mid) or mid


async def _points(ctx: Ctx) -> str:
    mid, name = await _target(ctx, ctx.args[0] if ctx.args else None)
    led = ledger_of(ctx.app)
    cfg: PointsSettings = await ctx.app.settings("points", ctx.group)
    accounts = await accounts_of(ctx.app, ctx.group, mid)
    bal = await led.balance(ctx.group.pk, mid, accounts)
    held = await led.reserved(ctx.group.pk, mid, accounts=accounts)
    level = level_for(await led.xp(ctx.group.pk, mid, accounts), cfg.level_curve)[0]
    text = ctx.t("points.balance", name=name, points=bal, level=level)
    if held:
        text += "\n" + ctx.t("points.reserved", points=held, available=bal - held)
    if len(accounts) > 1:
        text += "\n" + await _split(ctx, accounts)
    return text


async def _split(ctx: Ctx, accounts: list[tuple[int, str]]) -> str:
    """"(Telegram 30 · Discord 12)": where a community member's balance comes from."""
    led = ledger_of(ctx.app)
    groups = {g.pk: g for g in await ctx.store.groups()}
    per: dict[str, int] = {}
    for pk, m in accounts:
        platform = groups[pk].platform if pk in groups else "?"
        per[platform] = per.get(platform, 0) + await led.balance(pk, m)
    order = sorted(per, key=lambda p: (p != ctx.group.platform, p))  # this platform first
    parts = " · ".join(f"{PLATFORM_NAMES.get(p, p)} {per[p]}" for p in order)
    return ctx.t("points.combined", parts=parts)


async def _level(ctx: Ctx) -> str:
    mid, name = await _target(ctx, ctx.args[0] if ctx.args else None)
    cfg: PointsSettings = await ctx.app.settings("points", ctx.group)
    xp = await ledger_of(ctx.app).xp(ctx.group.pk, mid, await accounts_of(ctx.app, ctx.group, mid))
    level, into, need = level_for(xp, cfg.level_curve)
    filled = int(10 * into / need) if need > 0 else 10
    bar = "█" * filled + "░" * (10 - filled)
    return ctx.t("points.level", name=name, level=level, next=level + 1, bar=bar, into=into, need=need, left=max(0, need - into), xp=xp)


async def _history(ctx: Ctx) -> str:
    rows = await ledger_of(ctx.app).history(ctx.group.pk, ctx.event.member_id, 15)
    if not rows:
        return ctx.t("points.history_empty")
    zone_name = ctx.group.timezone or (await ctx.app.settings("bot", ctx.group)).timezone
    from bot.points import group_zone

    zone = group_zone(zone_name)
    lines = [ctx.t("points.history_header")]
    for r in rows:
        when = datetime.fromtimestamp(r.ts, zone).strftime("%m-%d %H:%M")
        reason = ctx.t(f"points.reason.{r.reason}")
        note = f" ({r.note})" if r.note else ""
        lines.append(f"{when}  {r.amount:+d}  {reason}{note}")
    return "\n".join(lines)


async def _adjust(ctx: Ctx, sign: int) -> str:
    if len(ctx.args) < 2:
        raise UsageError()
    mid, name = await _target(ctx, ctx.args[0])
    try:
        amount = int(ctx.args[1])
    except ValueError:
        raise UsageError(ctx.t("points.bad_amount", value=ctx.args[1])) from None
    if amount <= 0:
        raise UsageError(ctx.t("points.bad_amount", value=ctx.args[1]))
    reason = " ".join(ctx.args[2:])
    key = f"{'award' if sign > 0 else 'deduct'}:{ctx.event.key}"
    if sign < 0:
        # Balances never go below zero: deduct at most what the member has.
        accounts = await accounts_of(ctx.app, ctx.group, mid)
        amount = min(amount, max(0, await ledger_of(ctx.app).balance(ctx.group.pk, mid, accounts)))
        if amount == 0:
            return ctx.t("points.nothing_to_deduct", name=name)
    got = await grant(ctx.app, ctx.group, mid, sign * amount, "award" if sign > 0 else "deduct", key,
                      when=ctx.event.time, actor=ctx.event.member_id, note=reason, channel_id=ctx.event.channel_id)
    if got == 0:
        return ctx.t("points.already_done")
    await ctx.store.audit(ctx.group.pk, ctx.event.member_id or "?", "points.award" if sign > 0 else "points.deduct",
                          {"member": mid, "points": got, "reason": reason})
    bal = await ledger_of(ctx.app).balance(ctx.group.pk, mid, await accounts_of(ctx.app, ctx.group, mid))
    key_text = "points.awarded" if sign > 0 else "points.deducted"
    return ctx.t(key_text, name=name, points=abs(got), balance=bal, reason=reason or "—")


async def _award(ctx: Ctx) -> str:
    return await _adjust(ctx, +1)


async def _deduct(ctx: Ctx) -> str:
    return await _adjust(ctx, -1)


def register(app) -> None:
    """Register the points commands and the "points" board of `/top`."""
    r = app.router
    r.command("points", usage="/points [@member]", help_key="cmd.help.points")(_points)
    r.command("level", usage="/level [@member]", help_key="cmd.help.level")(_level)
    r.command("history", usage="/history", help_key="cmd.help.history")(_history)
    r.command("award", usage="/award @member N [reason]", help_key="cmd.help.award", admin=True)(_award)
    r.command("deduct", usage="/deduct @member N [reason]", help_key="cmd.help.deduct", admin=True)(_deduct)
    add_board(app, Board("points", render_points, windows=tuple(WINDOWS), help_key="cmd.help.top_points",
                         render_merged=render_points_merged))
