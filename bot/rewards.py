"""The rewards catalog and redemptions: /rewards, /reward add|remove, /redeem and the
admins' Approve/Deny buttons.

`/redeem NAME` reserves the cost (pending redemptions hold points, so a member cannot
spend the same points twice) and sends admins a request with buttons; approval debits
the points and takes one from the stock, denial releases them; the member is told
privately either way. A redelivered `/redeem` is recognised by its event key.
"""

from __future__ import annotations

import shlex

from adapters.base import Button, Reply
from bot.commands import Ctx, UsageError
from bot.communities import accounts_of
from bot.points import ledger_of


async def _sync_catalog(ctx: Ctx) -> None:
    """Add the config's catalog items the group does not have yet."""
    cfg = await ctx.app.settings("points", ctx.group)
    for name, cost in cfg.rewards.items():
        await ledger_of(ctx.app).ensure_reward(ctx.group.pk, name, cost, ctx.app.clock.now().timestamp())


async def _rewards(ctx: Ctx) -> str:
    await _sync_catalog(ctx)
    items = await ledger_of(ctx.app).rewards(ctx.group.pk)
    if not items:
        return ctx.t("rewards.empty")
    lines = [ctx.t("rewards.header")]
    for r in items:
        stock = ctx.t("rewards.unlimited") if r.stock is None else ctx.t("rewards.stock", n=r.stock)
        lines.append(f"• {r.name} — {r.cost} ({stock})")
    lines.append(ctx.t("rewards.footer"))
    return "\n".join(lines)


def _int(ctx: Ctx, text: str, what: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise UsageError(ctx.t("rewards.bad_number", what=what, value=text)) from None
    if v < 0:
        raise UsageError(ctx.t("rewards.bad_number", what=what, value=text))
    return v


async def _reward(ctx: Ctx) -> str:
    try:
        # Quotes allow names with spaces: /reward add "course coupon" 30 5
        args = shlex.split(ctx.arg_text.replace("“", '"').replace("”", '"'))
    except ValueError:
        raise UsageError() from None
    if not args or args[0].lower() not in ("add", "remove"):
        raise UsageError()
    sub = args[0].lower()
    if sub == "remove":
        if len(args) < 2:
            raise UsageError()
        name = " ".join(args[1:])
        ok = await ledger_of(ctx.app).remove_reward(ctx.group.pk, name)
        return ctx.t("rewards.removed" if ok else "rewards.no_such", name=name)
    if len(args) not in (3, 4):
        raise UsageError()
    name = args[1]
    cost = _int(ctx, args[2], "COST")
    stock = _int(ctx, args[3], "STOCK") if len(args) > 3 else None
    await ledger_of(ctx.app).set_reward(ctx.group.pk, name, cost, stock, ctx.event.time.timestamp())
    await ctx.store.audit(ctx.group.pk, ctx.event.member_id or "?", "rewards.add", {"name": name, "cost": cost, "stock": stock})
    stock_text = ctx.t("rewards.unlimited") if stock is None else ctx.t("rewards.stock", n=stock)
    return ctx.t("rewards.added", name=name, cost=cost, stock=stock_text)


async def _redeem(ctx: Ctx) -> list[Reply] | str:
    if not ctx.args:
        raise UsageError()
    await _sync_catalog(ctx)
    name = ctx.arg_text.strip()
    led = ledger_of(ctx.app)
    accounts = await accounts_of(ctx.app, ctx.group, ctx.event.member_id)
    res = await led.request(ctx.group.pk, ctx.event.member_id, name, ctx.event.key, ctx.event.time.timestamp(), accounts)
    if res.status == "no_reward":
        return ctx.t("rewards.no_such", name=name)
    if res.status == "out_of_stock":
        return ctx.t("rewards.out_of_stock", name=res.reward)
    if res.status == "insufficient":
        bal = await led.balance(ctx.group.pk, ctx.event.member_id, accounts)
        held = await led.reserved(ctx.group.pk, ctx.event.member_id, accounts=accounts)
        return ctx.t("rewards.insufficient", name=res.reward, cost=res.cost, available=bal - held)
    if res.status == "duplicate":
        return None
    cfg = await ctx.app.settings("points", ctx.group)
    who = ctx.event.member_name or ctx.event.member_id
    bal = await led.balance(ctx.group.pk, ctx.event.member_id, accounts)
    request = Reply(
        ctx.event.platform, ctx.event.group_id,
        ctx.t("rewards.request", name=who, reward=res.reward, cost=res.cost, balance=bal, id=res.redemption_id),
        channel_id=cfg.admin_channel or ctx.event.channel_id,
        buttons=[[Button(ctx.t("rewards.approve"), f"redeem:approve:{res.redemption_id}"),
                  Button(ctx.t("rewards.deny"), f"redeem:deny:{res.redemption_id}")]],
    )
    return [ctx.reply(ctx.t("rewards.requested", reward=res.reward, cost=res.cost)), request]


async def _decide(ctx: Ctx) -> list[Reply]:
    if len(ctx.args) != 2 or ctx.args[0] not in ("approve", "deny") or not ctx.args[1].isdigit():
        raise UsageError()
    approve = ctx.args[0] == "approve"
    led = ledger_of(ctx.app)
    asker = await led.redemption_member(ctx.group.pk, int(ctx.args[1]))
    accounts = await accounts_of(ctx.app, ctx.group, asker) if asker else None
    res = await led.decide(ctx.group.pk, int(ctx.args[1]), approve, ctx.event.member_id or "?", ctx.event.time.timestamp(), accounts)
    if res.status == "not_found":
        raise UsageError(ctx.t("button.unknown"))
    if res.status == "already_decided":
        return [ctx.reply(ctx.t("rewards.already_decided"), private_to=ctx.event.member_id, ephemeral=True)]
    names = await ctx.store.member_names(ctx.group.platform)
    member = names.get(res.member_id) or res.member_id
    admin = ctx.event.member_name or ctx.event.member_id
    await ctx.store.audit(ctx.group.pk, ctx.event.member_id or "?", f"rewards.{res.status}",
                          {"redemption": res.redemption_id, "member": res.member_id, "reward": res.reward, "cost": res.cost})
    bal = await led.balance(ctx.group.pk, res.member_id, accounts)
    if res.status == "approved":
        note = ctx.t("rewards.approved_admin", name=member, reward=res.reward, admin=admin)
        dm = ctx.t("rewards.approved_member", reward=res.reward, cost=res.cost, balance=bal)
    else:
        note = ctx.t("rewards.denied_admin", name=member, reward=res.reward, admin=admin)
        dm = ctx.t("rewards.denied_member" if approve is False else "rewards.denied_short", reward=res.reward, balance=bal)
    out = [ctx.reply(dm, private_to=res.member_id)]
    if ctx.event.message_id:
        out.append(ctx.reply(note, edit_message_id=ctx.event.message_id))
    else:
        out.append(ctx.reply(note))
    return out


def install(app) -> None:
    """Register the rewards commands and the Approve/Deny buttons."""
    r = app.router
    r.command("rewards", usage="/rewards", help_key="cmd.help.rewards")(_rewards)
    r.command("reward", usage='/reward add NAME COST [STOCK] | /reward remove NAME ("quotes" for names with spaces)', help_key="cmd.help.reward", admin=True)(_reward)
    r.command("redeem", usage="/redeem NAME", help_key="cmd.help.redeem")(_redeem)
    r.button("redeem", admin=True)(_decide)
