"""SQLAlchemy 2 typed models of the core tables: groups, channels, members, events,
per-group settings and the audit log.

Times are stored as float seconds since the epoch (UTC): cheap to compare and index on
both SQLite and PostgreSQL, and what scoring wants as numpy arrays anyway. Platform ids
are strings. Feature tables (ledger, flags, schedules, ...) live in their own modules on
the same `Base`.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base for every table of the project."""


class Group(Base):
    """A Telegram chat, a Discord guild or a console room."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("platform", "group_id", name="uq_groups_platform_gid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    group_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(256), default="")
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_ts: Mapped[float] = mapped_column(Float)


class Channel(Base):
    """A channel, thread or forum topic inside a group."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("group_pk", "channel_id", name="uq_channels_gid_cid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(256), default="")


class Member(Base):
    """A person (or bot) on one platform."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("platform", "member_id", name="uq_members_platform_mid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(256), default="")
    username: Mapped[str | None] = mapped_column(String(128), nullable=True)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)


class GroupMember(Base):
    """A member's standing in one group: role and first time seen."""

    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("group_pk", "member_id", name="uq_gm_gid_mid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[str] = mapped_column(String(64))
    #: "member", "moderator", "admin" or "owner" as far as the bot knows.
    role: Mapped[str] = mapped_column(String(16), default="member")
    first_ts: Mapped[float] = mapped_column(Float)


class EventRow(Base):
    """One stored `Event`. Unique on (group, key): the idempotency rule."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("group_pk", "key", name="uq_events_group_key"),
        Index("ix_events_group_ts", "group_pk", "ts"),
        Index("ix_events_group_member_ts", "group_pk", "member_id", "ts"),
        Index("ix_events_group_message", "group_pk", "message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(16))
    ts: Mapped[float] = mapped_column(Float)
    channel_id: Mapped[str] = mapped_column(String(64), default="")
    member_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reply_to_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target_member_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mentions: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    link_count: Mapped[int] = mapped_column(Integer, default=0)
    media: Mapped[str | None] = mapped_column(String(32), nullable=True)
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)
    emoji: Mapped[str | None] = mapped_column(String(64), nullable=True)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[str] = mapped_column(Text, default="")


class Setting(Base):
    """A per-group override of a configuration key (JSON value)."""

    __tablename__ = "settings"
    __table_args__ = (UniqueConstraint("group_pk", "key", name="uq_settings_group_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(128))
    value: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    """What an admin, a moderator or the policy did, and why."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_group_ts", "group_pk", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    ts: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
