"""Telegram in the bot: the `[telegram]` config section and `build_telegram_adapter`,
which builds the adapter from config and wires its hooks to the store (the adapter
itself may not import the store).

`communitybot run` calls it once after creating the app:

    adapter = build_telegram_adapter(app)    # None unless [telegram] enabled = true
    if adapter is not None:
        app.add_adapter(adapter)
    await app.run_forever(stop)

(`bot.runner.ADAPTER_FACTORIES["telegram"] = "bot.telegram:build_telegram_adapter"`.)

Import this module before loading the config, so `[telegram]` is a known section.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapters.telegram import TelegramAdapter, TelegramHooks, TelegramOptions
from bot.config import Config, ConfigError, register_section, setting
from storage.group_moves import move_group

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass
class TelegramSettings:
    """Connection to Telegram (one bot token serves every Telegram group the bot is in)."""

    enabled: bool = setting(False, "Serve Telegram groups (needs the token in the environment).")
    token_env: str = setting(
        "TELEGRAM_BOT_TOKEN", "Environment variable holding the bot token from @BotFather.", secret_env=True
    )
    api_base_url: str = setting(
        "https://api.telegram.org/bot", "Bot API base URL (a self-hosted Bot API server, or a test fake)."
    )
    poll_timeout: int = setting(30, "Long-polling timeout in seconds (polling mode).")
    webhook_url: str = setting("", "Public HTTPS URL Telegram posts updates to; empty = long polling.")
    webhook_listen: str = setting("127.0.0.1", "Address the webhook server listens on (behind your TLS proxy).")
    webhook_port: int = setting(8443, "Port the webhook server listens on (0: any free port).")
    webhook_secret_env: str = setting(
        "", "Environment variable holding the webhook secret token (required with webhook_url).", secret_env=True
    )
    admin_cache_ttl: float = setting(300.0, "Seconds a group's admin list is cached (refreshed on admin changes).")

    def check(self) -> str | None:
        """Cross-field checks; the loader reports the message with the file and section."""
        if not self.api_base_url.startswith(("http://", "https://")):
            return f"api_base_url must start with http:// or https://, got {self.api_base_url!r}"
        if self.enabled and not self.token_env:
            return "token_env must name the environment variable holding the bot token"
        if not 0 <= self.poll_timeout <= 50:
            return f"poll_timeout must be between 0 and 50 seconds, got {self.poll_timeout}"
        if self.webhook_url:
            if not self.webhook_url.startswith("https://"):
                return f"webhook_url must be an https:// URL (Telegram requires TLS), got {self.webhook_url!r}"
            if not self.webhook_secret_env:
                return "webhook_url is set, so webhook_secret_env must name the variable holding the secret token"
        if not 0 <= self.webhook_port < 65536:
            return f"webhook_port must be 0-65535, got {self.webhook_port}"
        if self.admin_cache_ttl < 0:
            return f"admin_cache_ttl must be >= 0, got {self.admin_cache_ttl}"
        return None


register_section("telegram", TelegramSettings, per_group=False)


def telegram_options(config: Config) -> TelegramOptions:
    """Adapter options from the `[telegram]` section and the secrets it names."""
    s: TelegramSettings = config.section("telegram")
    token = config.secret("telegram", "token_env")
    if not token:
        raise ConfigError(f"[telegram] token_env: environment variable {s.token_env} is not set (the bot token)")
    secret = ""
    if s.webhook_url:
        secret = config.secret("telegram", "webhook_secret_env") or ""
        if not _SECRET_TOKEN_RE.fullmatch(secret):
            raise ConfigError(
                f"[telegram] webhook_secret_env: {s.webhook_secret_env} must hold 1-256 characters "
                "of A-Z, a-z, 0-9, _ and - (Telegram's rule for secret tokens)"
            )
    return TelegramOptions(
        token=token,
        api_base_url=s.api_base_url,
        poll_timeout=float(s.poll_timeout),
        webhook_url=s.webhook_url,
        webhook_listen=s.webhook_listen,
        webhook_port=s.webhook_port,
        webhook_secret=secret,
        admin_cache_ttl=s.admin_cache_ttl,
    )


def store_hooks(app: App) -> TelegramHooks:
    """Hooks that record what the adapter learns about groups in the app's store."""
    store = app.store

    async def on_group_gone(group_id: str) -> None:
        g = await store.group("telegram", group_id)
        if g is not None and g.active:
            await store.update_group(g.pk, active=False)
            await store.audit(g.pk, "telegram", "group_inactive", "the bot was removed or may not write here")
            log.warning("telegram group %s (%s) marked inactive", group_id, g.title)

    async def on_group_back(group_id: str) -> None:
        g = await store.group("telegram", group_id)
        if g is not None and not g.active:
            await store.update_group(g.pk, active=True)
            await store.audit(g.pk, "telegram", "group_active", "the bot was added again")

    async def on_migrate(old: str, new: str) -> None:
        g = await move_group(store, "telegram", old, new)
        if g is not None:
            await store.audit(g.pk, "telegram", "group_migrated", {"from": old, "to": new})

    async def lookup_author(group_id: str, message_id: str) -> str | None:
        g = await store.group("telegram", group_id)
        if g is None:
            return None
        ev = await store.message(g.pk, message_id)
        return ev.member_id if ev is not None else None

    return TelegramHooks(on_group_gone, on_group_back, on_migrate, lookup_author)


def build_telegram_adapter(app: App, config: Config | None = None) -> TelegramAdapter | None:
    """Build the Telegram adapter from `[telegram]`, its hooks wired to `app`'s store.

    Returns None when `[telegram] enabled` is false; the caller adds the adapter. Raises
    `ConfigError` naming the key when the token or webhook secret is missing.
    Connecting happens later, in `app.start()`.
    """
    config = config or app.config
    if not config.section("telegram").enabled:
        return None
    return TelegramAdapter(telegram_options(config), store_hooks(app))


async def check_online(config: Config) -> str:
    """`check-config --online`: call getMe with the configured token and Bot API URL."""
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError

    opts = telegram_options(config)
    bot = Bot(opts.token, base_url=opts.api_base_url)
    try:
        async with bot:
            me = await bot.get_me()
    except InvalidToken as exc:
        raise RuntimeError(f"the Bot API rejected the token in ${config.section('telegram').token_env}") from exc
    except TelegramError as exc:
        raise RuntimeError(f"Bot API at {opts.api_base_url} failed: {exc}") from exc
    return f"token valid: @{me.username} (id {me.id}) via {opts.api_base_url}"
