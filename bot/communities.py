"""Communities: several chats and servers (a Telegram chat and a Discord server, say)
configured as one `[[communities]]` entry, with one leaderboard and one points balance
per person once members link their accounts with `/link`.

    /top                      → the whole community (default in a community's chat)
    /top telegram 30d         → the community's Telegram chats only
    /top here                 → this chat only
    /points                   → one balance: every linked account in every chat, added up

A `Scope` says which chats a board covers; `accounts_of` lists the (group, member) pairs
that hold one person's points in a chat's community. Chats outside any community keep
their own boards and balances, as before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config_groups import CommunityConfig
from bot.links import links
from bot.privacy import hidden_members, is_public
from storage.store import GroupInfo

if TYPE_CHECKING:
    from bot.app import App

#: Scope words `/top` understands, besides platform names.
SCOPE_WORDS = ("here", "community")
PLATFORM_NAMES = {"telegram": "Telegram", "discord": "Discord", "console": "console", "fake": "fake"}


@dataclass(frozen=True)
class Scope:
    """The chats a leaderboard covers.

    `kind` is "group" (one chat), "community" (every chat of the community) or a
    platform name (the community's chats on that platform). `merged` boards add a
    person's linked accounts together.
    """

    kind: str
    groups: tuple[GroupInfo, ...]
    community: CommunityConfig | None = None

    @property
    def merged(self) -> bool:
        """Whether the board adds up several chats (and linked accounts)."""
        return self.kind != "group"

    def label(self) -> str:
        """"Data Course · Telegram + Discord" for a heading (empty for one chat)."""
        if not self.merged or self.community is None:
            return ""
        platforms = sorted({g.platform for g in self.groups}, key=lambda p: (p != "telegram", p))
        shown = " + ".join(PLATFORM_NAMES.get(p, p) for p in platforms) or PLATFORM_NAMES.get(self.kind, self.kind)
        return f"{self.community.name} · {shown}"


def community_of(app: App, group: GroupInfo) -> CommunityConfig | None:
    """The configured community the chat belongs to, if any."""
    return app.config.community_of(group.platform, group.group_id)


async def community_groups(app: App, community: CommunityConfig, platform: str | None = None) -> list[GroupInfo]:
    """The community's chats the store knows (a chat appears once the bot has seen it)."""
    wanted = {m for m in community.members if platform is None or m[0] == platform}
    return [g for g in await app.store.groups() if (g.platform, g.group_id) in wanted]


async def scope_for(app: App, group: GroupInfo, word: str | None, default: str = "community") -> Scope:
    """The scope a `/top` in `group` asks for: `word` ("here", "community", a platform
    name, or None for `default`). Raises ValueError(word) for a scope the chat lacks."""
    c = community_of(app, group)
    kind = (word or default).lower()
    if kind in ("here", "group") or (c is None and word is None):
        return Scope("group", (group,))
    if c is None:
        raise ValueError(word)
    if kind == "community":
        groups = await community_groups(app, c)
    elif kind == "platform":
        kind = group.platform
        groups = await community_groups(app, c, group.platform)
    elif kind in c.platforms():
        groups = await community_groups(app, c, kind)
    else:
        raise ValueError(word)
    if group.pk not in {g.pk for g in groups} and kind in ("community", group.platform):
        groups.append(group)
    return Scope(kind, tuple(groups), c)


async def accounts_of(app: App, group: GroupInfo, member_id: str) -> list[tuple[int, str]]:
    """(group_pk, member_id) of every account that holds the person's points: in a
    community, each linked account in each of its chats; elsewhere just this one."""
    c = community_of(app, group)
    if c is None:
        return [(group.pk, member_id)]
    return await _accounts(app, group, c, member_id)


#: Seconds a person's account list is reused by the points rules (links change rarely;
#: `/link` and `/unlink` in this process clear it at once).
ACCOUNTS_TTL = 60.0


async def other_xp(app: App, group: GroupInfo, member_id: str) -> int:
    """XP the person holds on their other accounts in the chat's community (0 outside
    one, or for a member with one account), so a level-up counts the whole person."""
    c = community_of(app, group)
    if c is None:
        return 0
    cache: dict = app.services.setdefault("communities.accounts", {})
    now = app.clock.now().timestamp()
    hit = cache.get((group.pk, member_id))
    if hit is None or now - hit[0] > ACCOUNTS_TTL:
        hit = cache[(group.pk, member_id)] = (now, await _accounts(app, group, c, member_id))
        if len(cache) > 50_000:
            cache.clear()
    others = [a for a in hit[1] if a != (group.pk, member_id)]
    if not others:
        return 0
    from bot.points import ledger_of

    return await ledger_of(app).xp(group.pk, member_id, others)


def forget_accounts(app: App) -> None:
    """Drop the cached account lists (after `/link` or `/unlink`)."""
    app.services.get("communities.accounts", {}).clear()


async def _accounts(app: App, group: GroupInfo, c: CommunityConfig, member_id: str) -> list[tuple[int, str]]:
    ls = links(app)
    person = await ls.person_id(group.platform, member_id)
    accounts = set(await ls.accounts(person)) | {(group.platform, member_id)}
    out = [(g.pk, m) for g in await community_groups(app, c) for p, m in sorted(accounts) if p == g.platform]
    return out if (group.pk, member_id) in out else [(group.pk, member_id), *out]


@dataclass
class Standing:
    """One person's line on a merged board."""

    person: str
    value: float
    name: str


async def merge(
    app: App, scope: Scope, values: Mapping[tuple[int, str], float], prefer_platform: str = "",
) -> list[Standing]:
    """Add per-account values ({(group_pk, member_id): value}) up per person across the
    scope's chats, best first. A person is left out if any of their accounts opted out
    of public boards in any chat of the scope; pseudonyms (forgotten members) too."""
    by_pk = {g.pk: g for g in scope.groups}
    hidden: set[tuple[str, str]] = set()
    for g in scope.groups:
        hidden |= {(g.platform, m) for m in await hidden_members(app, g)}
    per_account: dict[tuple[str, str], float] = defaultdict(float)
    for (pk, mid), v in values.items():
        if pk in by_pk and mid:
            per_account[(by_pk[pk].platform, mid)] += v
    mapping = await links(app).person_map(list(per_account))
    totals: dict[str, float] = defaultdict(float)
    members: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for account, v in per_account.items():
        totals[mapping[account]] += v
        members[mapping[account]].append(account)
    blocked = {mapping[a] for a in per_account if a in hidden or not is_public(a[1], set())}
    names = await _names(app, {p for p, _ in per_account})
    out = []
    for person, total in totals.items():
        if person in blocked:
            continue
        accts = sorted(members[person], key=lambda a: (a[0] != prefer_platform, -per_account[a]))
        p, m = accts[0]
        out.append(Standing(person, total, names.get(p, {}).get(m) or m))
    out.sort(key=lambda s: (-s.value, s.person))
    return out


async def _names(app: App, platforms: Iterable[str]) -> dict[str, dict[str, str]]:
    return {p: await app.store.member_names(p) for p in platforms}
