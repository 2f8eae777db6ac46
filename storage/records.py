"""Members, roles, per-group settings and the audit log: the records around events.
Mixed into `EventStore`, which provides `engine`, `_insert` and the caches."""

from __future__ import annotations

import json
import time as _time
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from storage import fastread, fresh
from storage.batch import DEFERRING
from storage.models import AuditEntry, Group, GroupMember, Member, Setting

if TYPE_CHECKING:
    from storage.store import GroupInfo


#: Seconds a group's settings overrides are reused before being read again (another
#: process, e.g. the CLI, may change them; this process's own changes show at once).
SETTINGS_TTL = 2.0


class RecordsMixin:
    """Member, role, settings and audit methods of `EventStore`."""

    # -- members -----------------------------------------------------------------
    async def member_names(self, platform: str) -> dict[str, str]:
        """Display names of a platform's members by member id."""
        async with self.engine.connect() as conn:
            return await self._names(conn, platform)

    async def find_member(self, group: GroupInfo, ref: str) -> str | None:
        """Resolve "@name", a display name or an id to a member id of the group."""
        ref = ref.lstrip("@").strip()
        if not ref:
            return None
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(Member.member_id, Member.name, Member.username)
                    .join(GroupMember, GroupMember.member_id == Member.member_id)
                    .where(GroupMember.group_pk == group.pk, Member.platform == group.platform)
                )
            ).all()
        for pred in (
            lambda r: r.member_id == ref,
            lambda r: (r.username or "").casefold() == ref.casefold(),
            lambda r: (r.name or "").casefold() == ref.casefold(),
        ):
            for r in rows:
                if pred(r):
                    return r.member_id
        return None

    async def group_members(self, group_pk: int) -> list[dict[str, Any]]:
        """Members of a group with their role and first time seen."""
        async with self.engine.connect() as conn:
            g = (await conn.execute(select(Group).where(Group.id == group_pk))).one()
            rows = (
                await conn.execute(
                    select(GroupMember.member_id, GroupMember.role, GroupMember.first_ts, Member.name, Member.is_bot)
                    .join(
                        Member,
                        (Member.member_id == GroupMember.member_id) & (Member.platform == g.platform),
                        isouter=True,
                    )
                    .where(GroupMember.group_pk == group_pk)
                    .order_by(GroupMember.first_ts)
                )
            ).all()
        return [
            {"member_id": mid, "role": role, "first_ts": first_ts, "name": name or mid, "is_bot": bool(is_bot)}
            for mid, role, first_ts, name, is_bot in rows
        ]

    async def role(self, group_pk: int, member_id: str) -> str | None:
        """The member's role in the group as the bot recorded it, or None if unseen."""
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    select(GroupMember.role).where(
                        GroupMember.group_pk == group_pk, GroupMember.member_id == member_id
                    )
                )
            ).scalar()

    async def set_role(self, group_pk: int, member_id: str, role: str) -> None:
        """Record a member's role (member, moderator, admin, owner) in a group."""
        async with self.engine.begin() as conn:
            await conn.execute(
                self._insert(GroupMember.__table__)
                .values(group_pk=group_pk, member_id=member_id, role=role, first_ts=_time.time())
                .on_conflict_do_update(index_elements=["group_pk", "member_id"], set_={"role": role})
            )
        self._group_members.add((group_pk, member_id))

    # -- settings and audit ------------------------------------------------------
    async def get_settings(self, group_pk: int) -> dict[str, Any]:
        """Every per-group override of the group, key → value.

        Read at most every `SETTINGS_TTL` seconds per group (every feature reads them for
        every event), and at once after `set_setting` through this store.
        """
        hit = self._settings.get(group_pk)
        if hit is not None and _time.monotonic() - hit[0] < SETTINGS_TTL:
            return dict(hit[1])
        return dict(await self._once.do(("settings", group_pk), lambda: self._read_settings(group_pk)))

    async def _read_settings(self, group_pk: int) -> dict[str, Any]:
        at = _time.monotonic()
        # A group created in this turn has no overrides yet (`storage.fresh`).
        rows = [] if fresh.unread(self.engine, group_pk) else await fastread.rows(self.engine, _settings_query(), {"sq_g": group_pk})
        values = {k: json.loads(v) for k, v in rows}
        self._settings[group_pk] = (at, values)
        return values

    async def set_setting(self, group_pk: int, key: str, value: Any) -> None:
        """Set a per-group override (JSON-serialisable value)."""
        data = json.dumps(value, ensure_ascii=False)
        async with self.engine.begin() as conn:
            await conn.execute(
                self._insert(Setting.__table__)
                .values(group_pk=group_pk, key=key, value=data)
                .on_conflict_do_update(index_elements=["group_pk", "key"], set_={"value": data})
            )
        self._settings.pop(group_pk, None)

    async def audit(self, group_pk: int, actor: str, action: str, detail: dict | str = "") -> None:
        """Append to the group's audit log.

        While the pipeline handles an event the row is written in the next group-commit
        round (`storage.batch`), before the event is acknowledged; elsewhere at once.
        """
        text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False, default=str)
        row = {"group_pk": group_pk, "ts": _time.time(), "actor": actor, "action": action, "detail": text}
        if DEFERRING.get():
            self.writes.defer_insert(AuditEntry.__table__, row)
            return
        async with self.engine.begin() as conn:
            await conn.execute(AuditEntry.__table__.insert().values(**row))

    async def audit_log(self, group_pk: int, limit: int = 100) -> list[dict[str, Any]]:
        """The newest audit entries of a group."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(AuditEntry).where(AuditEntry.group_pk == group_pk).order_by(AuditEntry.ts.desc(), AuditEntry.id.desc()).limit(limit)
                )
            ).all()
        return [{"ts": r.ts, "actor": r.actor, "action": r.action, "detail": r.detail} for r in rows]


@cache
def _settings_query():
    """A group's settings rows, built once with a bound parameter (a first sight's read)."""
    return select(Setting.key, Setting.value).where(Setting.group_pk == bindparam("sq_g"))
