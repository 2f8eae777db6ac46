"""Member data rights in the store: the opt-out table, a member's export, forgetting a
member, and the retention purge of old texts.

Every table that names a member lives in some feature's module; this one reads and
rewrites them all, so a new table with a member column must be added here too (the
privacy tests enumerate the schema and fail on an unknown member column).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from storage.agenda import CommunityEvent, Rsvp
from storage.dashboard import FeedbackItem, LoginToken, WebSession
from storage.ledger import LedgerEntry
from storage.links import LinkCode, PersonLink
from storage.models import Base, EventRow, GroupMember, Member
from storage.moderation import ModFlag, ModReport, ModTrust, ModWarning
from storage.onboarding import OnbGate, OnbMember
from storage.rewards import Redemption, Reward
from storage.scoring_log import RecommendationRow

#: Pseudonyms start with this; boards never show such an id.
ANON = "anon:"

#: (table, column) pairs holding a member id, for the schema test: every member-id
#: column of the schema must be either handled by `forget` or listed as deliberately kept.
HANDLED_COLUMNS = {
    ("events", "member_id"), ("events", "target_member_id"), ("events", "mentions"),
    ("group_members", "member_id"), ("members", "member_id"),
    ("points_ledger", "member_id"), ("points_ledger", "actor"),
    ("redemptions", "member_id"), ("redemptions", "decided_by"),
    ("event_rsvps", "member_id"), ("community_events", "created_by"),
    ("recommendations", "member_id"), ("mod_reports", "reporter_id"),
    ("mod_warnings", "member_id"), ("mod_warnings", "by_member"),
    ("mod_flags", "member_id"), ("mod_flags", "members"), ("mod_flags", "decided_by"),
    ("mod_trust", "member_id"), ("person_links", "member_id"), ("link_codes", "member_id"),
    ("privacy_optout", "member_id"),
    ("feedback_items", "member_id"), ("feedback_items", "member_name"), ("feedback_items", "answered_by"),
    ("web_login_tokens", "member_id"), ("web_login_tokens", "member_name"),
    ("web_sessions", "member_id"), ("web_sessions", "member_name"),
    ("onb_gates", "member_id"), ("onb_members", "member_id"),
}


class OptOut(Base):
    """A member who asked to be left off public leaderboards and reports."""

    __tablename__ = "privacy_optout"
    __table_args__ = (UniqueConstraint("group_pk", "member_id", name="uq_privacy_optout_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[str] = mapped_column(String(64))
    ts: Mapped[float] = mapped_column(Float)


@dataclass
class ForgetResult:
    """What `forget` changed and what it kept for moderation."""

    pseudonym: str
    changed: dict[str, int] = field(default_factory=dict)
    #: Moderation records still naming the member: open flags, bans, warnings.
    kept_flags: int = 0
    kept_warnings: int = 0
    banned: bool = False
    kept_trust: bool = False


def _plain(row: Any, drop: tuple[str, ...] = ("group_pk",)) -> dict[str, Any]:
    return {k: v for k, v in dict(row._mapping).items() if k not in drop}


class PrivacyStore:
    """Privacy queries through the store's engine."""

    def __init__(self, store) -> None:
        self.store = store

    @property
    def engine(self):
        """The store's engine."""
        return self.store.engine

    # -- opt-out ----------------------------------------------------------------
    async def hidden(self, group_pk: int) -> set[str]:
        """Member ids of the group that opted out of public boards."""
        t = OptOut.__table__
        async with self.engine.connect() as conn:
            return {m for (m,) in await conn.execute(select(t.c.member_id).where(t.c.group_pk == group_pk))}

    async def set_optout(self, group_pk: int, member_id: str, on: bool, now: float) -> bool:
        """Opt the member out (on) or back in; returns whether anything changed."""
        t = OptOut.__table__
        async with self.engine.begin() as conn:
            if on:
                res = await conn.execute(
                    self.store._insert(t).values(group_pk=group_pk, member_id=member_id, ts=now).on_conflict_do_nothing()
                )
            else:
                res = await conn.execute(delete(t).where(t.c.group_pk == group_pk, t.c.member_id == member_id))
            return bool(res.rowcount)

    # -- export -----------------------------------------------------------------
    async def export(self, group_pk: int, platform: str, member_id: str) -> dict[str, Any]:
        """Everything the group's tables hold about the member, JSON-friendly."""
        m = member_id
        ev, led, red, rw = EventRow.__table__, LedgerEntry.__table__, Redemption.__table__, Reward.__table__
        rs, ce = Rsvp.__table__, CommunityEvent.__table__
        fl, wa, rp, tr = ModFlag.__table__, ModWarning.__table__, ModReport.__table__, ModTrust.__table__
        rec, pl, mem, gm = RecommendationRow.__table__, PersonLink.__table__, Member.__table__, GroupMember.__table__
        out: dict[str, Any] = {}
        async with self.engine.connect() as conn:
            async def rows(q, drop=("group_pk", "id")) -> list[dict]:
                return [_plain(r, drop) for r in await conn.execute(q)]

            prof = await rows(select(mem.c.platform, mem.c.member_id, mem.c.name, mem.c.username, mem.c.is_bot)
                              .where(mem.c.platform == platform, mem.c.member_id == m))
            standing = await rows(select(gm.c.role, gm.c.first_ts).where(gm.c.group_pk == group_pk, gm.c.member_id == m))
            out["member"] = {**(prof[0] if prof else {"platform": platform, "member_id": m}),
                             **(standing[0] if standing else {})}
            cols = [c for c in ev.c if c.name not in ("id", "group_pk", "key")]
            out["events"] = await rows(select(*cols).where(ev.c.group_pk == group_pk, ev.c.member_id == m).order_by(ev.c.ts, ev.c.id))
            out["points_ledger"] = await rows(select(led).where(led.c.group_pk == group_pk, led.c.member_id == m).order_by(led.c.ts, led.c.id))
            out["redemptions"] = await rows(
                select(red, rw.c.name.label("reward")).join(rw, rw.c.id == red.c.reward_id)
                .where(red.c.group_pk == group_pk, red.c.member_id == m).order_by(red.c.ts)
            )
            out["rsvps"] = await rows(
                select(rs.c.status, rs.c.remind, rs.c.ts, ce.c.title.label("event"), ce.c.start_ts)
                .join(ce, ce.c.id == rs.c.event_id).where(ce.c.group_pk == group_pk, rs.c.member_id == m)
            )
            out["events_created"] = await rows(select(ce.c.title, ce.c.start_ts, ce.c.created_ts)
                                               .where(ce.c.group_pk == group_pk, ce.c.created_by == m))
            flags = await rows(select(fl).where(fl.c.group_pk == group_pk, fl.c.member_id == m), ("group_pk",))
            out["moderation"] = {
                "flags": [{k: v for k, v in f.items() if k not in ("alert_chat", "alert_message_id", "members")} for f in flags],
                "warnings": await rows(select(wa.c.reason, wa.c.ts, wa.c.by_member).where(wa.c.group_pk == group_pk, wa.c.member_id == m)),
                "reports_made": await rows(select(rp.c.flag_id, rp.c.ts).where(rp.c.group_pk == group_pk, rp.c.reporter_id == m)),
                "trust": (await rows(select(tr).where(tr.c.group_pk == group_pk, tr.c.member_id == m)) or [None])[0],
            }
            out["recommendations"] = await rows(select(rec).where(rec.c.group_pk == group_pk, rec.c.member_id == m))
            fb = FeedbackItem.__table__
            out["feedback"] = await rows(
                select(fb.c.text, fb.c.category, fb.c.status, fb.c.created_ts, fb.c.answer, fb.c.first_response_ts, fb.c.closed_ts)
                .where(fb.c.group_pk == group_pk, fb.c.member_id == m).order_by(fb.c.created_ts)
            )
            link = await rows(select(pl.c.person_id, pl.c.linked_ts).where(pl.c.platform == platform, pl.c.member_id == m))
            if link:
                others = await rows(select(pl.c.platform, pl.c.member_id).where(pl.c.person_id == link[0]["person_id"]))
                out["person_link"] = {**link[0], "accounts": others}
            else:
                out["person_link"] = None
            ot = OptOut.__table__
            out["opted_out"] = bool((await conn.execute(select(ot.c.id).where(ot.c.group_pk == group_pk, ot.c.member_id == m))).first())
            og, om = OnbGate.__table__, OnbMember.__table__
            out["onboarding"] = {
                "introduction": (await rows(select(om.c.tags, om.c.tags_ts, om.c.intro_done_ts, om.c.optin, om.c.released_ts)
                                            .where(om.c.group_pk == group_pk, om.c.member_id == m)) or [None])[0],
                "join_gates": await rows(select(og.c.mode, og.c.status, og.c.attempts, og.c.created_ts, og.c.decided_ts)
                                         .where(og.c.group_pk == group_pk, og.c.member_id == m).order_by(og.c.created_ts)),
            }
        for e in out["events"]:
            e["data"] = json.loads(e["data"]) if e.get("data") else {}
        return out

    # -- forgetting -------------------------------------------------------------
    async def forget(self, group_pk: int, platform: str, member_id: str, pseudonym: str) -> ForgetResult:
        """Erase the member's texts and names, and replace their id by `pseudonym` in
        the group's rows, in one transaction. Kept under the real id, texts erased:
        open flags and flags that led to a ban, warnings, and the trust row of a member
        with confirmed spam (moderation must recognise a returning spammer)."""
        m, p = member_id, pseudonym
        res = ForgetResult(p)
        ev, gm = EventRow.__table__, GroupMember.__table__
        fl, wa, tr = ModFlag.__table__, ModWarning.__table__, ModTrust.__table__

        async with self.engine.begin() as conn:
            async def upd(table, col: str, *where, values=None, label: str | None = None) -> int:
                q = update(table).where(*where).values(**(values or {col: p}))
                n = (await conn.execute(q)).rowcount or 0
                res.changed[label or f"{table.name}.{col}"] = res.changed.get(label or f"{table.name}.{col}", 0) + n
                return n

            g = ev.c.group_pk == group_pk
            await upd(ev, "text", g, ev.c.member_id == m, values={"text": "", "data": ""}, label="texts erased")
            await upd(ev, "member_id", g, ev.c.member_id == m)
            await upd(ev, "target_member_id", g, ev.c.target_member_id == m)
            # Mentions are space-separated ids: rewrite only rows that mention the member.
            hits = await conn.execute(select(ev.c.id, ev.c.mentions).where(g, ev.c.mentions.contains(m)))
            for rid, mentions in hits.all():
                toks = mentions.split()
                if m in toks:
                    await upd(ev, "mentions", ev.c.id == rid, values={"mentions": " ".join(p if t == m else t for t in toks)})
            await upd(gm, "member_id", gm.c.group_pk == group_pk, gm.c.member_id == m)
            led = LedgerEntry.__table__
            await upd(led, "member_id", led.c.group_pk == group_pk, led.c.member_id == m)
            await upd(led, "actor", led.c.group_pk == group_pk, led.c.actor == m)
            red = Redemption.__table__
            await upd(red, "member_id", red.c.group_pk == group_pk, red.c.member_id == m)
            await upd(red, "decided_by", red.c.group_pk == group_pk, red.c.decided_by == m)
            ce, rs = CommunityEvent.__table__, Rsvp.__table__
            ids = select(ce.c.id).where(ce.c.group_pk == group_pk).scalar_subquery()
            await upd(rs, "member_id", rs.c.event_id.in_(ids), rs.c.member_id == m)
            await upd(ce, "created_by", ce.c.group_pk == group_pk, ce.c.created_by == m)
            rec = RecommendationRow.__table__
            await upd(rec, "member_id", rec.c.group_pk == group_pk, rec.c.member_id == m)
            rp = ModReport.__table__
            await upd(rp, "reporter_id", rp.c.group_pk == group_pk, rp.c.reporter_id == m)
            await upd(wa, "by_member", wa.c.group_pk == group_pk, wa.c.by_member == m)
            res.kept_warnings = await upd(wa, "reason", wa.c.group_pk == group_pk, wa.c.member_id == m, values={"reason": ""})
            await upd(fl, "decided_by", fl.c.group_pk == group_pk, fl.c.decided_by == m)
            mine = (fl.c.group_pk == group_pk, fl.c.member_id == m)
            res.banned = bool((await conn.execute(select(fl.c.id).where(*mine, fl.c.action.contains("ban")))).first())
            keep = (fl.c.status == "open") | fl.c.action.contains("ban")
            res.kept_flags = await upd(fl, "text", *mine, keep, values={"text": ""}, label="flags kept")
            await upd(fl, "member_id", *mine, ~keep, values={"member_id": p, "text": ""})
            raids = await conn.execute(select(fl.c.id, fl.c.members).where(fl.c.group_pk == group_pk, fl.c.members.contains(m)))
            for fid, members in raids.all():
                pairs = json.loads(members or "[]")
                new = [[p if a == m else a, b] for a, b in pairs]
                if new != pairs:
                    await upd(fl, "members", fl.c.id == fid, values={"members": json.dumps(new)})
            spam = (await conn.execute(select(tr.c.spam).where(tr.c.group_pk == group_pk, tr.c.member_id == m))).scalar()
            res.kept_trust = bool(spam)
            if not spam:
                await upd(tr, "member_id", tr.c.group_pk == group_pk, tr.c.member_id == m)
            fb = FeedbackItem.__table__
            await upd(fb, "member_id", fb.c.group_pk == group_pk, fb.c.member_id == m,
                      values={"member_id": p, "member_name": "", "text": "", "answer": ""}, label="feedback erased")
            await upd(fb, "answered_by", fb.c.group_pk == group_pk, fb.c.answered_by == m)
            ot = OptOut.__table__
            await conn.execute(delete(ot).where(ot.c.group_pk == group_pk, ot.c.member_id == m))
            # Onboarding: the introduction (picked interests, opt-in) goes; gate records stay pseudonymous.
            om, og = OnbMember.__table__, OnbGate.__table__
            res.changed["introductions deleted"] = (await conn.execute(
                delete(om).where(om.c.group_pk == group_pk, om.c.member_id == m))).rowcount or 0
            await upd(og, "member_id", og.c.group_pk == group_pk, og.c.member_id == m)
            # Platform-wide rows: the display name, the username, the cross-platform link.
            mem = Member.__table__
            await upd(mem, "name", mem.c.platform == platform, mem.c.member_id == m, values={"name": "", "username": None}, label="names erased")
            pl, lc = PersonLink.__table__, LinkCode.__table__
            n = (await conn.execute(delete(pl).where(pl.c.platform == platform, pl.c.member_id == m))).rowcount or 0
            res.changed["person_links deleted"] = n
            await conn.execute(delete(lc).where(lc.c.platform == platform, lc.c.member_id == m))
            # Dashboard sign-in links and sessions name the (admin) member: sign them out.
            for t in (LoginToken.__table__, WebSession.__table__):
                await conn.execute(delete(t).where(t.c.platform == platform, t.c.member_id == m))
        return res

    # -- retention --------------------------------------------------------------
    async def purge_texts(self, group_pk: int, before_ts: float) -> int:
        """Blank the text of the group's events older than `before_ts`; rows, counts
        and everything scores read except the words stay. Returns rows changed."""
        ev = EventRow.__table__
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(ev).where(ev.c.group_pk == group_pk, ev.c.ts < before_ts, ev.c.text != "").values(text="")
            )
            return res.rowcount or 0
