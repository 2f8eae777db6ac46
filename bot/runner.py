"""Which adapters `communitybot run` starts: one factory per platform section.

A factory is "module:function"; the function takes the app and returns an adapter, or
None when its section is not enabled. Factories are imported only when used, so a
machine without a platform's library configured off never imports it.
"""

from __future__ import annotations

import importlib
import logging

from bot.app import App

log = logging.getLogger(__name__)

#: platform → "module:function(app) -> Adapter | None"
ADAPTER_FACTORIES: dict[str, str] = {
    "telegram": "bot.telegram:build_telegram_adapter",
    "discord": "bot.discord_setup:build_discord_adapter",
}


async def build_adapters(app: App) -> list:
    """Build every enabled adapter from the config."""
    adapters = []
    for platform, ref in ADAPTER_FACTORIES.items():
        section = app.config.sections.get(platform)
        if section is None or not getattr(section, "enabled", False):
            continue
        module, _, fn = ref.partition(":")
        factory = getattr(importlib.import_module(module), fn)
        adapter = factory(app)
        if hasattr(adapter, "__await__"):
            adapter = await adapter
        if adapter is not None:
            adapters.append(adapter)
            log.info("adapter %s configured", platform)
    return adapters
