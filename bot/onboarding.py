"""Onboarding: welcome and rules, a join gate against bots (switched on by join raids),
warm-up resistance, and introductions of newcomers to members who share their interests.

Wiring only; the parts live beside it:

- `bot/onboarding_gate.py`: the gate (restrict → button or question → release or remove)
  and the raid gate that goes up by itself when many accounts join at once.
- `bot/onboarding_welcome.py`: welcome messages, /rules, /setwelcome, /setrules, /gate.
- `bot/onboarding_intro.py`: interest picks, suggestions, opt-in notices, /intro, /profile.
- `bot/onboarding_timers.py`: due timers on the injected clock (gate deadlines, deleting
  welcomes): `await app.services["onboarding"].run_due()` runs whatever is due now.
- `storage/onboarding.py`: the tables (migration 0007_onboarding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import onboarding_texts  # noqa: F401  (registers the texts)
from bot.config import register_section, setting

if TYPE_CHECKING:
    from bot.app import App
    from storage.store import GroupInfo

GATE_MODES = ("off", "button", "question")
FAILURES = ("kick", "ban")
#: Placeholders a welcome text may use.
PLACEHOLDERS = ("name", "mention", "group", "rules")
#: Tags offered when neither this section nor scoring's taxonomy names any.
DEFAULT_TAGS = ["programming", "data", "ai", "design", "career", "product", "writing"]


@dataclass
class OnboardingSettings:
    """Welcome, rules, the join gate and introductions."""

    welcome: bool = setting(True, "Greet each newcomer (after the gate, when it is on).")
    welcome_text: str = setting("", "Welcome text with {name}, {mention}, {group}, {rules}; empty: the built-in text in the group's language.")
    rules_text: str = setting("", "The group's rules, shown by /rules and in the welcome's {rules}.")
    welcome_delete_minutes: float = setting(10.0, "Delete the welcome (and the newcomer's suggestions) after this many minutes; 0 keeps them.")
    gate: str = setting("off", "Join gate: off, button (press to prove you are a person) or question (pick the sum).")
    gate_minutes: float = setting(3.0, "Time a newcomer has to pass the gate before being removed.")
    gate_attempts: int = setting(2, "Wrong answers (question mode) before the newcomer is removed.")
    gate_failure: str = setting("kick", "What happens on failure or timeout: kick (may rejoin) or ban.")
    raid_gate: str = setting("question", "Gate mode a join raid switches on by itself (off: never).")
    raid_gate_minutes: float = setting(30.0, "How long the raid gate stays on after the last raid join.")
    raid_gate_recent: bool = setting(True, "Also gate the raid's own accounts that joined in the raid window before the gate went up.")
    raid_joins: int = setting(10, "Joins within raid_seconds that make a raid (moderation's [check_raid] joins/join_seconds win when installed).")
    raid_seconds: float = setting(60.0, "Window of the join-raid count in seconds.")
    warmup_messages: int = setting(5, "A newcomer's first messages after the gate that stay under moderation's newcomer check.")
    intro: bool = setting(True, "Ask newcomers what brought them (interest tags) and suggest people, channels, events.")
    intro_tags: list[str] = setting([], "Interest tags offered to newcomers; empty: scoring's taxonomy tags, else a built-in list.")
    intro_suggestions: int = setting(3, "How many members, channels or events to suggest (2-3 reads best).")
    intro_active_days: float = setting(30.0, "Only members who wrote within this many days are suggested.")
    intro_notify: bool = setting(True, "Tell suggested members who opted in (/intro on) that a newcomer shares their interest.")
    intro_suggest_default: bool = setting(True, "Members who never chose /intro on or off may be suggested (never told).")
    intro_prior_messages: float = setting(5.0, "/profile: a newcomer's picks weigh as much as this many tagged messages, then behaviour takes over.")
    tick_seconds: float = setting(5.0, "How often the running bot checks for due gates and welcomes to delete.")

    def check(self) -> str | None:
        """Name the first bad value."""
        if self.gate not in GATE_MODES:
            return f"gate must be one of {', '.join(GATE_MODES)}, got {self.gate!r}"
        if self.raid_gate not in GATE_MODES:
            return f"raid_gate must be one of {', '.join(GATE_MODES)}, got {self.raid_gate!r}"
        if self.gate_failure not in FAILURES:
            return f"gate_failure must be kick or ban, got {self.gate_failure!r}"
        if self.gate_minutes <= 0:
            return f"gate_minutes must be positive, got {self.gate_minutes}"
        if self.gate_attempts < 1:
            return f"gate_attempts must be at least 1, got {self.gate_attempts}"
        if self.welcome_delete_minutes < 0 or self.raid_gate_minutes < 0:
            return "welcome_delete_minutes and raid_gate_minutes must not be negative"
        if self.raid_joins < 2 or self.raid_seconds <= 0:
            return "raid_joins must be at least 2 and raid_seconds positive"
        if not 1 <= self.intro_suggestions <= 10:
            return f"intro_suggestions must be 1-10, got {self.intro_suggestions}"
        if self.tick_seconds <= 0:
            return f"tick_seconds must be positive, got {self.tick_seconds}"
        bad = unknown_placeholder(self.welcome_text)
        if bad:
            return f"welcome_text: unknown placeholder {{{bad}}} (use {', '.join('{' + p + '}' for p in PLACEHOLDERS)})"
        return None


register_section("onboarding", OnboardingSettings)


def unknown_placeholder(text: str) -> str | None:
    """The first {placeholder} in `text` that a welcome may not use, or None."""
    import string

    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text or "") if f is not None]
    except ValueError:
        return "…"  # an unbalanced brace
    for f in fields:
        if f not in PLACEHOLDERS:
            return f
    return None


def install(app: App) -> None:
    """Register onboarding's service, pipeline steps, commands and buttons."""
    from bot.onboarding_gate import gate_step, on_gate_button, warmup_step
    from bot.onboarding_intro import register as register_intro
    from bot.onboarding_timers import OnboardingService
    from bot.onboarding_welcome import register as register_welcome

    svc = OnboardingService(app)
    app.services["onboarding"] = svc
    names = [n for n, _ in app.pipeline.steps]
    # Warm-up must adjust moderation's view of the newcomer before moderation screens.
    app.pipeline.add_step("onboarding_warmup", warmup_step, before="moderation" if "moderation" in names else "commands")
    app.pipeline.add_step("onboarding", gate_step)
    app.router.button("gate")(on_gate_button)
    register_welcome(app)
    register_intro(app)
    app.on_start.append(svc.start)
    app.on_stop.append(svc.stop)


async def demo(app: App, group: GroupInfo, out) -> None:
    """The sample community's newcomers are welcomed and its raid of accounts fails the gate."""
    from bot.onboarding_demo import demo as _demo

    await _demo(app, group, out)
