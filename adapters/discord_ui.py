"""Outgoing pieces for Discord: persistent buttons, mention rules, message splitting.

Buttons carry the neutral payload in their `custom_id` ("cb:" + payload) and are
matched by one `DynamicItem` class registered on the client at start, so a button on
an alert posted last week still answers after the bot restarts: nothing about a
button lives in memory.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from adapters.base import Button

if TYPE_CHECKING:
    from adapters.discord import DiscordAdapter

#: Discord's limits: 2000 characters a message, 100 a custom_id, 80 a button label,
#: 5 buttons a row, 5 rows a message.
MAX_TEXT = 2000
MAX_CUSTOM_ID = 100
MAX_LABEL = 80
PREFIX = "cb:"

MENTION_KINDS = ("users", "roles", "everyone", "replied_user")


class CommunityClient(discord.Client):
    """The discord.py client the adapter runs; it knows its adapter so that persistent
    buttons (which discord.py rebuilds from their custom_id) can find it."""

    def __init__(self, adapter: DiscordAdapter, **kw) -> None:
        super().__init__(**kw)
        self.adapter = adapter

    async def setup_hook(self) -> None:
        """Register the persistent button handler before the gateway connects."""
        self.add_dynamic_items(PayloadButton)


class PayloadButton(discord.ui.DynamicItem[discord.ui.Button], template=r"cb:(?P<payload>.+)"):
    """A button whose press becomes a BUTTON event with `data["payload"]`."""

    def __init__(self, payload: str, label: str = "•", style: discord.ButtonStyle = discord.ButtonStyle.secondary) -> None:
        super().__init__(discord.ui.Button(label=label[:MAX_LABEL] or "•", style=style, custom_id=custom_id(payload)))
        self.payload = payload

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /):
        """Rebuild the button from a press on any message, old or new."""
        return cls(match["payload"], item.label or "•", item.style)

    async def callback(self, interaction: discord.Interaction) -> None:
        """Hand the press to the adapter (which answers the interaction)."""
        client = interaction.client
        if isinstance(client, CommunityClient):
            await client.adapter._on_button(interaction, self.payload)


def custom_id(payload: str) -> str:
    """The custom_id for a payload; a clear error when Discord's 100 characters are too few."""
    cid = PREFIX + payload
    if len(cid) > MAX_CUSTOM_ID:
        raise ValueError(
            f"button payload {payload[:40]!r}… is {len(payload)} characters; Discord allows "
            f"{MAX_CUSTOM_ID - len(PREFIX)} (keep payloads short: ids, not texts)"
        )
    return cid


def _style(button: Button) -> discord.ButtonStyle:
    # Destructive moderator choices stand out; everything else stays quiet.
    low = button.data.lower()
    if any(w in low for w in (":ban", ":spam", ":delete")):
        return discord.ButtonStyle.danger
    if any(w in low for w in (":ok", ":ham", ":keep", ":approve")):
        return discord.ButtonStyle.success
    return discord.ButtonStyle.secondary


def build_view(rows: Sequence[Sequence[Button]]) -> discord.ui.View | None:
    """A persistent (timeout-less) view with the reply's buttons, row by row."""
    if not rows:
        return None
    view = discord.ui.View(timeout=None)
    for r, row in enumerate(rows[:5]):
        for b in row[:5]:
            item = PayloadButton(b.data, b.text, _style(b))
            item.item.row = r
            view.add_item(item)
    return view


def allowed_mentions(kinds: Sequence[str]) -> discord.AllowedMentions:
    """Mentions the bot may ping: only the kinds configured (never @everyone by default)."""
    k = set(kinds)
    return discord.AllowedMentions(
        everyone="everyone" in k,
        roles="roles" in k,
        users="users" in k,
        replied_user="replied_user" in k,
    )


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split long text at line breaks (or hard, for one huge line) into sendable parts."""
    text = text or ""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    cur = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if cur:
                parts.append(cur)
                cur = ""
            parts.append(line[:limit])
            line = line[limit:]
        if len(cur) + len(line) > limit:
            parts.append(cur)
            cur = ""
        cur += line
    if cur:
        parts.append(cur)
    return [p.rstrip("\n") or "…" for p in parts]


def files_of(image: bytes | None, file: tuple[str, bytes] | None) -> list[discord.File]:
    """discord.File objects for a reply's chart and document."""
    out = []
    if image:
        out.append(discord.File(io.BytesIO(image), filename="chart.png"))
    if file:
        out.append(discord.File(io.BytesIO(file[1]), filename=file[0]))
    return out
