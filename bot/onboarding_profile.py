"""/profile that starts from a newcomer's introduction picks and then follows behaviour.

The picks count as `intro_prior_messages` tagged messages spread over the picked tags;
each tagged message the member writes adds its own weight (scoring's interest vector),
so at first the profile is exactly the picks and after a few dozen messages it is what
the member actually talks about. When scoring is installed its /profile (connections,
learned tags) is kept and only its interests line is replaced by the blend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bot.commands import Ctx, UsageError
from bot.onboarding_gate import service
from bot.onboarding_sources import member_vector

if TYPE_CHECKING:
    from bot.app import App


def blend(picks: list[str], tags: list[str], hits: np.ndarray | None, prior: float) -> list[tuple[str, float]]:
    """Shares of each tag: `prior` pseudo-messages over `picks` plus the behaviour `hits`
    (over `tags`), strongest first, zero shares left out."""
    names = list(tags)
    for p in picks:
        if p not in names:
            names.append(p)
    v = np.zeros(len(names))
    if hits is not None and len(hits):
        v[: len(hits)] += np.clip(np.asarray(hits, dtype=float), 0, None)
    if picks and prior > 0:
        for p in picks:
            v[names.index(p)] += prior / len(picks)
    total = v.sum()
    if total <= 0:
        return []
    order = np.argsort(-v, kind="stable")
    return [(names[j], float(v[j] / total)) for j in order if v[j] > 0]


async def _target(ctx: Ctx) -> str:
    ref = ctx.args[0] if ctx.args else None
    if ref is None:
        return ctx.event.member_id or ""
    mid = await ctx.store.find_member(ctx.group, ref)
    if mid is None:
        raise UsageError(ctx.t("onb.profile.unknown", ref=ref))
    return mid


def install_profile(app: App) -> None:
    """Register /profile, wrapping scoring's when it is installed."""
    original = app.router.commands.get("profile")

    async def cmd_profile(ctx: Ctx):
        """/profile [@member]"""
        svc = service(ctx.app)
        mid = await _target(ctx)
        rec = await svc.store.member(ctx.group.pk, mid)
        s = await svc.settings(ctx.group)
        learned = await member_vector(ctx.app, ctx.group, mid)
        tags, hits = learned if learned is not None else ([], None)
        shares = blend(rec["tags"], tags, hits, s.intro_prior_messages)
        line = ctx.t("onb.profile.picked", tags=", ".join(f"{t} {x:.0%}" for t, x in shares[:5]))
        if rec["tags"]:
            line += " " + ctx.t("onb.profile.source")
        if original is not None:
            out = await original.handler(ctx)
            if not rec["tags"]:
                return out
            if isinstance(out, str):
                lines = out.split("\n")
                if len(lines) >= 2:
                    lines[1] = line  # scoring puts its interests line right under the heading
                    return "\n".join(lines)
        name, _ = await svc.store.member_name(ctx.group.platform, mid)
        if not shares:
            return ctx.t("onb.profile.none", name=name or mid)
        return "\n".join([ctx.t("onb.profile.head", name=name or mid), line])

    usage = original.usage if original is not None else "/profile [@member]"
    help_key = original.help_key if original is not None else "onb.help.profile"
    app.router.command("profile", usage=usage, help_key=help_key)(cmd_profile)
