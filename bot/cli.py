"""`communitybot` command line: the entry point that finds each subcommand's module.

Subcommands live in their own modules (listed in `SUBCOMMAND_MODULES`); each module has
`add_commands(subparsers)` and sets `func=async_or_sync_callable(args) -> exit code` on
its parsers. Every subcommand takes `--db URL` and `--config FILE`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import sys

from adapters.base import AdapterStartError
from bot.config import ConfigError
from bot.logs import redact, setup_logging
from storage.db import DatabaseError

#: Modules that contribute subcommands, in help order.
SUBCOMMAND_MODULES: list[str] = [
    "bot.cli_core",
    "bot.cli_ops",
    "bot.admin_config",
    "bot.cli_scoring",
    "bot.mod_cli_args",
    "bot.cli_points",
    "bot.config_doc",
    "bot.web.cli",
    "bot.cli_privacy",
]


class CliError(Exception):
    """A problem to report to the person at the terminal (exit status 2)."""


def common_options() -> argparse.ArgumentParser:
    """The options every subcommand takes (`--db`, `--config`, `--log-level`)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--db", metavar="URL", help="database URL (default: the config's, else sqlite:///communitybot.db)")
    p.add_argument("--config", metavar="FILE", help="config.toml to read (default: none, built-in defaults)")
    p.add_argument("--log-level", default="WARNING", help="logging level (DEBUG, INFO, WARNING)")
    p.add_argument("--log-format", default="text", choices=["text", "json"], help="log lines as text or JSON")
    return p


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="communitybot",
        description="Self-hosted bot for paid knowledge communities on Telegram and Discord.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = common_options()
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).add_commands(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    setup_logging(args.log_level, args.log_format)
    try:
        result = args.func(args)
        if inspect.isawaitable(result):
            result = asyncio.run(result)
        return int(result or 0)
    except (CliError, ConfigError, DatabaseError, AdapterStartError) as exc:
        print(redact(f"communitybot: error: {exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
