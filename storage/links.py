"""Person links: one person's accounts on several platforms counted as one.

A member proves two accounts are theirs with a one-time code: `/link` on one platform
shows a code privately, `/link CODE` on the other redeems it. Both accounts then map
to one person id. Everything that adds up per person (whole-community leaderboards,
points balances) asks `LinkStore.person_ids()` for the mapping; an account never
linked is its own person, "platform:member_id".
"""

from __future__ import annotations

import secrets
import time as _time
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Float,
    Integer,
    String,
    UniqueConstraint,
    delete,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

#: Letters that cannot be mistaken for each other when typed from another screen.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class PersonLink(Base):
    """One account's person id (rows exist only for linked accounts)."""

    __tablename__ = "person_links"
    __table_args__ = (UniqueConstraint("platform", "member_id", name="uq_person_links_account"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[str] = mapped_column(String(100), index=True)
    linked_ts: Mapped[float] = mapped_column(Float)


class LinkCode(Base):
    """A one-time code an account created to link itself to another."""

    __tablename__ = "link_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[str] = mapped_column(String(64))
    expires_ts: Mapped[float] = mapped_column(Float)
    used: Mapped[bool] = mapped_column(Boolean, default=False)


def own_person_id(platform: str, member_id: str) -> str:
    """The person id of an account that was never linked."""
    return f"{platform}:{member_id}"


def normalise_code(text: str) -> str:
    """What a member typed ("abc-d23 ") as a stored code ("ABCD23")."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


@dataclass(frozen=True, slots=True)
class Redeemed:
    """The outcome of typing a code: `ok`, or `error` = unknown | expired | same_platform | self."""

    ok: bool
    error: str = ""
    person_id: str = ""
    other_platform: str = ""
    other_member_id: str = ""


class LinkStore:
    """Person links and one-time codes on an `EventStore`'s database."""

    def __init__(self, store) -> None:
        self.store = store

    async def create_code(self, platform: str, member_id: str, now: float | None = None, ttl: float = 600) -> str:
        """A fresh code for this account, valid `ttl` seconds; older codes of it are dropped."""
        now = _time.time() if now is None else now
        code = "".join(secrets.choice(_ALPHABET) for _ in range(6))
        async with self.store.engine.begin() as conn:
            await conn.execute(delete(LinkCode).where(
                (LinkCode.platform == platform) & (LinkCode.member_id == member_id) | (LinkCode.expires_ts < now)
            ))
            await conn.execute(LinkCode.__table__.insert().values(
                code=code, platform=platform, member_id=member_id, expires_ts=now + ttl, used=False
            ))
        return code

    async def redeem(self, code: str, platform: str, member_id: str, now: float | None = None) -> Redeemed:
        """Link the account typing `code` with the account that created it."""
        now = _time.time() if now is None else now
        code = normalise_code(code)
        async with self.store.engine.begin() as conn:
            row = (await conn.execute(select(LinkCode).where(LinkCode.code == code))).first()
            if row is None or row.used:
                return Redeemed(False, "unknown")
            if row.expires_ts < now:
                return Redeemed(False, "expired")
            if (row.platform, row.member_id) == (platform, member_id):
                return Redeemed(False, "self")
            if row.platform == platform:
                return Redeemed(False, "same_platform")
            # Consume first: a code works once even if two accounts race with it.
            done = await conn.execute(
                update(LinkCode).where(LinkCode.code == code, LinkCode.used.is_(False)).values(used=True)
            )
            if done.rowcount != 1:
                return Redeemed(False, "unknown")
            a = await self._person(conn, row.platform, row.member_id)
            b = await self._person(conn, platform, member_id)
            # The code's creator keeps their person id (a fresh opaque one if they had
            # none); the typing account and every account already linked to it join it.
            person = a or "p:" + secrets.token_hex(8)
            if a is None:
                await self._set(conn, row.platform, row.member_id, person, now)
            if b is not None and b != person:
                await conn.execute(update(PersonLink).where(PersonLink.person_id == b).values(person_id=person))
            await self._set(conn, platform, member_id, person, now)
        return Redeemed(True, person_id=person, other_platform=row.platform, other_member_id=row.member_id)

    async def unlink(self, platform: str, member_id: str) -> bool:
        """Make the account its own person again; True if it was linked."""
        async with self.store.engine.begin() as conn:
            res = await conn.execute(
                delete(PersonLink).where(PersonLink.platform == platform, PersonLink.member_id == member_id)
            )
        return res.rowcount > 0

    async def person_id(self, platform: str, member_id: str) -> str:
        """The person an account belongs to."""
        return (await self.person_ids(platform, [member_id]))[member_id]

    async def person_ids(self, platform: str, member_ids: list[str] | set[str] | tuple[str, ...]) -> dict[str, str]:
        """{member_id: person_id} for accounts of one platform (unlinked map to themselves)."""
        ids = list(dict.fromkeys(member_ids))
        out = {m: own_person_id(platform, m) for m in ids}
        if not ids:
            return out
        async with self.store.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                rows = await conn.execute(
                    select(PersonLink.member_id, PersonLink.person_id).where(
                        PersonLink.platform == platform, PersonLink.member_id.in_(chunk)
                    )
                )
                out.update(dict(rows.all()))
        return out

    async def person_map(self, accounts: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """{(platform, member_id): person_id} for accounts of any platforms."""
        out = {a: own_person_id(*a) for a in accounts}
        if not accounts:
            return out
        async with self.store.engine.connect() as conn:
            rows = await conn.execute(
                select(PersonLink.platform, PersonLink.member_id, PersonLink.person_id).where(
                    tuple_(PersonLink.platform, PersonLink.member_id).in_(list(out))
                )
            )
            for p, m, person in rows.all():
                out[(p, m)] = person
        return out

    async def accounts(self, person_id: str) -> list[tuple[str, str]]:
        """Every (platform, member_id) of a person (just the one account when unlinked)."""
        async with self.store.engine.connect() as conn:
            rows = (await conn.execute(
                select(PersonLink.platform, PersonLink.member_id).where(PersonLink.person_id == person_id)
                .order_by(PersonLink.linked_ts, PersonLink.id)
            )).all()
        if rows:
            return [(p, m) for p, m in rows]
        platform, _, member = person_id.partition(":")
        return [(platform, member)] if member else []

    @staticmethod
    async def _person(conn, platform: str, member_id: str) -> str | None:
        return (await conn.execute(
            select(PersonLink.person_id).where(PersonLink.platform == platform, PersonLink.member_id == member_id)
        )).scalar()

    async def _set(self, conn, platform: str, member_id: str, person: str, now: float) -> None:
        await conn.execute(
            self.store._insert(PersonLink.__table__)
            .values(platform=platform, member_id=member_id, person_id=person, linked_ts=now)
            .on_conflict_do_update(index_elements=["platform", "member_id"], set_={"person_id": person, "linked_ts": now})
        )
