"""Seeds for the dashboard tests of pages that show other features: an open moderation
flag, a community event with RSVPs, a reward with a pending redemption, in both
communities."""

from __future__ import annotations

SPAM = "Earn $500 a day from home, no experience needed! DM me now https://bit.ly/3xProfit"


async def seed_features(dash) -> None:
    """Flags, events, rewards and redemptions in g1 (admin) and g2 (admin2)."""
    if getattr(dash, "_seeded", False):
        return
    dash._seeded = True
    b = dash.bot
    for gid, admin, spammer, member in (("g1", "admin", "spammer", "alice"), ("g2", "admin2", "spammer2", "dora")):
        await b.say(spammer, SPAM, group_id=gid)
        await b.say(admin, '/event add "Office hours" 2026-12-10 18:00 90m Bring your questions', group_id=gid)
        await b.say(admin, "/reward add sticker 5", group_id=gid)
        await b.say(admin, f"/award @{member} 50 welcome", group_id=gid)
        await b.say(member, "/redeem sticker", group_id=gid)
    ids = await feature_ids(dash, dash.g1)
    await b.press("alice", f"rsvp:{ids['event_id']}:going")
    await b.press("chen", f"rsvp:{ids['event_id']}:maybe")


async def feature_ids(dash, pk: int) -> dict[str, str]:
    """Ids of the group's first flag, event, reward and redemption (seeding first)."""
    await seed_features(dash)
    from bot.web import feature_views as fv

    app = dash.bot.app
    group = next(g for g in await app.store.groups() if g.pk == pk)
    open_, decided = await fv.flags(app, group)
    evs = await fv.events(app, group)
    cat = await fv.catalog(app, group)
    reds = await fv.redemptions(app, group)
    out = {}
    if open_ or decided:
        out["flag_id"] = str((open_ or decided)[0]["id"])
    if evs:
        out["event_id"] = str(evs[0]["id"])
    if cat:
        out["reward_id"] = str(cat[0].id)
    if reds:
        out["redemption_id"] = str(reds[0]["id"])
    return out


async def open_flag(dash) -> tuple[int, str]:
    """(flag id, spammer id) of g1's open flag."""
    ids = await feature_ids(dash, dash.g1)
    return int(ids["flag_id"]), "spammer"
