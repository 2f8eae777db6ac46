"""`config.toml` → validated settings.

Every feature declares its settings beside itself as a dataclass whose fields have
defaults and a `doc`, and registers it as a section (`register_section`). The loader
checks the file against those dataclasses: an unknown key, a wrong type or a missing
secret is a `ConfigError` naming the key and the file, before anything connects.
Per-community and per-group overrides (`[[communities]]` and `[[groups]]` tables in
the file, `/config set` in chat; see `bot.config_groups`) reuse the same dataclasses and
the same checks.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config_groups import CommunityConfig, GroupConfig

DEFAULT_DB_URL = "sqlite:///communitybot.db"


class ConfigError(Exception):
    """A configuration problem, worded for the person who wrote the file."""


def setting(default: Any, doc: str, *, secret_env: bool = False) -> Any:
    """A settings field with its documentation (and whether it names a secret's env var)."""
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"doc": doc, "secret_env": secret_env})
    return field(default=default, metadata={"doc": doc, "secret_env": secret_env})


@dataclass
class BotSettings:
    """General behaviour."""

    language: str = setting("en", "Reply language for groups that set none: en or zh-CN.")
    timezone: str = setting("UTC", "Time zone for showing and scheduling times (IANA name).")
    name: str = setting("communitybot", "The bot's name in help texts.")
    shutdown_timeout: float = setting(20.0, "Seconds `run` waits for events in flight on SIGTERM before it gives up.")
    workers: int = setting(1, "Worker processes for `run`: above 1, groups are sharded over that many processes on the same database (one core each); 1 handles everything in one process.")

    def check(self) -> str | None:
        """Language must be one we have texts for; the time zone must exist."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if not 1 <= self.workers <= 64:
            return f"key 'workers' must be 1-64, got {self.workers}"
        if self.language.replace("_", "-").lower() not in ("en", "zh-cn", "zh"):
            return f"key 'language' must be 'en' or 'zh-CN', got {self.language!r}"
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return f"key 'timezone' is not a known time zone: {self.timezone!r}"
        return None


@dataclass
class DatabaseSettings:
    """Where the event store lives."""

    url: str = setting(DEFAULT_DB_URL, "sqlite:///FILE (default) or postgresql://USER@HOST/DB.")
    spool_path: str = setting("", "File that holds events while the database is unreachable (default: beside the SQLite file, else ./communitybot-spool.db).")
    spool_max_events: int = setting(100_000, "Most events the spool holds during an outage.")
    retry_seconds: float = setting(5.0, "How often to check whether the database is back during an outage.")


SECTIONS: dict[str, type] = {"bot": BotSettings, "database": DatabaseSettings}
#: Sections that a `[[groups]]` entry may override.
GROUP_SECTIONS: set[str] = {"bot"}


def register_section(name: str, cls: type, per_group: bool = True) -> type:
    """Register a settings dataclass as `[name]` in config.toml (features call this)."""
    SECTIONS[name] = cls
    if per_group:
        GROUP_SECTIONS.add(name)
    return cls


def _type_ok(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if tp is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, a) for a in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        return isinstance(value, list) and all(_type_ok(v, item) for v in value)
    if origin is dict:
        k, v = typing.get_args(tp) or (Any, Any)
        return isinstance(value, dict) and all(_type_ok(a, k) and _type_ok(b, v) for a, b in value.items())
    if isinstance(tp, type):
        return isinstance(value, tp)
    return True


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is not None:
        return str(tp).replace("typing.", "")
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def build_section(cls: type, values: dict[str, Any], where: str, base: Any = None) -> Any:
    """Validate `values` against dataclass `cls` and return an instance.

    `where` names the place for error messages ("config.toml: [moderation]").
    `base` is an instance whose values are the defaults (for per-group overrides).
    """
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: expected a table, got {type(values).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key, value in values.items():
        if key not in names:
            known = ", ".join(sorted(names))
            raise ConfigError(f"{where}: unknown key {key!r} (known keys: {known})")
        if not _type_ok(value, hints[key]):
            raise ConfigError(
                f"{where}: key {key!r} must be {_type_name(hints[key])}, got {value!r}"
            )
    inst = dataclasses.replace(base, **values) if base is not None else cls(**values)
    check = getattr(inst, "check", None)
    if callable(check):
        problem = check()
        if problem:
            raise ConfigError(f"{where}: {problem}")
    return inst


def parse_value(cls: type, key: str, text: str) -> Any:
    """Parse a value typed in chat (`/config set key value`) for field `key` of `cls`."""
    hints = typing.get_type_hints(cls)
    if key not in hints:
        raise ConfigError(f"unknown key {key!r}")
    tp = hints[key]
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    if _type_ok(value, tp):
        return value
    if _type_ok(text, tp):
        return text
    if _type_ok([s.strip() for s in text.split(",") if s.strip()], tp):
        return [s.strip() for s in text.split(",") if s.strip()]
    raise ConfigError(f"key {key!r} must be {_type_name(tp)}, got {text!r}")


@dataclass
class Config:
    """The validated configuration: one instance per section plus the groups."""

    sections: dict[str, Any]
    groups: list[GroupConfig]
    path: Path | None = None
    communities: list[CommunityConfig] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        sections = self.__dict__.get("sections", {})
        if name in sections:
            return sections[name]
        raise AttributeError(name)

    def section(self, name: str) -> Any:
        """The settings of section `name` (defaults if the file had none)."""
        if name not in self.sections and name in SECTIONS:
            self.sections[name] = SECTIONS[name]()
        return self.sections[name]

    def group_config(self, platform: str, group_id: str) -> GroupConfig | None:
        """The `[[groups]]` entry for a group, if the file has one."""
        for g in self.groups:
            if g.platform == platform and g.id == group_id:
                return g
        return None

    def community_of(self, platform: str, group_id: str) -> CommunityConfig | None:
        """The `[[communities]]` entry that lists this chat or server, if any."""
        for c in self.communities:
            if (platform, group_id) in c.members:
                return c
        return None

    def for_group(self, name: str, platform: str, group_id: str, stored: dict[str, Any] | None = None) -> Any:
        """Section `name` as it applies to one group, each layer over the one before:
        file defaults (and `COMMUNITYBOT_…` variables), the group's `[[communities]]`
        entry, its `[[groups]]` entry, then overrides stored from chat ("section.key")."""
        inst = self.section(name)
        c = self.community_of(platform, group_id)
        if c:
            vals = c.overrides_for(platform).get(name)
            if vals:
                inst = dataclasses.replace(inst, **vals)
        g = self.group_config(platform, group_id)
        if g and name in g.overrides:
            inst = dataclasses.replace(inst, **g.overrides[name])
        if stored:
            prefix = name + "."
            vals = {k[len(prefix):]: v for k, v in stored.items() if k.startswith(prefix)}
            names = {f.name for f in dataclasses.fields(inst)}
            vals = {k: v for k, v in vals.items() if k in names}
            if vals:
                inst = dataclasses.replace(inst, **vals)
        return inst

    def secret(self, section: str, key: str) -> str | None:
        """The value of the environment variable that `[section].key` names."""
        env = getattr(self.section(section), key)
        return os.environ.get(env) if env else None


ENV_PREFIX = "COMMUNITYBOT_"


def env_overrides(data: dict[str, Any], environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Apply `COMMUNITYBOT_SECTION__KEY=value` variables (container deployments) on top
    of the file's values, and `COMMUNITYBOT_COMMUNITIES__<ID>__SECTION__KEY` on top of
    one community's; the value is parsed like `/config set` input."""
    import copy

    environ = dict(os.environ if environ is None else environ)
    data = copy.deepcopy(data)
    for name, text in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX):].lower().partition("__")
        if section == "communities":
            _community_env(data, name, key, text)
            continue
        if section not in SECTIONS:
            known = ", ".join(sorted(SECTIONS))
            raise ConfigError(f"environment variable {name}: unknown section {section!r} (known: {known})")
        try:
            value = parse_value(SECTIONS[section], key, text)
        except ConfigError as exc:
            raise ConfigError(f"environment variable {name}: {exc}") from exc
        data.setdefault(section, {})[key] = value
    return data


def _community_env(data: dict[str, Any], name: str, rest: str, text: str) -> None:
    """`COMMUNITYBOT_COMMUNITIES__<ID>__<SECTION>__<KEY>`: one community's setting."""
    cid, _, rest = rest.partition("__")
    section, _, key = rest.partition("__")
    communities = data.get("communities")
    entry = next((c for c in communities if isinstance(c, dict) and str(c.get("id", "")).lower() == cid),
                 None) if isinstance(communities, list) else None
    if entry is None:
        raise ConfigError(f"environment variable {name}: no [[communities]] entry has the id {cid!r}")
    if section not in GROUP_SECTIONS or not key:
        raise ConfigError(f"environment variable {name}: expected COMMUNITYBOT_COMMUNITIES__<ID>__<SECTION>__<KEY> "
                          f"with a section of {', '.join(sorted(GROUP_SECTIONS))}")
    try:
        value = parse_value(SECTIONS[section], key, text)
    except ConfigError as exc:
        raise ConfigError(f"environment variable {name}: {exc}") from exc
    table = entry.setdefault(section, {})
    if not isinstance(table, dict):
        raise ConfigError(f"environment variable {name}: [communities.{section}] is not a table")
    table[key] = value


def register_all() -> None:
    """Import every feature and adapter-setup module so their sections are registered."""
    import importlib

    from bot.app import FEATURES
    from bot.runner import ADAPTER_FACTORIES

    for name in [*FEATURES, *(ref.partition(":")[0] for ref in ADAPTER_FACTORIES.values())]:
        importlib.import_module(name)


def _build(data: dict[str, Any], where: str, path: Path | None, require_secrets: bool) -> Config:
    from bot.config_groups import build_communities, build_groups
    from bot.logs import add_secret

    register_all()

    data = env_overrides(data)
    sections: dict[str, Any] = {}
    groups = build_groups(data.get("groups", []), where)
    communities = build_communities(data.get("communities", []), where)
    for key, value in data.items():
        if key in ("groups", "communities"):
            continue
        if key not in SECTIONS:
            known = ", ".join(sorted([*SECTIONS, "groups", "communities"]))
            raise ConfigError(f"{where}: unknown section [{key}] (known sections: {known})")
        sections[key] = build_section(SECTIONS[key], value, f"{where}: [{key}]")
    for name, cls in SECTIONS.items():
        sections.setdefault(name, cls())
    cfg = Config(sections, groups, path, communities)
    for inst in sections.values():
        for f in dataclasses.fields(inst):
            if f.metadata.get("secret_env"):
                add_secret(os.environ.get(getattr(inst, f.name) or ""))
    if require_secrets:
        for name, inst in sections.items():
            if not getattr(inst, "enabled", False):
                continue
            for f in dataclasses.fields(inst):
                if f.metadata.get("secret_env"):
                    env = getattr(inst, f.name)
                    if env and not os.environ.get(env):
                        raise ConfigError(
                            f"{where}: [{name}] {f.name} names the environment variable "
                            f"{env}, which is not set (the secret is read from it)"
                        )
    return cfg


def load_config(path: str | Path | None, require_secrets: bool = True) -> Config:
    """Read and validate a config file; None gives the defaults (no file needed)."""
    if path is None:
        return _build({}, "defaults", None, require_secrets)
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{p}: config file not found (copy config.example.toml to start)")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text: {exc}") from exc
    return _build(data, str(p), p, require_secrets)


def load_config_text(text: str, name: str = "config.toml", require_secrets: bool = True) -> Config:
    """Validate config given as TOML text (tests, `check-config` on stdin)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: not valid TOML: {exc}") from exc
    return _build(data, name, None, require_secrets)


def describe(cls: type) -> list[tuple[str, Any, str]]:
    """(key, default, doc) of every field of a settings dataclass, for docs and help."""
    out = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        out.append((f.name, default, f.metadata.get("doc", "")))
    return out
