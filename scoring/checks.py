"""Explainable moderation checks: one small class each, with its settings beside it.

Every check returns a `Verdict` with a reason, also when it passes ("links 1/3"), so a
moderator (and a test) can see why. Checks only detect; the policy in
`bot/moderation.py` decides what to do. They read the event and the bounded recent
history in `scoring.window` and never touch a clock, the store or the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from scoring.textnorm import (
    caps_ratio,
    count_similar,
    fold,
    normalise,
    phrase_pattern,
    spaced_runs,
    symbol_stats,
)
from scoring.window import Cluster, GroupWindow, MemberWindow
from storage.events import Event, EventKind

SEVERITIES = ("low", "medium", "high")
MESSAGE_LIKE = frozenset({EventKind.MESSAGE, EventKind.COMMAND, EventKind.EDIT})


def _s(default: Any, doc: str) -> Any:
    """A settings field with its documentation (same metadata as `bot.config.setting`)."""
    if isinstance(default, list):
        return field(default_factory=lambda d=default: list(d), metadata={"doc": doc})
    return field(default=default, metadata={"doc": doc})


class CheckSettings:
    """Base of check settings: validates `severity` for the config loader."""

    def check(self) -> str | None:
        """An error message when a value is out of range, else None."""
        sev = getattr(self, "severity", "low")
        if sev not in SEVERITIES:
            return f"severity must be one of {', '.join(SEVERITIES)}, got {sev!r}"
        return None


# Not frozen: a frozen dataclass sets each field through object.__setattr__, and the
# checks make ten verdicts a message.
@dataclass(slots=True)
class Verdict:
    """One check's answer about one event: flagged or not, and why."""

    check: str
    flagged: bool
    reason: str
    #: Strength in [0, 1] (a probability for the classifier).
    score: float = 0.0
    #: What the policy may do at most when flagged: low (alert), medium (delete, mute), high (ban).
    severity: str = "low"
    data: dict = field(default_factory=dict, compare=False)


@dataclass
class CheckContext:
    """The event and the history a check reads."""

    event: Event
    ts: float
    norm: str
    shingles: frozenset
    member: MemberWindow
    group: GroupWindow
    cluster: Cluster | None = None
    similarity: float = 0.0
    join_count: int = 0
    #: MinHash signature of the text (see `scoring.textnorm.MinHasher`).
    signature: bytes = b""


class Check:
    """Base of every check: a name, the event kinds it reads and a settings class."""

    name = "check"
    kinds: frozenset = MESSAGE_LIKE
    #: Content checks are skipped for trusted members; the raid check never is.
    content = True
    settings_cls: type = object

    def check(self, ctx: CheckContext, s: Any) -> Verdict:  # pragma: no cover - abstract
        """Judge `ctx.event` with settings `s`."""
        raise NotImplementedError

    def ok(self, reason: str, score: float = 0.0, **data: Any) -> Verdict:
        """A passing verdict with its reason."""
        return Verdict(self.name, False, reason, score, "low", data)

    def hit(self, reason: str, severity: str, score: float = 1.0, **data: Any) -> Verdict:
        """A flagged verdict with its reason."""
        return Verdict(self.name, True, reason, score, severity, data)


@dataclass
class FloodSettings(CheckSettings):
    """Too many messages in a short time by one member."""

    enabled: bool = _s(True, "Run the flood check.")
    max_messages: int = _s(5, "Messages allowed within `seconds`; one more is a flood.")
    seconds: float = _s(10.0, "Length of the flood window in seconds.")
    severity: str = _s("medium", "Severity when flagged: low, medium or high.")


class FloodCheck(Check):
    """More than N messages in T seconds by one member (commands to the bot don't count)."""

    name = "flood"
    kinds = frozenset({EventKind.MESSAGE})
    settings_cls = FloodSettings

    def check(self, ctx: CheckContext, s: FloodSettings) -> Verdict:
        n = ctx.member.count_since(ctx.ts - s.seconds)
        reason = f"messages {n}/{s.max_messages} in {s.seconds:g}s"
        if n > s.max_messages:
            return self.hit(reason, s.severity, min(1.0, n / (2 * s.max_messages)))
        return self.ok(reason)


@dataclass
class RepeatSettings(CheckSettings):
    """The same or nearly the same text from one member again and again."""

    enabled: bool = _s(True, "Run the repeat check.")
    times: int = _s(3, "Near-identical messages (this one included) that count as repeating.")
    seconds: float = _s(600.0, "Window in seconds.")
    similarity: float = _s(0.85, "Character-shingle Jaccard similarity that counts as the same text.")
    min_chars: int = _s(8, "Shorter messages are ignored ('ok', 'thanks').")
    severity: str = _s("medium", "Severity when flagged.")


class RepeatCheck(Check):
    """K near-identical texts from one member within a window."""

    name = "repeat"
    settings_cls = RepeatSettings

    def check(self, ctx: CheckContext, s: RepeatSettings) -> Verdict:
        if len(ctx.norm) < s.min_chars:
            return self.ok(f"repeats 1/{s.times} (short text)")
        since = ctx.ts - s.seconds
        recent = [sig for ts, sig in ctx.member.texts if ts >= since]
        n = 1 + count_similar(recent, ctx.signature, s.similarity)
        reason = f"repeats {n}/{s.times} in {s.seconds:g}s"
        return self.hit(reason, s.severity) if n >= s.times else self.ok(reason)


@dataclass
class RaidSettings(CheckSettings):
    """Many members posting near-identical text, or many joins at once."""

    enabled: bool = _s(True, "Run the raid check (trusted members are never exempt).")
    members: int = _s(5, "Distinct members posting near-identical text that make a raid.")
    seconds: float = _s(300.0, "Window for the text raid in seconds.")
    similarity: float = _s(0.7, "Character-shingle Jaccard similarity that counts as the same text.")
    min_chars: int = _s(12, "Shorter messages never count towards a text raid.")
    joins: int = _s(10, "Joins within `join_seconds` that make a join raid.")
    join_seconds: float = _s(60.0, "Window for the join raid in seconds.")
    severity: str = _s("high", "Severity when flagged.")


class RaidCheck(Check):
    """Near-duplicate text from K+ distinct members, or J joins in T seconds."""

    name = "raid"
    kinds = frozenset({EventKind.MESSAGE, EventKind.COMMAND, EventKind.EDIT, EventKind.JOIN})
    content = False
    settings_cls = RaidSettings

    def check(self, ctx: CheckContext, s: RaidSettings) -> Verdict:
        c = ctx.cluster
        if ctx.event.kind is EventKind.JOIN:
            reason = f"joins {ctx.join_count}/{s.joins} in {s.join_seconds:g}s"
            if c is not None:
                return self.hit(reason, s.severity, cluster=c.id, count=len(c.members), kind="joins")
            return self.ok(reason)
        if c is None or len(ctx.norm) < s.min_chars:
            return self.ok(f"raid 1/{s.members} members (short text)")
        n = c.count_since(ctx.ts - s.seconds)
        reason = f"same text from {n}/{s.members} members in {s.seconds:g}s"
        if n >= s.members:
            if ctx.similarity:
                reason += f" (similarity {ctx.similarity:.2f})"
            return self.hit(reason, s.severity, cluster=c.id, count=n, kind="text")
        return self.ok(reason, cluster=c.id, count=n)


_INVITE = re.compile(r"(?i)(?:t\.me/(?:joinchat/|\+)|telegram\.me/joinchat|discord\.gg/|discord(?:app)?\.com/invite/|chat\.whatsapp\.com/)\S+")
_AT = re.compile(r"(?<![\w.])@[A-Za-z0-9_]{4,32}\b")


@dataclass
class NewcomerSettings(CheckSettings):
    """What a new member may not post in their first messages or hours."""

    enabled: bool = _s(True, "Run the newcomer check.")
    first_messages: int = _s(3, "A member is new for this many messages...")
    first_hours: float = _s(24.0, "...or this many hours after first being seen.")
    links: bool = _s(True, "Flag links from new members.")
    invites: bool = _s(True, "Flag group invite links (t.me/+, discord.gg) from new members.")
    forwards: bool = _s(True, "Flag forwarded messages from new members.")
    mentions: bool = _s(True, "Flag @mentions from new members.")
    media: bool = _s(False, "Flag media from new members.")
    severity: str = _s("medium", "Severity for invites, forwards, mentions and media.")
    link_severity: str = _s("low", "Severity for plain links (course members share docs; the classifier judges the text).")

    def check(self) -> str | None:
        """Validate both severities."""
        if self.link_severity not in SEVERITIES:
            return f"link_severity must be one of {', '.join(SEVERITIES)}, got {self.link_severity!r}"
        return super().check()


class NewcomerCheck(Check):
    """Links, invites, forwards, mentions or media in a new member's first messages."""

    name = "newcomer"
    # Commands name members by @handle routinely ("/warn @bob"): not a newcomer risk.
    kinds = frozenset({EventKind.MESSAGE, EventKind.EDIT})
    settings_cls = NewcomerSettings

    def check(self, ctx: CheckContext, s: NewcomerSettings) -> Verdict:
        m, e = ctx.member, ctx.event
        age_h = (ctx.ts - m.first_ts) / 3600 if m.first_ts is not None else 0.0
        nth = max(m.messages, 1)
        new = nth <= s.first_messages or age_h < s.first_hours
        what = []
        severity = s.link_severity
        text = e.text or ""  # every invite pattern holds a "." and every handle an "@"
        if s.invites and "." in text and _INVITE.search(text):
            what.append("invite link")
            severity = s.severity
        elif s.links and e.link_count:
            what.append(f"{e.link_count} link(s)")
        if s.forwards and e.forwarded:
            what.append("forward")
            severity = s.severity
        if s.mentions and (e.mentions or ("@" in text and _AT.search(text))):
            what.append("mention")
            severity = s.severity
        if s.media and e.media:
            what.append(str(e.media))
            severity = s.severity
        if not new:
            return self.ok(f"member since {age_h:.0f}h, message {nth}: not new")
        reason = f"new member (message {nth}, {age_h:.1f}h)"
        if what:
            return self.hit(f"{reason} posted {', '.join(what)}", severity)
        return self.ok(f"{reason}, nothing risky")


@dataclass
class MentionSettings(CheckSettings):
    """Mass mentions in one message."""

    enabled: bool = _s(True, "Run the mention check.")
    max_mentions: int = _s(5, "Mentions allowed in one message.")
    severity: str = _s("medium", "Severity when flagged.")


class MentionCheck(Check):
    """More than N members mentioned in one message."""

    name = "mentions"
    kinds = frozenset({EventKind.MESSAGE, EventKind.EDIT})
    settings_cls = MentionSettings

    def check(self, ctx: CheckContext, s: MentionSettings) -> Verdict:
        n = max(len(ctx.event.mentions), len(_AT.findall(ctx.event.text)) if "@" in (ctx.event.text or "") else 0)
        reason = f"mentions {n}/{s.max_mentions}"
        return self.hit(reason, s.severity) if n > s.max_mentions else self.ok(reason)


@dataclass
class ShoutingSettings(CheckSettings):
    """Messages written mostly in capitals."""

    enabled: bool = _s(True, "Run the shouting check.")
    min_letters: int = _s(6, "Messages with fewer cased letters are never shouting.")
    max_ratio: float = _s(0.7, "Share of capitals above which a message shouts.")
    severity: str = _s("low", "Severity when flagged.")


class ShoutingCheck(Check):
    """Caps ratio on messages with enough cased letters (Chinese has none: never shouts)."""

    name = "shouting"
    settings_cls = ShoutingSettings

    def check(self, ctx: CheckContext, s: ShoutingSettings) -> Verdict:
        n, ratio = caps_ratio(ctx.event.text or "")
        if n < s.min_letters:
            return self.ok(f"caps n/a ({n} letters)")
        reason = f"caps {ratio:.0%} of {n} letters (max {s.max_ratio:.0%})"
        return self.hit(reason, s.severity, ratio) if ratio > s.max_ratio else self.ok(reason, ratio)


@dataclass
class SymbolSettings(CheckSettings):
    """Emoji walls, zalgo text and invisible characters."""

    enabled: bool = _s(True, "Run the symbol check.")
    max_emoji: int = _s(12, "Emoji allowed in one message.")
    max_emoji_ratio: float = _s(0.6, "Share of emoji among visible characters (messages of 8+ characters).")
    max_combining: int = _s(6, "Combining marks allowed (zalgo text piles them up).")
    max_invisible: int = _s(2, "Zero-width characters allowed (used to split words invisibly).")
    severity: str = _s("medium", "Severity when flagged.")


class SymbolCheck(Check):
    """Emoji abuse, zalgo and invisible characters."""

    name = "symbols"
    settings_cls = SymbolSettings

    def check(self, ctx: CheckContext, s: SymbolSettings) -> Verdict:
        vis, emoji, comb, inv = symbol_stats(ctx.event.text or "")
        reason = f"emoji {emoji}/{s.max_emoji}, combining {comb}/{s.max_combining}, invisible {inv}/{s.max_invisible}"
        problems = []
        if emoji > s.max_emoji or (vis >= 8 and emoji / vis > s.max_emoji_ratio):
            problems.append("emoji")
        if comb > s.max_combining:
            problems.append("zalgo")
        if inv > s.max_invisible:
            problems.append("invisible characters")
        if problems:
            return self.hit(f"{' and '.join(problems)}: {reason}", s.severity)
        return self.ok(reason)


@dataclass
class BlocklistSettings(CheckSettings):
    """Words and regular expressions this group never wants to see."""

    enabled: bool = _s(True, "Run the blocklist check.")
    words: list[str] = _s([], "Words or phrases, matched on normalised text with word boundaries.")
    regexes: list[str] = _s([], "Regular expressions, searched in the normalised text.")
    severity: str = _s("high", "Severity when flagged.")

    def check(self) -> str | None:
        """Report a bad severity or the first regex that does not compile."""
        problem = super().check()
        if problem:
            return problem
        for rx in self.regexes:
            try:
                re.compile(rx)
            except re.error as exc:
                return f"regexes: {rx!r} is not a valid regular expression ({exc})"
        return None


class BlocklistCheck(Check):
    """Blocked words (normalised, word-bounded) and regexes per group."""

    name = "blocklist"
    settings_cls = BlocklistSettings

    def __init__(self) -> None:
        self._cache: dict[tuple, list[tuple[str, re.Pattern]]] = {}

    def _patterns(self, s: BlocklistSettings) -> list[tuple[str, re.Pattern]]:
        key = (tuple(s.words), tuple(s.regexes))
        pats = self._cache.get(key)
        if pats is None:
            pats = [(w, phrase_pattern(w)) for w in s.words if normalise(w)]
            pats += [(rx, re.compile(rx, re.IGNORECASE)) for rx in s.regexes]
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = pats
        return pats

    def check(self, ctx: CheckContext, s: BlocklistSettings) -> Verdict:
        pats = self._patterns(s)
        if not pats:
            return self.ok("blocklist empty")
        light = None
        runs = None
        for entry, pat in pats:
            if entry in s.regexes:
                # Regexes also see the text before punctuation inside words is dropped (URLs).
                light = light if light is not None else fold(ctx.event.text or "")
                if pat.search(ctx.norm) or pat.search(light):
                    return self.hit(f"blocked: {entry!r}", s.severity, entry=entry)
                continue
            if pat.search(ctx.norm):
                return self.hit(f"blocked: {entry!r}", s.severity, entry=entry)
            runs = runs if runs is not None else spaced_runs(ctx.event.text or "")
            word = normalise(entry)
            if any(word in r for r in runs):  # "a s c a m": the spaced letters hide the boundary
                return self.hit(f"blocked: {entry!r} (spaced out)", s.severity, entry=entry)
        return self.ok(f"no match among {len(pats)} entries")
