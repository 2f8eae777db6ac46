"""`communitybot forget`: an admin forgets a member (same as their own /forgetme), in one
group or in every group of the platform; and `communitybot retention` runs the text
purge now."""

from __future__ import annotations

from bot.cli_core import open_app


def add_commands(sub, common) -> None:
    """Register `forget` and `retention`."""
    p = sub.add_parser("forget", parents=[common], help="erase a member's texts and names and anonymise their records")
    p.add_argument("--platform", required=True, help="telegram, discord, console …")
    p.add_argument("--member", required=True, help="the member's platform id")
    p.add_argument("--group", help="only this group (title, id or platform:id); default: every group of the platform")
    p.set_defaults(func=cmd_forget)
    r = sub.add_parser("retention", parents=[common], help="blank texts older than each group's [privacy] retention_days now")
    r.add_argument("--group", help="only this group")
    r.set_defaults(func=cmd_retention)


async def _groups(app, platform: str | None, ref: str | None):
    from bot.cli import CliError

    if ref:
        g = await app.store.find_group(ref)
        if g is None or (platform and g.platform != platform):
            names = ", ".join(f"{x.platform}:{x.group_id}" for x in await app.store.groups()) or "none"
            raise CliError(f"--group: no group {ref!r}{f' on {platform}' if platform else ''} (groups: {names})")
        return [g]
    groups = [g for g in await app.store.groups() if platform is None or g.platform == platform]
    if not groups:
        raise CliError(f"--platform: no group on platform {platform!r}")
    return groups


async def cmd_forget(args) -> int:
    """Forget the member in the chosen groups; print what changed and what was kept."""
    from bot.cli import CliError
    from bot.privacy import forget_member, kept_text

    if not args.member.strip():
        raise CliError("--member must not be empty")
    app = await open_app(args)
    try:
        for g in await _groups(app, args.platform, args.group):
            res = await forget_member(app, g, args.member)
            changed = ", ".join(f"{k}: {v}" for k, v in res.changed.items() if v) or "nothing stored"
            print(f"{g.title or g.group_id}: forgotten as {res.pseudonym} ({changed})")
            print("  " + kept_text("en", res))
    finally:
        await app.stop()
    return 0


async def cmd_retention(args) -> int:
    """Run the retention purge of every (or one) group now."""
    from bot.privacy import purge_old_texts

    app = await open_app(args)
    try:
        for g in await _groups(app, None, args.group):
            n = await purge_old_texts(app, g)
            print(f"{g.title or g.group_id}: {n} texts blanked")
    finally:
        await app.stop()
    return 0
