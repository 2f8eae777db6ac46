"""The leaderboard kinds `/top` knows. Features add their own board:

    add_board(app, Board("points", render_points, windows=("7d", "30d", "all"),
                         help_key="top.board.points"))

`render(ctx, window)` returns the text (or a `Reply`) of the board for the window in
the chat. `render_merged(ctx, window, scope)`, if the board has one, renders it for
several chats of a community (`bot.communities.Scope`), linked accounts as one person.
The scoring feature registers "activity" and "influence" and owns the `/top` command,
which dispatches on the first argument that names a board.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.app import App
    from bot.commands import Ctx


@dataclass(frozen=True)
class Board:
    """One kind of leaderboard."""

    name: str
    render: Callable[[Ctx, str], Awaitable[Any]]
    windows: tuple[str, ...] = ("7d", "30d", "all")
    #: i18n key of a short description shown in /top's usage message.
    help_key: str = ""
    #: The board over several chats of a community: (ctx, window, scope) → text.
    render_merged: Callable[[Ctx, str, Any], Awaitable[Any]] | None = None


def boards(app: App) -> dict[str, Board]:
    """The app's boards by name, in registration order."""
    return app.services.setdefault("leaderboards", {})


def add_board(app: App, board: Board) -> None:
    """Register (or replace) a board kind."""
    if not board.name.isidentifier():
        raise ValueError(f"board name must be a single word, got {board.name!r}")
    boards(app)[board.name] = board


#: Words that pick a scope rather than a board or window: this chat, the whole
#: community, or one platform's chats of it.
SCOPES = ("here", "community", "telegram", "discord", "console")


def parse_top_args(
    app: App, args: list[str], default_board: str, default_window: str,
) -> tuple[Board, str, str | None]:
    """Pick the board, window and scope word (None if not given) from `/top`
    arguments in any order.

    Raises ValueError naming the argument it could not understand.
    """
    known = boards(app)
    board_name, window, scope = None, None, None
    for a in args:
        low = a.lower()
        if low in known and board_name is None:
            board_name = low
        elif low in ("7d", "30d", "90d", "all") and window is None:
            window = low
        elif low in SCOPES and scope is None:
            scope = low
        else:
            raise ValueError(a)
    board = known.get(board_name or default_board) or next(iter(known.values()))
    window = window or (default_window if default_window in board.windows else board.windows[0])
    if window not in board.windows:
        raise ValueError(window)
    return board, window, scope
