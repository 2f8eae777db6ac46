"""Core subcommands: demo, import, console, run, db, stats."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich.console import Console

from bot.app import App
from bot.config import Config, load_config

STDERR = Console(stderr=True)


def db_url(args, config: Config | None = None) -> str:
    """`--db`, else the config's database URL, else sqlite:///communitybot.db."""
    if getattr(args, "db", None):
        return args.db
    config = config or load_config(getattr(args, "config", None), require_secrets=False)
    return config.database.url


async def open_app(args, clock=None, require_secrets: bool = False) -> App:
    """Load `--config`, open `--db` (migrating it) and build the app."""
    config = load_config(getattr(args, "config", None), require_secrets=require_secrets)
    return await App.create(config, db_url(args, config), clock)


def add_commands(sub, common) -> None:
    """Register the core subcommands."""
    p = sub.add_parser("demo", parents=[common], help="build a sample community and show what the bot knows")
    p.add_argument("--out", default="communitybot-demo", help="folder for the export, database and reports")
    p.add_argument("--seed", type=int, default=101, help="random seed of the sample community")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", parents=[common], help="import Telegram Desktop / DiscordChatExporter JSON exports")
    p.add_argument("files", nargs="+", type=Path, help="result.json or DiscordChatExporter .json files")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--export-tz", default=None, help="time zone of old Telegram exports without date_unixtime (default: this machine's)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("console", parents=[common], help="chat with the bot in the terminal")
    p.add_argument("--group", default="Console", help="group title (created on first use)")
    p.add_argument("--as", dest="member", default="owner", help="who you are at start (switch with /as NAME)")
    p.set_defaults(func=cmd_console)

    p = sub.add_parser("run", parents=[common], help="start the configured adapters and the scheduler")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("db", parents=[common], help="database maintenance")
    dsub = p.add_subparsers(dest="db_command", metavar="ACTION")
    up = dsub.add_parser("upgrade", parents=[common], help="apply the Alembic migrations")
    up.set_defaults(func=cmd_db_upgrade)
    cur = dsub.add_parser("current", parents=[common], help="print the database's schema revision")
    cur.set_defaults(func=cmd_db_current)

    p = sub.add_parser("stats", parents=[common], help="print what the bot knows about the groups")
    p.add_argument("--group", help="one group (title, id or platform:id); default all")
    p.set_defaults(func=cmd_stats)


# -- import ----------------------------------------------------------------------
async def cmd_import(args) -> int:
    from bot.cli import CliError
    from bot.importer import ExportError, ImportSummary, import_files

    tz = None
    if args.export_tz:
        try:
            tz = ZoneInfo(args.export_tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CliError(f"--export-tz: unknown time zone {args.export_tz!r}") from exc
    # The store alone: importing needs none of the features, and loading them (the spam
    # model, the score cache) would cost memory and seconds for nothing.
    from storage.store import EventStore

    store = await EventStore.open(db_url(args))
    summary: ImportSummary | None = None
    try:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        progress = Progress(
            "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
            TimeRemainingColumn(), console=STDERR, transient=True, disable=not STDERR.is_terminal,
        )

        def on_file(path: Path, size: int):
            task = progress.add_task(path.name, total=size)
            return lambda n: progress.advance(task, n)

        with progress:
            summary = await import_files(store, list(args.files), on_file, tz)
    except ExportError as exc:
        raise CliError(f"import stopped: {exc}. Events before this point are stored; fix the file and run the import again (nothing is counted twice).") from exc
    finally:
        await store.close()
    data = summary.as_json()
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    out = Console()
    for f in data["files"]:
        out.print(f"{f['file']}: {f['format']} export of [bold]{f['title']}[/bold] ({f['group_id']}): "
                  f"{f['messages']} messages, {f['events_new']} new events, {f['events_duplicate']} already stored")
    out.print(f"Total: {data['events_new']} new events, {data['events_duplicate']} already there; "
              f"{data['members']} members ({data['members_new']} new) in {len(data['groups'])} group(s).")
    if data["skipped"]:
        kinds = ", ".join(f"{k} ×{n}" for k, n in sorted(data["skipped"].items()))
        out.print(f"Not imported (kinds this version does not know yet): {kinds}")
    return 0


# -- console ---------------------------------------------------------------------
async def cmd_console(args) -> int:
    from adapters.console import ConsoleAdapter, slug

    app = await open_app(args)
    store = app.store
    group = await store.find_group(f"console:{slug(args.group)}")
    new_group = group is None or not await store.group_members(group.pk)
    group = await store.ensure_group("console", slug(args.group), args.group)

    async def admin_check(group_id: str, member_id: str) -> bool:
        return (await store.role(group.pk, member_id)) in ("owner", "admin", "moderator")

    adapter = ConsoleAdapter(args.group, args.member, admin_check)
    if new_group:
        # Like a chat's creator: the first member of a new console group owns it.
        await store.set_role(group.pk, args.member, "owner")
    app.add_adapter(adapter)
    owner = ", the new group's owner and admin" if new_group else ""
    print(f"communitybot console — group {args.group!r}, you are {args.member}"
          f"{owner}. /help lists commands; /as NAME switches member, "
          "/press N presses a button, /quit leaves.", flush=True)
    await app.start()
    try:
        await adapter.done.wait()
    finally:
        await app.stop()
    return 0


# -- run -------------------------------------------------------------------------
async def cmd_run(args) -> int:
    from bot.cli import CliError
    from bot.gctune import tune_for_service
    from bot.runner import build_adapters

    app = await open_app(args, require_secrets=True)
    try:
        adapters = await build_adapters(app)
    except Exception:
        await app.stop()
        raise
    if not adapters:
        await app.stop()
        raise CliError(
            "no adapters configured: set enabled = true under [telegram] or [discord] in the config "
            "(see config.example.toml). To try the bot without a token, run `communitybot console` "
            "or `communitybot demo`."
        )
    workers = app.config.section("bot").workers
    if workers > 1:
        return await _run_sharded(app, adapters, workers, args)
    for a in adapters:
        app.add_adapter(a)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    STDERR.print(f"communitybot running: {', '.join(a.platform for a in adapters)} (Ctrl-C to stop)")
    await app.start()
    tune_for_service()
    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(app.stop_requested.wait())]
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for w in waiters:
        w.cancel()
    if app.fatal:
        STDERR.print(f"communitybot: {app.fatal}; stopping cleanly. Nothing unstored was acknowledged.")
    STDERR.print("communitybot: stopping (finishing events in flight)…")
    timeout = app.config.section("bot").shutdown_timeout
    try:
        await asyncio.wait_for(app.stop(), timeout)
    except TimeoutError:
        STDERR.print(f"communitybot: shutdown took longer than {timeout:.0f} s; exiting anyway")
        return 1
    return 3 if app.fatal else 0


async def _run_sharded(app: App, adapters: list, workers: int, args) -> int:
    """`run` with `[bot] workers` > 1: this process keeps the adapters and routes each
    group's events to one of `workers` processes (`bot.shards`). `app` here only serves
    the adapters' hooks (group moves, slash command names); the workers do the rest."""
    from bot.shards import Shards

    shards = Shards(app.config, app.store.url, workers, log_level=getattr(args, "log_level", None),
                    log_format=getattr(args, "log_format", "text") or "text")
    for a in adapters:
        shards.add_adapter(a)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    timeout = app.config.section("bot").shutdown_timeout
    try:
        await shards.start()
    except Exception as exc:
        await app.store.close()
        STDERR.print(f"communitybot: the worker processes did not start: {shards.error or exc!r}")
        return 1
    # The parent routes every event and every acknowledgement: an untuned full collection
    # here (50–150 ms over the imported modules) stalls all workers' messages at once.
    from bot.gctune import tune_for_service

    tune_for_service()
    STDERR.print(f"communitybot running: {', '.join(a.platform for a in adapters)} in {workers} worker processes (Ctrl-C to stop)")
    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(shards.failed.wait())]
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for w in waiters:
        w.cancel()
    if shards.error:
        STDERR.print(f"communitybot: {shards.error}; stopping the others cleanly.")
    STDERR.print("communitybot: stopping (finishing events in flight)…")
    try:
        await shards.stop(timeout)
    finally:
        await app.store.close()
    return 1 if shards.error else 0


# -- db --------------------------------------------------------------------------
async def cmd_db_upgrade(args) -> int:
    from storage.db import current_revision, make_engine, upgrade

    engine = make_engine(db_url(args))
    try:
        await upgrade(engine)
        print(f"database at revision {await current_revision(engine)}")
    finally:
        await engine.dispose()
    return 0


async def cmd_db_current(args) -> int:
    from storage.db import current_revision, head_revision, make_engine

    engine = make_engine(db_url(args))
    try:
        cur = await current_revision(engine)
    finally:
        await engine.dispose()
    head = head_revision()
    print(f"database revision: {cur or '(empty)'}; code expects: {head}")
    return 0 if cur == head else 1


# -- stats -----------------------------------------------------------------------
async def cmd_stats(args) -> int:
    from bot.cli import CliError
    from bot.overview import overview, render

    app = await open_app(args)
    try:
        groups = await app.store.groups()
        if args.group:
            g = await app.store.find_group(args.group)
            if g is None:
                names = ", ".join(repr(x.title or x.group_id) for x in groups) or "none"
                raise CliError(f"no group {args.group!r} (groups: {names})")
            groups = [g]
        out = Console()
        for g in groups:
            render(await overview(app.store, g), out)
    finally:
        await app.stop()
    return 0


# -- demo ------------------------------------------------------------------------
async def cmd_demo(args) -> int:
    from bot.demo import run_demo

    out_dir = Path(args.out)
    if out_dir.exists() and not (out_dir / ".communitybot-demo").exists() and any(out_dir.iterdir()):
        from bot.cli import CliError

        raise CliError(f"{out_dir} exists and is not a demo folder; choose another with --out")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    (out_dir / ".communitybot-demo").write_text("created by communitybot demo; safe to delete\n")
    url = args.db or f"sqlite:///{out_dir / 'demo.db'}"
    return await run_demo(out_dir, url, args.seed, Console(), getattr(args, "config", None))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1)
