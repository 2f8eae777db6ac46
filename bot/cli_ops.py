"""Operations subcommands: `check-config` (validate, show the effective configuration with
secrets masked, and with `--online` check the database and each platform's credentials)."""

from __future__ import annotations

import dataclasses
import importlib
import os

from rich.console import Console

from bot.config import load_config


def add_commands(sub, common) -> None:
    """Register `check-config`."""
    p = sub.add_parser("check-config", parents=[common], help="validate a config file and print the effective settings")
    p.add_argument("--online", action="store_true", help="also connect: database, Telegram getMe, Discord login")
    p.set_defaults(func=cmd_check_config)


def effective(config) -> dict:
    """Every section's effective values; secrets shown as their variable and whether set."""
    out: dict = {}
    for name, inst in config.sections.items():
        values = {}
        for f in dataclasses.fields(inst):
            v = getattr(inst, f.name)
            if f.metadata.get("secret_env"):
                v = f"${v} ({'set' if v and os.environ.get(v) else 'NOT SET'})" if v else "(none)"
            values[f.name] = v
        out[name] = values
    return out


async def cmd_check_config(args) -> int:
    from bot.cli import CliError
    from bot.cli_core import db_url
    from bot.runner import ADAPTER_FACTORIES

    for ref in ADAPTER_FACTORIES.values():
        importlib.import_module(ref.partition(":")[0])  # registers the platform sections
    config = load_config(args.config, require_secrets=True)
    out = Console(highlight=False, markup=False, soft_wrap=True)
    out.print(f"{args.config or '(no file: built-in defaults)'}: valid")
    for section, values in effective(config).items():
        out.print(f"[{section}]")
        for k, v in values.items():
            if section == "database" and k == "url":
                v = _mask_url(v)
            out.print(f"  {k} = {v!r}")
    for c in config.communities:
        chats = ", ".join(f"{p} {g}" for p, g in c.members)
        out.print(f"[[communities]] {c.id} {c.title!r}: {chats}")
        for p, target in c.moderators.items():
            out.print(f"  moderators on {p}: {target}")
        if c.overrides:
            out.print(f"  overrides: {c.overrides}")
    for g in config.groups:
        out.print(f"[[groups]] {g.platform} {g.id} {g.title!r} overrides: {g.overrides}")
    if not args.online:
        return 0
    failures = 0
    url = db_url(args, config)
    try:
        from storage.db import current_revision, head_revision, make_engine

        engine = make_engine(url)
        try:
            rev = await current_revision(engine)
        finally:
            await engine.dispose()
        out.print(f"database {_mask_url(url)}: reachable, schema {rev or '(empty)'} (code: {head_revision()})")
    except Exception as exc:
        failures += 1
        out.print(f"database {_mask_url(url)}: FAILED {exc}")
    for platform, ref in ADAPTER_FACTORIES.items():
        section = config.sections.get(platform)
        if section is None or not getattr(section, "enabled", False):
            continue
        module = importlib.import_module(ref.partition(":")[0])
        check = getattr(module, "check_online", None)
        if check is None:
            out.print(f"{platform}: no online check available")
            continue
        try:
            out.print(f"{platform}: {await check(config)}")
        except Exception as exc:
            failures += 1
            out.print(f"{platform}: FAILED {exc}")
    if failures:
        raise CliError(f"{failures} online check(s) failed")
    return 0


def _mask_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url
