"""Core subcommands: demo, import, console, run, db upgrade."""

from __future__ import annotations


def add_commands(sub, common) -> None:
    """Register the core subcommands."""
