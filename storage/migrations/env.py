"""Alembic environment: runs on a connection handed over by `storage.db.upgrade`."""

from alembic import context

import storage.schema  # noqa: F401  - registers every table on Base.metadata
from storage.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through storage.db.upgrade() or `communitybot db upgrade`")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
