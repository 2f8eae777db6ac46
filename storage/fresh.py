"""Groups this process has just created, while their first turn runs.

A group's first event creates its row; until a turn of that group finishes its steps,
nothing else about the group can be committed (the turn's writes wait for its barrier),
so a first-sight read of the group (settings, trust, onboarding, points) would find
nothing. Those reads answer "nothing" at once instead: under a cold start every group is
new at once, and its reads were a third of a new group's cost.

Only the turn that created the group (and what it awaits) sees it as fresh: the mark is
a context variable, and it ends for every context when any turn of the group finishes
its steps, so a task started in that turn and running later reads as usual.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

_TURN: ContextVar[tuple[int, int] | None] = ContextVar("communitybot_fresh_group", default=None)
_OPEN: set[tuple[int, int]] = set()


def begin(engine: Any, group_pk: int) -> Token:
    """Mark the group fresh for the current turn (call `end` and `reset` when it ends)."""
    key = (id(engine), group_pk)
    _OPEN.add(key)
    return _TURN.set(key)


def end(engine: Any, group_pk: int) -> None:
    """A turn of the group finished its steps: its writes may commit from now on."""
    _OPEN.discard((id(engine), group_pk))


def reset(token: Token) -> None:
    """Undo `begin`'s mark in the current context."""
    _TURN.reset(token)


def unread(engine: Any, group_pk: int) -> bool:
    """True when nothing about the group can be committed on `engine` yet."""
    key = _TURN.get()
    return key is not None and key == (id(engine), group_pk) and key in _OPEN
