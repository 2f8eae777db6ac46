"""The policy: turns a screening (every check's verdict) into nothing, a flag and an
alert, or actions, per the group's mode — and writes what it did to the audit log.

Near-identical flagged messages share one flag (keyed by their near-duplicate cluster),
so a raid of fifty accounts is one alert whose count goes up, not fifty alerts.
"""

from __future__ import annotations

import json
import random
import time as _time
from datetime import timedelta
from typing import TYPE_CHECKING

from adapters.base import Action, ActionKind
from bot.mod_alerts import send_alert, update_alert
from bot.mod_engine import ModerationService, SpamEvent, TrustRecord
from scoring.checks import SEVERITIES
from scoring.screen import SCREENED, Screening
from scoring.textnorm import untrack
from storage.events import MESSAGE_KINDS, Event, EventKind

if TYPE_CHECKING:
    from bot.app import App
    from bot.pipeline import Turn


def rank(severity: str | None) -> int:
    """Order of a severity (unknown or None lowest)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


def verdict_dicts(sc: Screening) -> list[dict]:
    """Every verdict as plain data for the flag row and the audit log."""
    return [
        {"name": v.check, "flagged": v.flagged, "reason": v.reason, "severity": v.severity, "score": round(v.score, 4)}
        for v in sc.verdicts
    ]


def planned(event: Event, severity: str | None, mute_minutes: int, now) -> list[Action]:
    """What enforce mode does for one message: medium deletes and mutes, high deletes and bans."""
    r = rank(severity)
    if r < 1 or event.member_id is None:
        return []
    acts: list[Action] = []
    reason = f"moderation: {severity}"
    if event.message_id and event.kind is not EventKind.JOIN:
        acts.append(Action(ActionKind.DELETE, event.platform, event.group_id, event.member_id, event.message_id, event.channel_id, reason=reason))
    if r >= 2:
        acts.append(Action(ActionKind.BAN, event.platform, event.group_id, event.member_id, reason=reason))
    else:
        acts.append(Action(ActionKind.MUTE, event.platform, event.group_id, event.member_id, until=now + timedelta(minutes=mute_minutes), reason=reason))
    return acts


def describe(actions: list[Action]) -> str:
    """"delete, ban" for a list of actions (kinds, in order, once each)."""
    seen: list[str] = []
    for a in actions:
        if a.kind.value not in seen:
            seen.append(a.kind.value)
    return ", ".join(seen)


#: A member's flagged messages within this many seconds of the last one share one flag
#: (and one alert): a member flooding the group is one thing for moderators to decide.
MEMBER_FLAG_SECONDS = 600.0
#: Messages a flag lists (a Spam decision deletes these): a raid's last 500 members, a
#: member's last 100 flagged messages. The list is rewritten with each message that joins
#: the flag, and under a flood writing 500 entries was an eighth of the bot's time.
RAID_KEEP = 500
MEMBER_FLAG_KEEP = 100
#: Seconds the policy trusts its in-memory copy of a member's flag before reading it
#: again (a moderator's decision in this process drops the copy at once), less up to half
#: of it at random (`_fresh_until`).
MEMBER_FLAG_FRESH = 30.0


def _fresh_until() -> float:
    """The monotonic time a member's flag just kept in memory is next read again. Spread
    at random: a flood flags its members within a second or two, and read again all at
    once 30 s later, 500 flags were a burst of ~110 reads a second (a latency spike in
    `bench/load.py --workers 2 --timeline`, seconds 31-36)."""
    return _time.monotonic() + MEMBER_FLAG_FRESH * (1 - random.random() / 2)


def _members_json(caches: dict[int, tuple[list, list[str]]], flag_id: int, members: list) -> str:
    """`members` as the JSON the flag stores, built from the last call's for this flag: a
    flood's flag gains a message and loses its oldest on every message, and encoding (or
    even looking up) all hundred pairs each time was the policy's largest cost."""
    hit = caches.get(flag_id)
    n = len(members) - 1
    if hit is not None and n >= 0:
        prev, pieces = hit
        start = len(prev) - n
        # The usual change: the same pairs (the same objects: compared at C speed), the
        # oldest gone, one new pair at the end.
        if start >= 0 and prev[start:] == members[:n]:
            pieces = [*pieces[start:], _pair_json(members[-1])]
        else:
            pieces = [_pair_json(m) for m in members]
    else:
        if hit is None and len(caches) >= 2000:
            caches.clear()  # bounded: the flags of floods going on now come back at once
        pieces = [_pair_json(m) for m in members]
    caches[flag_id] = (members, pieces)
    return "[" + ", ".join(pieces) + "]"


def _pair_json(pair: tuple) -> str:
    return json.dumps(list(pair), ensure_ascii=False, default=str)


async def member_flag(svc: ModerationService, pk: int, member_id: str, ts: float) -> dict | None:
    """The member's recent undecided flag that a new flagged message joins, or None."""
    hit = svc.member_flags.get((pk, member_id))
    if hit is None:
        return None
    flag, until = hit
    if _time.monotonic() > until:
        flag = await svc.store.flag(flag["id"])
        if flag is not None:
            svc.member_flags[(pk, member_id)] = (flag, _fresh_until())
    if flag is None or flag["kind"] != "auto" or flag["status"] not in ("open", "acted") or flag.get("decided_by") \
            or ts - flag["updated_ts"] > MEMBER_FLAG_SECONDS:
        svc.member_flags.pop((pk, member_id), None)
        return None
    return flag


async def moderation_step(app: App, turn: Turn) -> None:
    """Pipeline step: screen every message, edit and join, then apply the policy."""
    e = turn.event
    if e.kind not in SCREENED or e.member_id is None:
        return
    svc: ModerationService = app.services["moderation"]
    await svc.ready()
    gs = await svc.settings(turn.group)
    await svc.member_window(turn.group, e)
    rec = await svc.trust_record(turn.group, e.member_id, e)
    trusted = await svc.is_trusted(turn.group, e.member_id, rec, gs.mod, e.time.timestamp())
    sc = svc.screener.screen(e, svc.window(turn.group.pk), gs.checks, trusted)
    turn.notes["moderation"] = sc
    app.metrics.count_verdicts(sc.verdicts)
    if not sc.flagged:
        if e.kind in MESSAGE_KINDS:
            await svc.note_clean(turn.group, e.member_id, rec)
        return
    await apply_policy(app, turn, sc, rec)


async def apply_policy(app: App, turn: Turn, sc: Screening, rec: TrustRecord) -> None:
    """Flag, alert and (in enforce mode) act on a screening with flagged verdicts."""
    svc: ModerationService = app.services["moderation"]
    e, group = turn.event, turn.group
    s = (await svc.settings(group)).mod
    pk = group.pk
    ts = e.time.timestamp()
    raid = sc.raid
    severity = sc.severity
    cluster = sc.cluster if (sc.cluster is not None and (raid is not None or e.kind is not EventKind.JOIN)) else None
    flag = None
    if cluster is not None and (pk, cluster.id) in svc.cluster_flags:
        flag = await svc.store.flag(svc.cluster_flags[(pk, cluster.id)])
    if flag is None and e.message_id and e.kind is EventKind.EDIT:
        # Only an edit can meet its own earlier flag; a new message has none yet.
        flag = await svc.store.flag_by_key(pk, f"msg:{e.message_id}")
    flagged_text = [f"{v.check}: {v.reason}" for v in sc.flagged]
    if flag is None and raid is None and rank(severity) < rank(s.alert_min_severity):
        # Below the alert line the policy does nothing (scan still shows the verdicts).
        return
    if flag is None and raid is None and e.kind is EventKind.MESSAGE:
        flag = await member_flag(svc, pk, e.member_id, ts)
    # Tuples, as `ModerationStore` reads them back; a flag keeps up to 100 (`untrack`).
    entry = untrack((e.member_id, e.message_id))
    # A raid's flag covers every member of the cluster, also those before it crossed the line.
    earlier = [(m, msg) for m, (msg, _) in cluster.members.items() if (m, msg) != entry] if raid and cluster else []
    raid_started = False
    created = False
    if flag is None:
        kind = ("joins" if raid.data.get("kind") == "joins" else "raid") if raid else "auto"
        key = f"raid:{cluster.id}" if raid and cluster else f"msg:{e.message_id}" if e.message_id else f"{e.kind.value}:{e.member_id}:{ts}"
        flag, created = await svc.store.create_flag(
            pk, key, ts, kind=kind, severity=severity or "low", member_id=e.member_id, message_id=e.message_id,
            channel_id=e.channel_id, text=(e.text or "")[:2000], score=sc.spam_probability(),
            verdicts=verdict_dicts(sc), count=len({m for m, _ in earlier} | {e.member_id}), members=[*earlier, entry],
        )
        raid_started = created and raid is not None
    else:
        if earlier or e.kind is EventKind.EDIT:
            members = [m for m in flag["members"] if m != entry]
            members += [m for m in earlier if m not in members]
        else:
            members = list(flag["members"])  # a new message cannot be in the list yet
        keep = MEMBER_FLAG_KEEP if raid is None and flag["kind"] == "auto" else RAID_KEEP
        members = members[-(keep - 1):] + [entry]
        upd: dict = {"members": members, "count": len({m[0] for m in members}), "updated_ts": ts}
        stored = {"members": _members_json(svc.flag_json, flag["id"], members)}
        if rank(severity) > rank(flag["severity"]):
            upd["severity"] = severity
        if raid is not None:
            upd["verdicts"] = verdict_dicts(sc)  # the latest count in the raid's reason
            if flag["kind"] not in ("raid", "joins"):
                upd["kind"] = "joins" if raid.data.get("kind") == "joins" else "raid"
                raid_started = True
        if e.kind is EventKind.EDIT and e.message_id == flag["message_id"]:
            upd["text"] = (e.text or "")[:2000]
            upd["verdicts"] = verdict_dicts(sc)
            upd["score"] = sc.spam_probability()
        await svc.store.update_flag(flag["id"], **{**upd, **stored})
        flag.update(upd)
    if cluster is not None:
        svc.cluster_flags[(pk, cluster.id)] = flag["id"]
    if raid is None and flag["kind"] == "auto" and e.kind is EventKind.MESSAGE:
        hit = svc.member_flags.get((pk, e.member_id))
        if hit is None or hit[0] is not flag:
            svc.member_flags[(pk, e.member_id)] = (flag, _fresh_until())
    now = app.clock.now()
    acts: list[Action] = []
    if flag["status"] == "spam" and s.mode != "observe":
        # Moderators already called this cluster spam: its new messages get the same.
        acts = planned(e, "high", s.mute_minutes, now)
    elif s.mode == "enforce" and flag["status"] in ("open", "acted"):
        acts = planned(e, flag["severity"] if raid else severity, s.mute_minutes, now)
        if raid_started:
            for mid, msg in flag["members"][:-1]:
                earlier = e.with_(member_id=mid, message_id=msg, kind=EventKind.MESSAGE if msg else EventKind.JOIN)
                acts += planned(earlier, "high", s.mute_minutes, now)
    if acts:
        turn.actions.extend(acts)
        if any(a.kind is ActionKind.DELETE and a.message_id == e.message_id for a in acts):
            turn.stop = True
        label = describe(acts)
        status = flag["status"] if flag["status"] == "spam" else "acted"
        await svc.store.update_flag(flag["id"], status=status, action=label)
        flag.update(status=status, action=label)
        if ActionKind.BAN in {a.kind for a in acts}:
            rec.spam += 1
            await svc.save_trust(pk, e.member_id, rec)
        for a in acts:
            if a.kind is ActionKind.DELETE:
                await svc.fire(svc.on_spam_confirmed, SpamEvent(group, a.member_id, a.message_id, flag["id"], "policy", ts))
    would = describe(planned(e, flag["severity"], s.mute_minutes, now)) if s.mode == "dry_run" else ""
    await app.store.audit(
        pk, "moderation", "acted" if acts else "flagged",
        {"flag": flag["id"], "member": e.member_id, "message": e.message_id, "mode": s.mode, "actions": describe(acts), "would": would, "verdicts": flagged_text},
    )
    if s.mode == "observe" or flag["status"] in ("ham", "dismissed"):
        return
    if created or (not flag.get("alert_message_id") and not flag.get("decided_by")):
        # A flag this message just created has no reports yet, and the event names its
        # author: under a flood, the two lookups were a tenth of the policy's time.
        known = {e.member_id: e.member_name} if e.member_name else None
        await send_alert(app, group, flag, s, turn.lang, would=would, reporters=[] if created else None, known=known)
    elif raid_started or e.kind is EventKind.EDIT or (flag["count"] % 5 == 0 and entry[0] != flag["member_id"]):
        await update_alert(app, group, flag, turn.lang, would=would)
