"""The demo hook on the real sample community: newcomers welcomed, the raid removed."""

from __future__ import annotations

import io

from rich.console import Console

from bot.app import App
from bot.config import load_config
from bot.importer import import_files
from bot.onboarding import demo
from bot.sample import write_sample_export


async def test_demo_welcomes_newcomers_and_the_raid_fails_the_gate(tmp_path):
    export = tmp_path / "result.json"
    write_sample_export(export, 101)
    app = await App.create(load_config(None, require_secrets=False), f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        await import_files(app.store, [export])
        (group,) = await app.store.groups()
        buf = io.StringIO()
        await demo(app, group, Console(file=buf, width=200))
        text = buf.getvalue()
        assert text.count("joins, picks") == 3 and "Welcome to Course 101" in text
        assert "Join gate switched on" in text and "20 of 20 raid accounts failed the gate" in text
        gates = await app.services["onboarding"].store.gates(group.pk)
        assert len(gates) == 20 and {g["status"] for g in gates} == {"timeout"}
        # The demo leaves the app as it found it.
        assert "telegram" not in app.adapters and type(app.clock).__name__ == "Clock"
    finally:
        await app.stop()
