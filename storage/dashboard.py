"""Tables of the admin dashboard and the feedback inbox, and their store.

Login links and sessions are stored as SHA-256 hashes of their secrets, never the
secrets themselves: a leaked database gives no way into the dashboard. A login token is
single use (its `used_ts` is set in the same UPDATE that checks it is unused), expires,
and names one member on one platform; the session it starts lists the groups where that
member was admin at sign-in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class WebSecret(Base):
    """Server-side secrets generated once per database (the link-signing key)."""

    __tablename__ = "web_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class LoginToken(Base):
    """A one-time sign-in link sent privately by `/dashboard`."""

    __tablename__ = "web_login_tokens"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_web_login_token"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[str] = mapped_column(String(64))
    member_name: Mapped[str] = mapped_column(String(256), default="")
    created_ts: Mapped[float] = mapped_column(Float)
    expires_ts: Mapped[float] = mapped_column(Float)
    used_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: JSON list of group pks where the platform said the member is admin when the link
    #: was issued (used when the dashboard runs without a platform connection).
    groups: Mapped[str] = mapped_column(Text, default="[]")


class WebSession(Base):
    """A signed-in browser: who, which groups, its CSRF token, until when."""

    __tablename__ = "web_sessions"
    __table_args__ = (UniqueConstraint("session_hash", name="uq_web_session"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[str] = mapped_column(String(64))
    member_name: Mapped[str] = mapped_column(String(256), default="")
    #: JSON list of group pks where the member was admin when the session started.
    groups: Mapped[str] = mapped_column(Text, default="[]")
    csrf: Mapped[str] = mapped_column(String(64))
    created_ts: Mapped[float] = mapped_column(Float)
    expires_ts: Mapped[float] = mapped_column(Float)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class FeedbackItem(Base):
    """One `/feedback` message from a member, its category and the admins' handling."""

    __tablename__ = "feedback_items"
    __table_args__ = (
        UniqueConstraint("group_pk", "key", name="uq_feedback_group_key"),
        Index("ix_feedback_group_ts", "group_pk", "created_ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    #: The event key of the /feedback command: a redelivery stores nothing twice.
    key: Mapped[str] = mapped_column(String(160))
    member_id: Mapped[str] = mapped_column(String(64))
    member_name: Mapped[str] = mapped_column(String(256), default="")
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(64), default="")
    #: "auto" (the categoriser's guess) or "admin" (set or confirmed by an admin).
    category_source: Mapped[str] = mapped_column(String(8), default="auto")
    score: Mapped[float] = mapped_column(Float, default=0.0)
    #: new, answered or closed.
    status: Mapped[str] = mapped_column(String(16), default="new")
    created_ts: Mapped[float] = mapped_column(Float)
    first_response_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str] = mapped_column(String(64), default="")
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_ts: Mapped[float | None] = mapped_column(Float, nullable=True)


class FeedbackSummary(Base):
    """One weekly summary sent for a group (claimed before sending: sent once)."""

    __tablename__ = "feedback_summaries"
    __table_args__ = (UniqueConstraint("group_pk", "week", name="uq_feedback_summary_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(16))
    sent_ts: Mapped[float] = mapped_column(Float)


@dataclass(frozen=True)
class SessionInfo:
    """A live dashboard session."""

    id: int
    platform: str
    member_id: str
    member_name: str
    groups: tuple[int, ...]
    csrf: str
    expires_ts: float


FEEDBACK_STATUSES = ("new", "answered", "closed")


def _item(r: Any) -> dict[str, Any]:
    return {c: getattr(r, c) for c in FeedbackItem.__table__.columns.keys()}


class DashboardStore:
    """Login tokens, sessions and feedback items on the app's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    def _insert(self, table):
        from sqlalchemy.dialects import postgresql, sqlite

        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    # -- secrets -----------------------------------------------------------------
    async def secret(self, name: str, make) -> str:
        """The stored secret `name`, created with `make()` on first use (race-safe)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                self._insert(WebSecret.__table__).values(name=name, value=make()).on_conflict_do_nothing(index_elements=["name"])
            )
            return (await conn.execute(select(WebSecret.value).where(WebSecret.name == name))).scalar_one()

    # -- login tokens ------------------------------------------------------------
    async def add_token(
        self, token_hash: str, platform: str, member_id: str, member_name: str, now: float, ttl: float, groups: list[int] | None = None
    ) -> None:
        """Remember a freshly issued login link (by hash) and the groups checked then."""
        async with self.engine.begin() as conn:
            await conn.execute(
                LoginToken.__table__.insert().values(
                    token_hash=token_hash, platform=platform, member_id=member_id, member_name=member_name,
                    created_ts=now, expires_ts=now + ttl, groups=json.dumps(sorted(groups or [])),
                )
            )

    async def peek_token(self, token_hash: str) -> LoginToken | None:
        """The token row, whatever its state (to explain why a link fails)."""
        async with self.engine.connect() as conn:
            return (await conn.execute(select(LoginToken).where(LoginToken.token_hash == token_hash))).first()

    async def use_token(self, token_hash: str, now: float) -> LoginToken | None:
        """Mark the token used if it is unused and unexpired; None otherwise.

        The check and the mark are one UPDATE, so two browsers racing with the same
        link cannot both win.
        """
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(LoginToken)
                .where(LoginToken.token_hash == token_hash, LoginToken.used_ts.is_(None), LoginToken.expires_ts > now)
                .values(used_ts=now)
            )
            if res.rowcount != 1:
                return None
            return (await conn.execute(select(LoginToken).where(LoginToken.token_hash == token_hash))).first()

    # -- sessions ----------------------------------------------------------------
    async def add_session(
        self, session_hash: str, platform: str, member_id: str, member_name: str, groups: list[int], csrf: str, now: float, ttl: float
    ) -> None:
        """Start a session."""
        async with self.engine.begin() as conn:
            await conn.execute(
                WebSession.__table__.insert().values(
                    session_hash=session_hash, platform=platform, member_id=member_id, member_name=member_name,
                    groups=json.dumps(sorted(groups)), csrf=csrf, created_ts=now, expires_ts=now + ttl,
                )
            )

    async def session(self, session_hash: str, now: float) -> SessionInfo | None:
        """The live (unexpired, unrevoked) session with this hash."""
        async with self.engine.connect() as conn:
            r = (
                await conn.execute(
                    select(WebSession).where(
                        WebSession.session_hash == session_hash, WebSession.revoked.is_(False), WebSession.expires_ts > now
                    )
                )
            ).first()
        if r is None:
            return None
        return SessionInfo(r.id, r.platform, r.member_id, r.member_name, tuple(json.loads(r.groups)), r.csrf, r.expires_ts)

    async def set_session_groups(self, session_id: int, groups: list[int]) -> None:
        """Narrow a session's groups (an admin lost their rights)."""
        async with self.engine.begin() as conn:
            await conn.execute(update(WebSession).where(WebSession.id == session_id).values(groups=json.dumps(sorted(groups))))

    async def revoke_session(self, session_id: int) -> None:
        """Sign out."""
        async with self.engine.begin() as conn:
            await conn.execute(update(WebSession).where(WebSession.id == session_id).values(revoked=True))

    async def session_members(self, group_pk: int, now: float) -> list[tuple[str, str]]:
        """(platform, member id) of everyone with a live session covering the group."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(WebSession.platform, WebSession.member_id, WebSession.groups).where(
                        WebSession.revoked.is_(False), WebSession.expires_ts > now
                    )
                )
            ).all()
        return sorted({(p, m) for p, m, g in rows if group_pk in json.loads(g)})

    async def purge(self, now: float, keep: float = 86400.0) -> int:
        """Delete login links and sessions that ended more than `keep` seconds ago."""
        from sqlalchemy import delete

        async with self.engine.begin() as conn:
            a = await conn.execute(delete(LoginToken).where(LoginToken.expires_ts < now - keep))
            b = await conn.execute(delete(WebSession).where(WebSession.expires_ts < now - keep))
        return (a.rowcount or 0) + (b.rowcount or 0)

    # -- feedback ----------------------------------------------------------------
    async def add_feedback(
        self, group_pk: int, key: str, member_id: str, member_name: str, text: str, category: str, score: float, now: float
    ) -> int | None:
        """Store a feedback item; None if this event was already stored."""
        async with self.engine.begin() as conn:
            stmt = self._insert(FeedbackItem.__table__).values(
                group_pk=group_pk, key=key, member_id=member_id, member_name=member_name, text=text,
                category=category, category_source="auto", score=score, status="new", created_ts=now,
                answer="", answered_by="", delivered=False,
            ).on_conflict_do_nothing(index_elements=["group_pk", "key"])
            res = await conn.execute(stmt.returning(FeedbackItem.__table__.c.id))
            row = res.first()
        return row[0] if row else None

    async def feedback(self, group_pk: int, item_id: int) -> dict[str, Any] | None:
        """One item of the group (None if it belongs to another group)."""
        async with self.engine.connect() as conn:
            r = (
                await conn.execute(select(FeedbackItem).where(FeedbackItem.id == item_id, FeedbackItem.group_pk == group_pk))
            ).first()
        return _item(r) if r else None

    async def feedback_items(
        self, group_pk: int, status: str | None = None, category: str | None = None, since: float | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """The group's items, newest first, filtered by status, category and time."""
        q = select(FeedbackItem).where(FeedbackItem.group_pk == group_pk)
        if status:
            q = q.where(FeedbackItem.status == status)
        if category is not None:
            q = q.where(FeedbackItem.category == category)
        if since is not None:
            q = q.where(FeedbackItem.created_ts >= since)
        q = q.order_by(FeedbackItem.created_ts.desc(), FeedbackItem.id.desc()).limit(limit)
        async with self.engine.connect() as conn:
            return [_item(r) for r in (await conn.execute(q)).all()]

    async def labelled_examples(self, group_pk: int, limit: int = 500) -> list[tuple[str, str]]:
        """(text, category) of items an admin categorised: what the categoriser learns from."""
        q = (
            select(FeedbackItem.text, FeedbackItem.category)
            .where(FeedbackItem.group_pk == group_pk, FeedbackItem.category_source == "admin", FeedbackItem.category != "")
            .order_by(FeedbackItem.id.desc())
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [(t, c) for t, c in (await conn.execute(q)).all()]

    async def update_feedback(self, group_pk: int, item_id: int, **values: Any) -> bool:
        """Change fields of one item of the group; False if no such item there."""
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(FeedbackItem).where(FeedbackItem.id == item_id, FeedbackItem.group_pk == group_pk).values(**values)
            )
        return res.rowcount == 1

    async def claim_summary(self, group_pk: int, week: str, now: float) -> bool:
        """Claim the weekly summary of `week` for the group; False if already sent."""
        async with self.engine.begin() as conn:
            stmt = self._insert(FeedbackSummary.__table__).values(group_pk=group_pk, week=week, sent_ts=now)
            res = await conn.execute(stmt.on_conflict_do_nothing(index_elements=["group_pk", "week"]).returning(FeedbackSummary.__table__.c.id))
            return res.first() is not None
