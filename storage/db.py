"""Database URLs, engines and migrations.

Users write plain URLs (`sqlite:///community.db`, `postgresql://user@host/db`); the
async drivers (aiosqlite, asyncpg) are chosen here so the rest of the code is the same
on both backends.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"


class DatabaseError(Exception):
    """A database URL or connection problem, with a message meant for a person."""


def async_url(url: str) -> str:
    """Map a plain database URL to its async-driver form; reject unknown backends."""
    try:
        u = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a terse text
        raise DatabaseError(f"not a database URL: {url!r} ({exc})") from exc
    backend = u.get_backend_name()
    if backend == "sqlite":
        return str(u.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False))
    if backend in ("postgresql", "postgres"):
        return u.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise DatabaseError(
        f"unsupported database {backend!r} in {url!r}: use sqlite:///FILE or postgresql://..."
    )


def is_sqlite(url: str) -> bool:
    """True when `url` points at SQLite."""
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - driver callback
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def make_engine(url: str) -> AsyncEngine:
    """Create the async engine for `url` (WAL and foreign keys on for SQLite)."""
    aurl = async_url(url)
    if aurl.startswith("sqlite"):
        path = make_url(aurl).database
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(aurl)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(aurl, pool_size=5, max_overflow=10, pool_pre_ping=True)


def _alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    """Apply Alembic migrations up to `revision` on the engine's database.

    Each feature's tables have their own branch off the core revision ("heads" applies
    them all), so features never need to agree on one linear order of migrations.
    """
    from alembic import command

    cfg = _alembic_config()

    def run(sync_conn) -> None:
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's Alembic revisions (comma-joined heads), or None when empty."""
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        heads = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads())
    return ",".join(sorted(heads)) if heads else None


def head_revision() -> str:
    """The newest revision the code ships."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(_alembic_config()).get_heads()
    return ",".join(sorted(heads))
