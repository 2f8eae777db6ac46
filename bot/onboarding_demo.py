"""The demo's onboarding part: the sample community's last newcomers are welcomed and
introduced, and its raid of accounts meets the join gate and fails it.

The imported history already holds those joins, so they are replayed through the real
onboarding steps, buttons and timers (not stored again) on a fake clock set to the time
each join happened, with an in-memory adapter recording what the bot would say and do.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING

from adapters.base import ActionKind
from adapters.fake import FakeAdapter
from bot.clock import FakeClock
from bot.onboarding_gate import gate_step, raid_thresholds, warmup_step
from bot.onboarding_intro import tags_for
from bot.onboarding_sources import scoring_member_tags
from bot.pipeline import Turn
from storage.events import Event, EventKind

if TYPE_CHECKING:
    from bot.app import App
    from storage.store import GroupInfo


def find_raid(joins: list[Event], size: int, seconds: float) -> list[Event]:
    """The largest run of joins with at least `size` inside any `seconds` window."""
    best: list[Event] = []
    j = 0
    for i in range(len(joins)):
        while joins[i].time - joins[j].time > timedelta(seconds=seconds):
            j += 1
        if i - j + 1 >= size:
            # extend the run while joins keep coming within the window of the previous one
            k = i
            while k + 1 < len(joins) and joins[k + 1].time - joins[k].time <= timedelta(seconds=seconds):
                k += 1
            run = joins[j : k + 1]
            if len(run) > len(best):
                best = run
    return best


async def _replay(app: App, group: GroupInfo, event: Event) -> None:
    turn = Turn(event, group, await app.language(group))
    await warmup_step(app, turn)
    await gate_step(app, turn)
    await app.pipeline.deliver(turn)


async def _press(app: App, group: GroupInfo, member: Event, payload: str, message_id: str | None) -> None:
    e = Event(platform=group.platform, group_id=group.group_id, kind=EventKind.BUTTON, time=app.clock.now(),
              member_id=member.member_id, member_name=member.member_name, message_id=message_id,
              data={"payload": payload, "press_id": f"demo-{payload}"})
    replies, actions = await app.router.dispatch(app, e, group, await app.language(group))
    turn = Turn(e, group, await app.language(group), replies=replies, actions=actions)
    await app.pipeline.deliver(turn)


async def demo(app: App, group: GroupInfo, out) -> None:
    """See the module docstring."""
    from rich.panel import Panel
    from rich.table import Table

    joins = [e for e in await app.store.events(group.pk, kinds=[EventKind.JOIN]) if e.member_id and not e.is_bot]
    if not joins:
        out.print("No joins in this group's history: nothing to replay.")
        return
    svc = app.services["onboarding"]
    s = await svc.settings(group)
    size, seconds = await raid_thresholds(app, group, s)
    raid = find_raid(joins, size, seconds)
    raid_ids = {e.member_id for e in raid}
    msgs = Counter(e.member_id for e in await app.store.events(group.pk, kinds=[EventKind.MESSAGE]))
    newcomers = [e for e in joins if e.member_id not in raid_ids and msgs[e.member_id] >= 3][-3:]
    saved_clock, saved_adapter = app.clock, app.adapters.get(group.platform)
    fake = FakeAdapter(group.platform)
    app.adapters[group.platform] = fake
    try:
        tags = await tags_for(app, group, s)
        learned = await scoring_member_tags(app, group)
        # A newcomer whose own messages name no tag picks what the group talks about most.
        counts = Counter(t for shares in learned.values() for t in shares if t in tags)
        popular = [t for t, _ in counts.most_common()] + [t for t in tags if t not in counts]
        out.print(f"Replaying {len(newcomers)} newcomers' joins and the raid of {len(raid)} accounts through onboarding "
                  f"(gate: {s.gate}; a join raid switches on the {s.raid_gate} gate for {s.raid_gate_minutes:g} min).")
        for e in newcomers:
            app.clock = FakeClock(e.time)
            start = len(fake.sent)
            await _replay(app, group, e)
            if len(fake.sent) == start:
                continue
            welcome, wid = fake.sent[start], fake.sent_ids[start]
            mine = [t for t, _ in sorted(learned.get(e.member_id, {}).items(), key=lambda x: -x[1]) if t in tags][:2] or popular[:1]
            app.clock.advance(40)
            for t in mine:
                await _press(app, group, e, f"intro:w:{e.member_id}:{t}", wid)
            await _press(app, group, e, f"intro:w:{e.member_id}:=done", wid)
            shown = [welcome.text] + [r.text for r in fake.sent[start + 1 :] if not r.edit_message_id and not r.ephemeral]
            out.print(Panel("\n\n".join(shown), title=f"{e.time:%Y-%m-%d %H:%M} {e.member_name or e.member_id} joins, picks {', '.join(mine)}"))
        if raid:
            start_sent, start_act = len(fake.sent), len(fake.actions)
            for e in raid:
                app.clock = FakeClock(e.time)
                await _replay(app, group, e)
            alerts = [r.text for r in fake.sent[start_sent:] if not r.buttons and "🚪" in r.text]
            for text in alerts:
                out.print(Panel(text, title="to the moderators (once)"))
            gate_msgs = [r for r in fake.sent[start_sent:] if r.buttons and r.buttons[0][0].data.startswith("gate:")]
            if gate_msgs:
                out.print(Panel(gate_msgs[0].text + "\n\n" + "  ".join(f"[{b.text}]" for b in gate_msgs[0].buttons[0]),
                                title=f"gate message ({len(gate_msgs)} posted for {len(raid)} accounts)"))
            app.clock.advance(s.gate_minutes * 60 + 1)
            await svc.run_due()
            acts = fake.actions[start_act:]
            table = Table(title="The raid at the gate")
            for col in ("account", "joined", "restricted", "outcome"):
                table.add_column(col)
            gates = {g["member_id"]: g for g in await svc.store.gates(group.pk)}
            for e in raid:
                did = [a.kind.value for a in acts if a.member_id == e.member_id]
                g = gates.get(e.member_id)
                table.add_row(e.member_name or e.member_id, f"{e.time:%H:%M:%S}", "yes" if "mute" in did else "no",
                              f"{g['status']} → {', '.join(k for k in did if k != 'mute')}" if g else "not gated")
            out.print(table)
            removed = sum(1 for a in acts if a.kind in (ActionKind.KICK, ActionKind.BAN))
            gate_ids = {g["message_id"] for g in gates.values() if g["member_id"] in raid_ids}
            deleted = sum(1 for a in acts if a.kind is ActionKind.DELETE and a.message_id in gate_ids)
            welcomes = sum(1 for r in fake.sent[start_sent:] if r.buttons and r.buttons[0][0].data.startswith("intro:"))
            out.print(f"{removed} of {len(raid)} raid accounts failed the gate and were removed; the gate message was deleted "
                      f"afterwards ({deleted} deletion), and the {welcomes} welcomes sent before the gate went up were deleted when it did.")
    finally:
        app.clock = saved_clock
        if saved_adapter is not None:
            app.adapters[group.platform] = saved_adapter
        else:
            app.adapters.pop(group.platform, None)
