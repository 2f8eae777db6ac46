"""A terminal chat: each line typed is a message from the current member, through the
same pipeline as Telegram and Discord; the bot's replies are printed.

Console-only commands: `/as NAME` switches member, `/press N` presses button N of the
bot's last message with buttons, `/quit` leaves. Images and files the bot sends are
saved under `files_dir` and their paths printed.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from adapters.base import Action, Button, EventSink, Reply, Sent
from storage.events import Event, EventKind, command_name, count_links

PLATFORM = "console"


def slug(title: str) -> str:
    """A stable group id from a group title ("Course 101" → "course-101")."""
    s = re.sub(r"[^\w]+", "-", title.strip().lower(), flags=re.UNICODE).strip("-")
    return s or "console"


class ConsoleAdapter:
    """Reads lines from `stdin`, writes replies to `stdout`.

    `admin_check(group_id, member_id)` decides who is an admin (the bot wires it to the
    roles in the store: the first member of a new console group is its owner).
    """

    platform = PLATFORM

    def __init__(
        self,
        group_title: str,
        member: str,
        admin_check: Callable[[str, str], Awaitable[bool]],
        stdin: IO[str] | None = None,
        stdout: IO[str] | None = None,
        files_dir: Path | None = None,
    ) -> None:
        self.group_title = group_title
        self.group_id = slug(group_title)
        self.member = member
        self.admin_check = admin_check
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.files_dir = files_dir or Path("console-files")
        self.sink: EventSink | None = None
        self._last_buttons: list[Button] = []
        self._next_id = int(time.time() * 1000)
        self.done = asyncio.Event()
        self._task: asyncio.Task | None = None

    def _id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _print(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    async def start(self, sink: EventSink) -> None:
        """Start reading lines in the background."""
        self.sink = sink
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop reading."""
        if self._task and not self._task.done():
            self._task.cancel()
        self.done.set()

    async def _readline(self) -> str | None:
        line = await asyncio.get_running_loop().run_in_executor(None, self.stdin.readline)
        return None if line == "" else line.rstrip("\r\n")

    async def _loop(self) -> None:
        try:
            while True:
                line = await self._readline()
                if line is None:
                    break
                if not await self.handle_line(line):
                    break
        finally:
            self.done.set()

    async def handle_line(self, line: str) -> bool:
        """Process one typed line; False when the member asked to quit."""
        line = line.strip()
        if not line:
            return True
        head = line.split(maxsplit=1)
        if head[0] == "/quit":
            self._print("bye")
            return False
        if head[0] == "/as":
            if len(head) < 2 or not head[1].strip():
                self._print("usage: /as NAME")
            else:
                self.member = head[1].strip()
                self._print(f"(you are now {self.member})")
            return True
        if head[0] == "/press":
            await self._press(head[1] if len(head) > 1 else "")
            return True
        assert self.sink is not None
        kind = EventKind.COMMAND if command_name(line) else EventKind.MESSAGE
        await self.sink(self._event(kind, text=line, message_id=self._id(), link_count=count_links(line)))
        return True

    def _event(self, kind: EventKind, **kw) -> Event:
        return Event(
            platform=PLATFORM,
            group_id=self.group_id,
            group_title=self.group_title,
            kind=kind,
            time=datetime.now(UTC),
            member_id=self.member,
            member_name=self.member,
            **kw,
        )

    async def _press(self, arg: str) -> None:
        if not self._last_buttons:
            self._print("(no buttons to press)")
            return
        try:
            button = self._last_buttons[int(arg) - 1]
        except (ValueError, IndexError):
            self._print(f"usage: /press N with N from 1 to {len(self._last_buttons)}")
            return
        assert self.sink is not None
        await self.sink(self._event(EventKind.BUTTON, data={"payload": button.data, "press_id": self._id()}))

    async def send(self, reply: Reply) -> Sent:
        """Print the reply (saving images and files)."""
        mid = self._id()
        prefix = "bot"
        if reply.private_to:
            prefix = f"bot → {reply.private_to} (private)"
        if reply.edit_message_id:
            prefix += " (edited)"
        self._print(f"{prefix}: {reply.text}")
        for payload, name in ((reply.image, f"{mid}.png"), (reply.file[1] if reply.file else None, reply.file[0] if reply.file else "")):
            if payload:
                self.files_dir.mkdir(parents=True, exist_ok=True)
                p = self.files_dir / f"{mid}-{Path(name).name}"
                p.write_bytes(payload)
                self._print(f"     [saved {p}]")
        if reply.buttons:
            flat = [b for row in reply.buttons for b in row]
            self._last_buttons = flat
            self._print("     " + "  ".join(f"[{i}] {b.text}" for i, b in enumerate(flat, 1)) + "   (/press N)")
        return Sent(mid)

    async def act(self, action: Action) -> bool:
        """Print what would happen on a real platform."""
        target = action.member_id or action.message_id
        until = f" until {action.until:%Y-%m-%d %H:%M} UTC" if action.until else ""
        self._print(f"     (action: {action.kind.value} {target}{until}{' — ' + action.reason if action.reason else ''})")
        return True

    async def is_admin(self, group_id: str, member_id: str) -> bool:
        """Asks the bot's role records (see `admin_check`)."""
        return await self.admin_check(group_id, member_id)
