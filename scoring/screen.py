"""Runs every check on one event against a group's window: the detection half of
moderation, with no I/O, so live traffic, `communitybot scan` and the benchmark share it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scoring.anomaly import AnomalyCheck
from scoring.checks import (
    SEVERITIES,
    BlocklistCheck,
    Check,
    CheckContext,
    FloodCheck,
    MentionCheck,
    NewcomerCheck,
    RaidCheck,
    RaidSettings,
    RepeatCheck,
    ShoutingCheck,
    SymbolCheck,
    Verdict,
)
from scoring.spam import SpamCheck, SpamModel
from scoring.textnorm import normalise
from scoring.window import HASHER, Cluster, GroupWindow
from storage.events import Event, EventKind

SCREENED = frozenset({EventKind.MESSAGE, EventKind.COMMAND, EventKind.EDIT, EventKind.JOIN})

#: Characters of a text the checks read: more than Telegram (4,096) or Discord (4,000)
#: let a message hold.
MAX_CHARS = 16_384


def default_checks(model: SpamModel) -> list[Check]:
    """Every check in the order their verdicts are shown."""
    return [
        RaidCheck(),
        FloodCheck(),
        RepeatCheck(),
        NewcomerCheck(),
        MentionCheck(),
        ShoutingCheck(),
        SymbolCheck(),
        BlocklistCheck(),
        SpamCheck(model),
        AnomalyCheck(),
    ]


@dataclass
class Screening:
    """Every verdict about one event, and what they add up to."""

    event: Event
    verdicts: list[Verdict] = field(default_factory=list)
    trusted: bool = False
    cluster: Cluster | None = None

    @property
    def flagged(self) -> list[Verdict]:
        """The verdicts that flagged the event."""
        return [v for v in self.verdicts if v.flagged]

    @property
    def severity(self) -> str | None:
        """The highest severity among flagged verdicts (None when nothing flagged)."""
        f = self.flagged
        if not f:
            return None
        return max((v.severity for v in f), key=_rank)

    @property
    def raid(self) -> Verdict | None:
        """The raid verdict, when the raid check flagged the event."""
        return next((v for v in self.verdicts if v.check == "raid" and v.flagged), None)

    def spam_probability(self) -> float | None:
        """The classifier's probability, when it ran."""
        v = next((v for v in self.verdicts if v.check == "spam"), None)
        return v.score if v is not None and "n/a" not in v.reason and "skipped" not in v.reason else None

    def summary(self) -> str:
        """One line per flagged verdict: "spam: spam 0.97 ≥ 0.85: 'earn'"."""
        return "\n".join(f"{v.check}: {v.reason}" for v in self.flagged)


_RANKS = {s: i for i, s in enumerate(SEVERITIES)}


def _rank(severity: str) -> int:
    return _RANKS.get(severity, 0)


class Screener:
    """Runs the checks; settings come per call, so each group can differ."""

    def __init__(self, checks: Sequence[Check]) -> None:
        self.checks = list(checks)

    def screen(self, event: Event, window: GroupWindow, settings: Mapping[str, Any], trusted: bool = False) -> Screening:
        """Record `event` in `window` and judge it with every enabled check.

        `settings` maps a check's name to its settings instance (defaults when
        missing). Trusted members skip content checks, never the raid check.
        """
        if event.kind not in SCREENED or event.member_id is None:
            return Screening(event, trusted=trusted)
        if event.text and len(event.text) > MAX_CHARS:
            # Longer than any platform sends (an export, a crafted update): screened on its
            # start. Whole, a 10 MB text held the event loop for a minute (the classifier's
            # n-grams of one 10-million-character word).
            event = event.with_(text=event.text[:MAX_CHARS], key=event.key)
        out = Screening(event, trusted=trusted)
        ts = event.time.timestamp()
        raid: RaidSettings = settings.get("raid") or RaidSettings()
        m = window.member(event.member_id)
        text = event.text or ""
        norm = normalise(text) if text else ""
        sh, sig = HASHER.shingles_and_signature(norm)
        ctx = CheckContext(event, ts, norm, sh, m, window, signature=sig)
        if event.kind is EventKind.JOIN:
            if m.first_ts is None:
                m.first_ts = ts
            ctx.join_count, ctx.cluster = window.note_join(ts, event.member_id, raid.join_seconds, raid.joins)
        else:
            if event.kind is EventKind.MESSAGE:
                # Commands talk to the bot (its answers are rate-limited elsewhere); edits
                # are not new messages. Neither counts towards rates and flood.
                window.note_message(m, ts, text, event.link_count, len(event.mentions))
            if len(norm) >= raid.min_chars:
                ctx.cluster, ctx.similarity = window.cluster_for(ts, event.member_id, event.message_id, sh, sig, raid.similarity, raid.seconds)
        out.cluster = ctx.cluster
        for check in self.checks:
            if event.kind not in check.kinds:
                continue
            s = settings.get(check.name) or check.settings_cls()
            if not getattr(s, "enabled", True):
                continue
            if trusted and check.content:
                out.verdicts.append(Verdict(check.name, False, "skipped: trusted member"))
                continue
            out.verdicts.append(check.check(ctx, s))
        if event.kind is not EventKind.JOIN and sh:
            window.note_text(m, ts, sig)
        return out
