"""`[[communities]]` and `[[groups]]` tables: which chats form one community, and the
settings that apply to a community's chats or to one chat.

    [[communities]]
    id = "datacourse"                      # one word; `/top community` and the CLI name it
    title = "Data Course 2026"
    telegram = [-1001234567890]            # chats (ids as numbers or strings)
    discord = ["1122334455667788990"]      # servers
    moderators = { telegram = "-1009876543210", discord = "1122334455667788990#2233445566778899001" }
    language = "zh-CN"
    timezone = "Asia/Shanghai"
    [communities.moderation]
    mode = "enforce"
    [communities.points]
    message_points = 2

    [[groups]]                             # one chat; wins over its community
    platform = "telegram"
    id = "-1001234567890"
    language = "en"

A setting comes from, each over the one before: the file's sections (and `COMMUNITYBOT_…`
variables), the chat's community, the chat's `[[groups]]` entry, `/config set` in chat.
`moderators` names each platform's moderators' chat ("chat" or "chat#channel"); it sets
`moderation.alerts_chat`/`alerts_channel` for that platform's chats of the community.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.config import GROUP_SECTIONS, SECTIONS, BotSettings, ConfigError, build_section

#: Platforms a community may list chats of (the fake and console adapters are for tests
#: and the terminal).
PLATFORMS = ("telegram", "discord", "console", "fake")


@dataclass
class GroupConfig:
    """One `[[groups]]` entry: a chat or server, its language and overrides."""

    platform: str
    id: str
    title: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class CommunityConfig:
    """One `[[communities]]` entry: several chats and servers that form one community."""

    id: str
    title: str = ""
    #: (platform, group_id) of every chat and server in the community.
    members: list[tuple[str, str]] = field(default_factory=list)
    #: Moderators' chat per platform: platform → "chat" or "chat#channel".
    moderators: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The title, else the id."""
        return self.title or self.id

    def platforms(self) -> list[str]:
        """The platforms the community spans, in the order first listed."""
        return list(dict.fromkeys(p for p, _ in self.members))

    def overrides_for(self, platform: str) -> dict[str, dict[str, Any]]:
        """The section overrides for this community's chats on `platform` (the platform's
        moderators' chat included)."""
        out = {k: dict(v) for k, v in self.overrides.items()}
        target = self.moderators.get(platform)
        if target:
            chat, _, channel = target.partition("#")
            mod = out.setdefault("moderation", {})
            mod.setdefault("alerts_chat", chat)
            if channel:
                mod.setdefault("alerts_channel", channel)
        return out


def _overrides(g: dict[str, Any], where: str, known_extra: list[str]) -> dict[str, Any]:
    """Validate the section tables and language/timezone of an entry; unknown keys fail."""
    overrides: dict[str, Any] = {}
    for key, value in g.items():
        if key in GROUP_SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{key}] must be a table")
            overrides[key] = {**overrides.get(key, {}), **value}
            build_section(SECTIONS[key], overrides[key], f"{where} [{key}]")
        elif key in ("language", "timezone"):
            overrides.setdefault("bot", {})[key] = value
            build_section(BotSettings, overrides["bot"], f"{where}")
        else:
            known = ", ".join(sorted([*known_extra, "language", "timezone", *GROUP_SECTIONS]))
            raise ConfigError(f"{where}: unknown key {key!r} (known keys: {known})")
    return overrides


def build_groups(value: Any, where: str) -> list[GroupConfig]:
    """Validate the `[[groups]]` array."""
    if not isinstance(value, list):
        raise ConfigError(f"{where}: 'groups' must be an array of tables ([[groups]])")
    out = []
    for i, g in enumerate(value):
        here = f"{where}: [[groups]] #{i + 1}"
        if not isinstance(g, dict):
            raise ConfigError(f"{here}: expected a table")
        g = dict(g)
        for req in ("platform", "id"):
            if req not in g:
                raise ConfigError(f"{here}: missing key {req!r}")
        platform, gid, title = str(g.pop("platform")), str(g.pop("id")), str(g.pop("title", ""))
        out.append(GroupConfig(platform, gid, title, _overrides(g, here, ["platform", "id", "title"])))
    return out


def _chat_ids(value: Any, where: str) -> list[str]:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        raise ConfigError(f"{where}: expected a list of chat or server ids, got {value!r}")
    ids = [str(v).strip() for v in value]
    if any(not v for v in ids):
        raise ConfigError(f"{where}: an id is empty")
    return ids


def build_communities(value: Any, where: str) -> list[CommunityConfig]:
    """Validate the `[[communities]]` array: ids unique, each chat in one community only."""
    if not isinstance(value, list):
        raise ConfigError(f"{where}: 'communities' must be an array of tables ([[communities]])")
    out: list[CommunityConfig] = []
    owner: dict[tuple[str, str], str] = {}
    for i, c in enumerate(value):
        here = f"{where}: [[communities]] #{i + 1}"
        if not isinstance(c, dict):
            raise ConfigError(f"{here}: expected a table")
        c = dict(c)
        cid = str(c.pop("id", "")).strip()
        if not cid or not cid.replace("-", "_").isidentifier():
            raise ConfigError(f"{here}: key 'id' must be one word (letters, digits, - or _), got {cid!r}")
        here = f"{where}: [[communities]] {cid!r}"
        if any(x.id == cid for x in out):
            raise ConfigError(f"{here}: another community has the same id")
        title = str(c.pop("title", ""))
        members: list[tuple[str, str]] = []
        for platform in PLATFORMS:
            if platform in c:
                members += [(platform, gid) for gid in _chat_ids(c.pop(platform), f"{here} {platform}")]
        if not members:
            raise ConfigError(f"{here}: lists no chats; add e.g. telegram = [-100123…] or discord = [\"1122…\"]")
        for m in members:
            if m in owner:
                raise ConfigError(f"{here}: {m[0]} {m[1]} is already in community {owner[m]!r} (a chat belongs to one community)")
            owner[m] = cid
        moderators = c.pop("moderators", {})
        if not isinstance(moderators, dict):
            raise ConfigError(f"{here}: 'moderators' must be a table such as {{ telegram = \"-100…\" }}")
        for platform, target in moderators.items():
            if platform not in PLATFORMS:
                raise ConfigError(f"{here} moderators: unknown platform {platform!r} (known: {', '.join(PLATFORMS)})")
            if not isinstance(target, (str, int)) or not str(target).partition("#")[0].strip():
                raise ConfigError(f"{here} moderators.{platform}: expected \"chat\" or \"chat#channel\", got {target!r}")
        moderators = {p: str(t).strip() for p, t in moderators.items()}
        overrides = _overrides(c, here, ["id", "title", "moderators", *PLATFORMS])
        out.append(CommunityConfig(cid, title, members, moderators, overrides))
    return out
