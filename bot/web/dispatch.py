"""Acting from the web exactly as from chat.

A dashboard decision is turned into the event the chat would have produced — a button
press ("mod:spam:12", "redeem:approve:3") or an admin command ("/event cancel 4") by the
signed-in admin in the group — and handed to the same `Router.dispatch` the pipeline
uses: the router checks admin rights on the platform, the feature's own handler decides,
and its actions and replies are delivered by the pipeline's `deliver`. So a moderation
decision on the web bans, trains the classifier and edits the alert exactly like the
button in chat.

Button acknowledgements meant only for the presser (private, ephemeral) are shown on the
page instead of being sent to the chat.
"""

from __future__ import annotations

import uuid

from fastapi import HTTPException

from adapters.base import Reply
from bot.pipeline import Turn
from storage.events import Event, EventKind


async def act_as_admin(page, *, payload: str | None = None, command: str | None = None, message_id: str | None = None) -> list[str]:
    """Run a button press (`payload`) or a command (`command`, with its slash) as the
    signed-in admin in the page's group; returns the texts meant for the admin."""
    app, group, session = page.app, page.group, page.session
    if group.platform not in app.adapters:
        # Without the platform nothing would be banned, announced or told: refuse
        # rather than record a decision that never happens.
        raise HTTPException(
            409, f"This dashboard runs without a connection to {group.platform} (communitybot web): "
            "decide this in the chat, or in the dashboard served by communitybot run.",
        )
    press = f"web:{uuid.uuid4().hex}"
    if payload is not None:
        kind, text, data = EventKind.BUTTON, "", {"payload": payload, "press_id": press, "source": "dashboard"}
    else:
        kind, text, data = EventKind.COMMAND, command or "", {"source": "dashboard"}
    event = Event(
        platform=group.platform, group_id=group.group_id, kind=kind, time=app.clock.now(),
        member_id=session.member_id, member_name=session.member_name, message_id=message_id,
        text=text, data=data, key=press, group_title=group.title,
    )
    lang = await app.language(group)
    replies, actions = await app.router.dispatch(app, event, group, lang)
    if command is not None:
        # A command's direct answer goes to whoever typed it: here, the page. Messages the
        # handler addresses to others (announcements, edits, private notes) still go out.
        mine = [r for r in replies if r.private_to in (None, session.member_id) and r.edit_message_id is None and not r.buttons]
    else:
        mine = [r for r in replies if _for_presser(r, session.member_id)]
    turn = Turn(event, group, lang, replies=[r for r in replies if all(r is not m for m in mine)], actions=actions)
    await app.pipeline.deliver(turn)
    # What the admin would have seen in chat: acknowledgements and replies to the group,
    # not edits of other messages or private notes to someone else.
    seen = [r.text for r in replies if r.edit_message_id is None and r.private_to in (None, session.member_id)]
    return seen + list(turn.errors)


def _for_presser(r: Reply, member_id: str) -> bool:
    return r.private_to == member_id and r.ephemeral
