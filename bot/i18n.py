"""Reply catalogs: every text the bot shows, in English and Simplified Chinese.

Each feature module registers its own catalog with `add()` at import time, so a new
command is written once with both languages beside it. `t(lang, key, **kw)` picks the
group's language, falls back to English, and never crashes on a missing placeholder.
"""

from __future__ import annotations

import string

LANGUAGES = ("en", "zh-CN")
DEFAULT_LANGUAGE = "en"

_CATALOG: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}


def add(catalog: dict[str, dict[str, str]]) -> None:
    """Register texts: {"en": {key: text}, "zh-CN": {key: text}}."""
    for lang, texts in catalog.items():
        if lang not in _CATALOG:
            raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
        _CATALOG[lang].update(texts)


def normalise_language(lang: str | None) -> str:
    """Map "zh", "zh-cn", "zh_CN" to "zh-CN"; anything unknown to English."""
    if not lang:
        return DEFAULT_LANGUAGE
    low = lang.replace("_", "-").lower()
    if low.startswith("zh"):
        return "zh-CN"
    if low.startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(lang: str | None, key: str, /, **kw: object) -> str:
    """The text for `key` in `lang` (English if missing), with `{placeholders}` filled."""
    lang = normalise_language(lang)
    text = _CATALOG[lang].get(key) or _CATALOG[DEFAULT_LANGUAGE].get(key)
    if text is None:
        return key
    return string.Formatter().vformat(text, (), _Safe(kw))


def keys(lang: str) -> set[str]:
    """Every key registered for a language (tests check both languages match)."""
    return set(_CATALOG[normalise_language(lang)])


add(
    {
        "en": {
            "help.header": "Commands:",
            "help.admin": "(admins)",
            "help.footer": "Type /help COMMAND for details.",
            "help.unknown": "No command /{name}. Type /help for the list.",
            "help.usage": "Usage: {usage}",
            "cmd.unknown": "Unknown command /{name}. Type /help for the list.",
            "cmd.admin_only": "Only admins can use /{name}.",
            "cmd.error": "Sorry, /{name} failed. The error was logged.",
            "cmd.usage": "Usage: {usage}",
            "button.admin_only": "Only moderators can press this button.",
            "button.unknown": "This button no longer works.",
            "cmd.help.help": "list commands, or explain one",
            "cmd.help.ping": "check the bot is alive",
            "ping.pong": "pong",
        },
        "zh-CN": {
            "help.header": "可用命令：",
            "help.admin": "（管理员）",
            "help.footer": "输入 /help 命令名 查看详细说明。",
            "help.unknown": "没有 /{name} 这个命令。输入 /help 查看命令列表。",
            "help.usage": "用法：{usage}",
            "cmd.unknown": "未知命令 /{name}。输入 /help 查看命令列表。",
            "cmd.admin_only": "只有管理员可以使用 /{name}。",
            "cmd.error": "抱歉，/{name} 执行失败，错误已记录。",
            "cmd.usage": "用法：{usage}",
            "button.admin_only": "只有管理员可以点击这个按钮。",
            "button.unknown": "这个按钮已失效。",
            "cmd.help.help": "列出命令，或说明某个命令",
            "cmd.help.ping": "检查机器人是否在线",
            "ping.pong": "在线",
        },
    }
)
