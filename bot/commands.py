"""The platform-neutral command router that every adapter uses.

A feature registers commands with `@router.command(...)` and buttons with
`@router.button(prefix)`; the pipeline hands each COMMAND or BUTTON event to
`Router.dispatch`, which checks admin rights at the moment of use, parses nothing the
handler doesn't ask for, and turns what a handler returns into `Reply`s.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adapters.base import Action, Button, Reply
from bot import i18n
from storage.events import Event, EventKind, command_name
from storage.store import GroupInfo

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


class UsageError(Exception):
    """Raised by a handler when the member typed the command wrong; the message (or the
    command's usage line when empty) is sent back."""


@dataclass
class Ctx:
    """Everything a command or button handler needs about the event it answers."""

    app: App
    event: Event
    group: GroupInfo
    name: str
    args: list[str]
    arg_text: str
    lang: str
    is_admin: bool = False
    #: Button payload after the prefix ("ban:123" for "mod:ban:123").
    payload: str = ""
    actions: list[Action] = field(default_factory=list)

    def t(self, key: str, /, **kw: Any) -> str:
        """Translate `key` into the group's language."""
        return i18n.t(self.lang, key, **kw)

    def reply(self, text: str, **kw: Any) -> Reply:
        """A reply in the same group and channel, answering the event's message."""
        kw.setdefault("reply_to_id", self.event.message_id if self.event.kind is not EventKind.BUTTON else None)
        return Reply(
            platform=self.event.platform,
            group_id=self.event.group_id,
            channel_id=self.event.channel_id,
            text=text,
            **kw,
        )

    def private(self, text: str, **kw: Any) -> Reply:
        """A reply sent privately to the member who issued the command."""
        return Reply(
            platform=self.event.platform,
            group_id=self.event.group_id,
            channel_id=self.event.channel_id,
            text=text,
            private_to=self.event.member_id,
            **kw,
        )

    @property
    def store(self):
        """The app's event store."""
        return self.app.store


Handler = Callable[[Ctx], Awaitable[Any]]


@dataclass
class Command:
    """A registered chat command."""

    name: str
    handler: Handler
    usage: str
    help_key: str
    admin: bool = False
    hidden: bool = False


@dataclass
class ButtonRoute:
    """A registered button prefix ("mod" for payloads "mod:…")."""

    prefix: str
    handler: Handler
    admin: bool = False


class Router:
    """Maps command names and button prefixes to handlers."""

    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}
        self.aliases: dict[str, str] = {}
        self.buttons: dict[str, ButtonRoute] = {}
        self.command("help", usage="/help [COMMAND]", help_key="cmd.help.help")(_help)
        self.command("ping", usage="/ping", help_key="cmd.help.ping")(_ping)

    def command(
        self,
        name: str,
        *,
        usage: str,
        help_key: str,
        admin: bool = False,
        aliases: tuple[str, ...] = (),
        hidden: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Register a command handler; `usage` is shown on wrong input and in /help."""

        def deco(fn: Handler) -> Handler:
            self.commands[name] = Command(name, fn, usage, help_key, admin, hidden)
            for a in aliases:
                self.aliases[a] = name
            return fn

        return deco

    def button(self, prefix: str, *, admin: bool = False) -> Callable[[Handler], Handler]:
        """Register a handler for button payloads starting with "prefix:"."""

        def deco(fn: Handler) -> Handler:
            self.buttons[prefix] = ButtonRoute(prefix, fn, admin)
            return fn

        return deco

    def resolve(self, name: str) -> Command | None:
        """The command registered as `name` or one of its aliases."""
        return self.commands.get(self.aliases.get(name, name))

    async def dispatch(self, app: App, event: Event, group: GroupInfo, lang: str) -> tuple[list[Reply], list[Action]]:
        """Run the handler for a COMMAND or BUTTON event; return replies and actions."""
        if event.kind is EventKind.BUTTON:
            return await self._dispatch_button(app, event, group, lang)
        parsed = command_name(event.text)
        if parsed is None:
            return [], []
        name, rest = parsed
        cmd = self.resolve(name)
        ctx = Ctx(app, event, group, name, rest.split(), rest, lang)
        if cmd is None:
            return [ctx.reply(ctx.t("cmd.unknown", name=name))], []
        ctx.name = cmd.name
        if cmd.admin:
            ctx.is_admin = await app.is_admin(group, event.member_id)
            if not ctx.is_admin:
                return [ctx.reply(ctx.t("cmd.admin_only", name=cmd.name))], []
        else:
            ctx.is_admin = False
            ctx._admin_lazy = True  # type: ignore[attr-defined]
        try:
            out = await cmd.handler(ctx)
        except UsageError as exc:
            msg = str(exc) or ctx.t("cmd.usage", usage=cmd.usage)
            return [ctx.reply(msg)], []
        except Exception:
            log.exception("command /%s failed in %s:%s", cmd.name, event.platform, event.group_id)
            return [ctx.reply(ctx.t("cmd.error", name=cmd.name))], []
        return _as_replies(ctx, out), ctx.actions

    async def _dispatch_button(self, app: App, event: Event, group: GroupInfo, lang: str):
        payload = str(event.data.get("payload", ""))
        prefix, _, rest = payload.partition(":")
        ctx = Ctx(app, event, group, prefix, rest.split(":") if rest else [], rest, lang, payload=rest)
        route = self.buttons.get(prefix)
        if route is None:
            return [ctx.reply(ctx.t("button.unknown"), private_to=event.member_id, ephemeral=True)], []
        if route.admin:
            ctx.is_admin = await app.is_admin(group, event.member_id)
            if not ctx.is_admin:
                return [ctx.reply(ctx.t("button.admin_only"), private_to=event.member_id, ephemeral=True)], []
        try:
            out = await route.handler(ctx)
        except UsageError as exc:
            return [ctx.reply(str(exc) or ctx.t("button.unknown"), private_to=event.member_id, ephemeral=True)], []
        except Exception:
            log.exception("button %s failed in %s:%s", payload, event.platform, event.group_id)
            return [ctx.reply(ctx.t("cmd.error", name=prefix), private_to=event.member_id, ephemeral=True)], []
        return _as_replies(ctx, out), ctx.actions


def _as_replies(ctx: Ctx, out: Any) -> list[Reply]:
    if out is None:
        return []
    if isinstance(out, str):
        return [ctx.reply(out)]
    if isinstance(out, Reply):
        return [out]
    return [ctx.reply(o) if isinstance(o, str) else o for o in out]


async def _help(ctx: Ctx) -> str:
    router = ctx.app.router
    if ctx.args:
        name = ctx.args[0].lstrip("/").lower()
        cmd = router.resolve(name)
        if cmd is None:
            return ctx.t("help.unknown", name=name)
        admin = " " + ctx.t("help.admin") if cmd.admin else ""
        return f"{cmd.usage}{admin}\n{ctx.t(cmd.help_key)}"
    lines = [ctx.t("help.header")]
    for cmd in sorted(router.commands.values(), key=lambda c: c.name):
        if cmd.hidden:
            continue
        admin = " " + ctx.t("help.admin") if cmd.admin else ""
        lines.append(f"/{cmd.name}{admin} — {ctx.t(cmd.help_key)}")
    lines.append(ctx.t("help.footer"))
    return "\n".join(lines)


async def _ping(ctx: Ctx) -> str:
    return ctx.t("ping.pong")


__all__ = ["Button", "Ctx", "Router", "UsageError"]
