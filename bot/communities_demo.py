"""The demo's "links" section: the sample Telegram group and a Discord server configured
as one community; a member links her two accounts, and both platforms then show one
leaderboard and one points balance. Discord messages go through the real pipeline (a
FakeAdapter named "discord" records what the bot sends there); commands go through the
real router."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import TYPE_CHECKING

from rich.markup import escape

from adapters.fake import FakeAdapter
from bot.config_groups import CommunityConfig
from storage.events import Event, EventKind

if TYPE_CHECKING:
    from bot.app import App
    from storage.store import GroupInfo

SERVER = "1300000000000000001"
#: Discord-only members of the sample community, and what they write there.
DISCORD_PEOPLE = {
    "1300000000000000101": ("kai_dev", ["Pushed my capstone notebook, feedback welcome", "The pandas groupby trick from week 3 saved me",
                                        "Anyone pairing on the SQL exercise tonight?", "Voice room is open for the study session",
                                        "Found a cleaner way to do the train/test split", "Reading group on Thursday, who's in?"]),
    "1300000000000000102": ("mira.design", ["Here is my dashboard mock-up for the final project", "Colour palette question: too many blues?"]),
}


async def demo(app: App, group: GroupInfo, out) -> None:
    """See the module docstring."""
    from bot import links

    first = [e for e in await app.store.events(group.pk, kinds=[EventKind.MESSAGE], limit=50) if not e.is_bot]
    if not first:
        return
    member, name = first[0].member_id or "", first[0].member_name or first[0].member_id or ""
    her_discord = "1300000000000000042"
    saved = list(app.config.communities)
    title = group.title.split(" · ")[0] + " community"
    app.config.communities[:] = [CommunityConfig("course", title, [(group.platform, group.group_id), ("discord", SERVER)])]
    recorder = None
    if "discord" not in app.adapters:
        recorder = FakeAdapter("discord")
        app.add_adapter(recorder)
        await recorder.start(app.handle)
    ids = itertools.count(1)
    try:
        out.print(escape(f'config.toml: [[communities]] id = "course", title = "{title}", '
                         f'telegram = ["{group.group_id}"], discord = ["{SERVER}"]'))
        start = app.clock.now() - timedelta(hours=2)
        for mid, (nick, texts) in [*DISCORD_PEOPLE.items(), (her_discord, ("maria_l", [
            "Hi all, I'm on Discord too now!", "Sharing the capstone rubric in #resources",
            "Office hours moved to the voice room on Friday", "Great questions today, keep them coming"]))]:
            for i, text in enumerate(texts):
                await app.handle(Event("discord", SERVER, EventKind.MESSAGE, start + timedelta(minutes=10 * i), member_id=mid,
                                       member_name=nick, group_title=f"{group.title} (Discord)",
                                       message_id=f"demo-dc-{next(ids)}", text=text))
        out.print(f"{len(DISCORD_PEOPLE) + 1} members wrote on the Discord server; one of them is {escape(first[0].member_name or '')} "
                  "from the Telegram group, under another name.")
        discord = await app.store.group("discord", SERVER)

        async def say(g, who: str, who_name: str, text: str) -> str:
            e = Event(g.platform, g.group_id, EventKind.COMMAND, app.clock.now(), member_id=who, member_name=who_name,
                      message_id=f"demo-cmd-{next(ids)}", text=text)
            replies, _ = await app.router.dispatch(app, e, g, await app.language(g))
            where = "Telegram" if g.platform == "telegram" else "Discord"
            out.print(f"[yellow]{escape(who_name)}[/yellow] on {where}: {escape(text)}")
            for r in replies:
                shown = escape(r.text).replace("\n", "\n    ")
                out.print(("  bot (privately): " if r.private_to or r.ephemeral else "  bot: ") + shown)
            return "\n".join(r.text for r in replies)

        await say(discord, "1300000000000000101", "kai_dev", "/top points all")
        code_text = await say(group, member, name, "/link")
        code = code_text.split("code is ", 1)[1].split(".", 1)[0] if "code is " in code_text else ""
        await say(discord, her_discord, "maria_l", f"/link {code}")
        await say(discord, "1300000000000000101", "kai_dev", "/top points all")
        await say(group, member, name, "/points")
        person = await links.links(app).person_id("discord", her_discord)
        out.print(f"Both of {escape(name)}'s accounts are now person {person}: one line on the board, one balance.")
    finally:
        app.config.communities[:] = saved
        if recorder is not None:
            await recorder.stop()
            app.adapters.pop("discord", None)
