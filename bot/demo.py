"""`communitybot demo`: a sample community built, imported through the real importer
into an embedded SQLite database, and shown; then each feature shows its part."""

from __future__ import annotations

import importlib
import inspect
import time
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from bot.app import FEATURES, App
from bot.config import load_config
from bot.importer import import_files
from bot.overview import overview, render
from bot.sample import write_sample_export


async def run_demo(out_dir: Path, db_url: str, seed: int, out: Console, config_path: str | None = None) -> int:
    """Generate, import and present the sample community; returns the exit status."""
    out.print(Rule("communitybot demo"))
    export = out_dir / "result.json"
    t0 = time.perf_counter()
    counts = write_sample_export(export, seed)
    out.print(
        f"Wrote a sample Telegram Desktop export: {export} ({export.stat().st_size // 1024} KB; "
        f"{counts['messages']} messages, {counts['joins']} joins, {counts['leaves']} leaves, "
        f"a spam burst of {counts['spam']} and a raid of {counts['raid']} accounts)"
    )
    config = load_config(config_path, require_secrets=False)
    app = await App.create(config, db_url)
    try:
        summary = await import_files(app.store, [export])
        data = summary.as_json()
        out.print(
            f"Imported through the Telegram importer into {db_url}: {data['events_new']} new events, "
            f"{data['events_duplicate']} already there, {data['members']} members "
            f"({time.perf_counter() - t0:.1f} s)"
        )
        again = await import_files(app.store, [export])
        out.print(f"Imported the same file again: {again.events_new} new, {again.events_duplicate} already stored (idempotent).")
        out.print(Rule("What the bot knows"))
        groups = await app.store.groups()
        for g in groups:
            render(await overview(app.store, g), out)
        group = groups[0]
        for name in FEATURES:
            mod = importlib.import_module(name)
            hook = getattr(mod, "demo", None)
            if hook is None:
                continue
            out.print(Rule(name.rsplit(".", 1)[-1]))
            res = hook(app, group, out, out_dir) if len(inspect.signature(hook).parameters) >= 4 else hook(app, group, out)
            if inspect.isawaitable(res):
                await res
    finally:
        await app.stop()
    out.print(Rule())
    out.print(f"Demo files are in {out_dir}/. Try the bot yourself: communitybot console --group \"Course 101\"")
    return 0
