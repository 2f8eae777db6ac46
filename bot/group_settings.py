"""Per-group settings, read and changed with the same keys and validation as
`config.toml`: what the dashboard's settings page uses (and what a `/config set`
command can call). A change is stored as a per-group override and written to the
audit log."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.config import GROUP_SECTIONS, SECTIONS, ConfigError, build_section, parse_value
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


async def group_settings(app: App, group: GroupInfo) -> list[SettingRow]:
    """Every per-group key with its effective value for the group."""
    stored = await app.store.get_settings(group.pk)
    rows = []
    for section in sorted(GROUP_SECTIONS):
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
    override and audit it. Raises `ConfigError` naming the key on bad input."""
    section, _, key = dotted.strip().partition(".")
    if section not in GROUP_SECTIONS:
        known = ", ".join(sorted(GROUP_SECTIONS))
        raise ConfigError(f"unknown section {section!r} (per-group sections: {known})")
    cls = SECTIONS[section]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if key not in fields or not _editable(fields[key]):
        raise ConfigError(f"[{section}]: unknown key {key!r} (known keys: {', '.join(sorted(k for k, f in fields.items() if _editable(f)))})")
    try:
        value = parse_value(cls, key, text.strip())
    except ConfigError as exc:
        raise ConfigError(f"[{section}]: {exc}") from exc
    current = await app.settings(section, group)
    old = getattr(current, key)
    build_section(cls, {key: value}, f"[{section}]", base=current)
    await app.store.set_setting(group.pk, f"{section}.{key}", value)
    await app.store.audit(group.pk, actor, "config.set", {"key": f"{section}.{key}", "from": old, "to": value})
    return value
