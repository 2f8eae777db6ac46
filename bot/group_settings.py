"""Per-group settings, read and changed with the same keys and validation as
`config.toml`: what the dashboard's settings page uses (and what a `/config set`
command can call). A change is stored as a per-group override and written to the
audit log."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.config import SECTIONS, ConfigError, build_section, parse_value
from storage.store import GroupInfo

if TYPE_CHECKING:
    from bot.app import App


@dataclass(frozen=True)
class SettingRow:
    """One key as it applies to a group."""

    section: str
    key: str
    value: Any
    default: Any
    doc: str
    overridden: bool

    @property
    def dotted(self) -> str:
        """"section.key"."""
        return f"{self.section}.{self.key}"


def _editable(f: dataclasses.Field) -> bool:
    return not f.metadata.get("secret_env")


def sections() -> list[str]:
    """The sections a group's admins may change (the same as `/config set`)."""
    from bot.admin_config import chat_sections

    return sorted(chat_sections())


async def group_settings(app: App, group: GroupInfo) -> list[SettingRow]:
    """Every per-group key with its effective value for the group."""
    stored = await app.store.get_settings(group.pk)
    rows = []
    for section in sections():
        inst = await app.settings(section, group)
        base = app.config.section(section)
        for f in dataclasses.fields(inst):
            if not _editable(f):
                continue
            rows.append(
                SettingRow(
                    section, f.name, getattr(inst, f.name), getattr(base, f.name), f.metadata.get("doc", ""),
                    f"{section}.{f.name}" in stored,
                )
            )
    return rows


async def set_group_setting(app: App, group: GroupInfo, dotted: str, text: str, actor: str) -> Any:
    """Validate `text` for "section.key" like config.toml would, store it as the group's
    override and audit it; `/config set` and the dashboard both call this. Raises
    `ConfigError` (its message says "unknown key" for a key that does not exist)."""
    key = dotted.strip()
    section, _, field = key.partition(".")
    if section not in sections() or not field:
        raise ConfigError(f"unknown key {key!r} (settings look like section.key; sections: {', '.join(sections())})")
    cls = SECTIONS[section]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if field not in fields or not _editable(fields[field]):
        known = ", ".join(sorted(k for k, f in fields.items() if _editable(f)))
        raise ConfigError(f"[{section}]: unknown key {field!r} (known keys: {known})")
    stored = await app.store.get_settings(group.pk)
    value = parse_value(cls, field, text.strip())
    base = app.config.for_group(section, group.platform, group.group_id, stored)
    build_section(cls, {field: value}, f"[{section}]", base=base)
    old = stored.get(key)
    await app.store.set_setting(group.pk, key, value)
    if key == "bot.language":
        await app.store.update_group(group.pk, language=value)
    if key == "bot.timezone":
        await app.store.update_group(group.pk, timezone=value)
    await app.store.audit(group.pk, actor, "config.set", {"key": key, "old": old, "new": value})
    return value
