"""`/config show` and `/config set KEY VALUE` for admins, per group, validated like
config.toml and written to the audit log; `communitybot audit --group G` lists it."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

from bot import i18n
from bot.commands import Ctx, UsageError
from bot.config import GROUP_SECTIONS, SECTIONS, ConfigError

i18n.add(
    {
        "en": {
            "cmd.help.config": "show or change this group's settings",
            "config.header": "Settings of this group (changed here: *):",
            "config.set": "{key} is now {value}.",
            "config.unknown_key": "Unknown setting {key!r}. Settings look like section.key, e.g. bot.language; /config show lists them.",
            "config.bad_value": "Can't set {key}: {error}",
            "config.usage": "Usage: /config show [SECTION] | /config set SECTION.KEY VALUE",
        },
        "zh-CN": {
            "cmd.help.config": "查看或修改本群设置",
            "config.header": "本群设置（* 为在群内修改过的）：",
            "config.set": "{key} 已设为 {value}。",
            "config.unknown_key": "没有设置项 {key!r}。设置项形如 section.key，例如 bot.language；/config show 可列出全部。",
            "config.bad_value": "无法设置 {key}：{error}",
            "config.usage": "用法：/config show [分区] | /config set 分区.键 值",
        },
    }
)

#: Keys that must not be changed from chat (secrets, connection details).
_NOT_FROM_CHAT = {"database", "health", "telegram", "discord", "web"}


def chat_sections() -> list[str]:
    """Sections a group admin may change from chat."""
    return [s for s in SECTIONS if s in GROUP_SECTIONS and s not in _NOT_FROM_CHAT]


async def config_cmd(ctx: Ctx):
    """/config show [SECTION] | /config set SECTION.KEY VALUE"""
    if not ctx.args:
        raise UsageError(ctx.t("config.usage"))
    sub = ctx.args[0].lower()
    stored = await ctx.store.get_settings(ctx.group.pk)
    if sub == "show":
        wanted = ctx.args[1].lower() if len(ctx.args) > 1 else None
        lines = [ctx.t("config.header")]
        for name in chat_sections():
            if wanted and name != wanted:
                continue
            inst = ctx.app.config.for_group(name, ctx.group.platform, ctx.group.group_id, stored)
            for f in dataclasses.fields(inst):
                if f.metadata.get("secret_env"):
                    continue
                key = f"{name}.{f.name}"
                mark = "*" if key in stored else " "
                lines.append(f"{mark} {key} = {json.dumps(getattr(inst, f.name), ensure_ascii=False)}")
        return "\n".join(lines)
    if sub == "set":
        if len(ctx.args) < 3:
            raise UsageError(ctx.t("config.usage"))
        key = ctx.args[1]
        value_text = ctx.arg_text.split(None, 2)[2]
        section, _, field = key.partition(".")
        if section not in chat_sections() or not field:
            return ctx.t("config.unknown_key", key=key)
        from bot.group_settings import set_group_setting

        try:
            value = await set_group_setting(ctx.app, ctx.group, key, value_text, ctx.event.member_id or "?")
        except ConfigError as exc:
            msg = str(exc)
            if "unknown key" in msg:
                return ctx.t("config.unknown_key", key=key)
            return ctx.t("config.bad_value", key=key, error=msg.split(": ", 1)[-1])
        lang = i18n.normalise_language(value) if key == "bot.language" else ctx.lang
        return i18n.t(lang, "config.set", key=key, value=json.dumps(value, ensure_ascii=False))
    raise UsageError(ctx.t("config.usage"))


def install(app) -> None:
    """Register /config."""
    app.router.command("config", usage="/config show [SECTION] | /config set SECTION.KEY VALUE",
                       help_key="cmd.help.config", admin=True)(config_cmd)


def add_commands(sub, common) -> None:
    """`communitybot audit --group G`."""
    p = sub.add_parser("audit", parents=[common], help="list a group's audit log")
    p.add_argument("--group", required=True, help="group title, id or platform:id")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit)


async def cmd_audit(args) -> int:
    from bot.cli import CliError
    from bot.cli_core import open_app

    app = await open_app(args)
    try:
        g = await app.store.find_group(args.group)
        if g is None:
            names = ", ".join(repr(x.title or x.group_id) for x in await app.store.groups()) or "none"
            raise CliError(f"--group: no group {args.group!r} (groups: {names})")
        rows = await app.store.audit_log(g.pk, args.limit)
    finally:
        await app.stop()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print(f"{g.title or g.group_id}: the audit log is empty")
    for r in rows:
        ts = datetime.fromtimestamp(r["ts"], UTC).strftime("%Y-%m-%d %H:%M:%S")
        print(f"{ts}  {r['actor']:<16} {r['action']:<20} {r['detail']}")
    return 0
