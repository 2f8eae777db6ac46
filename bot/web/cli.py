"""`communitybot web` (the dashboard alone, on the bot's database) and
`communitybot web-link` (print a one-time sign-in link from the terminal)."""

from __future__ import annotations

import asyncio
import signal

from bot.cli_core import STDERR, open_app


def add_commands(sub, common) -> None:
    """Register `web` and `web-link`."""
    p = sub.add_parser("web", parents=[common], help="serve the admin dashboard alone (no chat connection)")
    p.add_argument("--listen", default=None, help="address (default: [web] listen)")
    p.add_argument("--port", type=int, default=None, help="port (default: [web] port)")
    p.set_defaults(func=cmd_web)
    p = sub.add_parser("web-link", parents=[common], help="print a one-time dashboard sign-in link for a member")
    p.add_argument("--platform", required=True, help="telegram, discord or console")
    p.add_argument("--member", required=True, help="the member's platform id")
    p.add_argument("--group", action="append", default=[], help="a community (title, id or platform:id) to grant; repeatable (default: where the member's recorded role is owner, admin or moderator)")
    p.set_defaults(func=cmd_web_link)


async def cmd_web(args) -> int:
    """Serve until Ctrl-C / SIGTERM."""
    from bot.web.server import WebServer

    app = await open_app(args)
    s = app.config.section("web")
    server = WebServer(app, args.listen or s.listen, s.port if args.port is None else args.port)
    try:
        await server.start()
    except OSError:
        await app.stop()
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    STDERR.print(f"dashboard on http://{server.listen}:{server.port} (Ctrl-C to stop)")
    try:
        await stop.wait()
    finally:
        await server.stop()
        await app.stop()
    return 0


async def cmd_web_link(args) -> int:
    """Print a link for an operator at the terminal (who can read the database anyway).

    With `--group`, the link grants those communities; otherwise those where the store
    records the member as owner, admin or moderator. When the dashboard runs with the
    platform connected, the platform is asked again at sign-in.
    """
    from bot.cli import CliError
    from bot.dashboard import auth

    app = await open_app(args)
    try:
        a = auth(app)
        if args.group:
            groups = []
            for ref in args.group:
                g = await app.store.find_group(ref)
                if g is None or g.platform != args.platform:
                    raise CliError(f"--group {ref!r}: no such {args.platform} community in the database")
                groups.append(g)
        else:
            groups = await a.admin_groups(args.platform, args.member)
        if not groups:
            raise CliError(f"{args.platform} member {args.member!r} is admin of no community here; name one with --group")
        print(await a.issue_link(args.platform, args.member, "", groups))
    finally:
        await app.stop()
    return 0
