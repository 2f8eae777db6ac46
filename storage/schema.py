"""Imports every model module so `Base.metadata` knows all tables.

Feature issues add their table modules here (one import line each); Alembic's env and
the tests read the full schema through this module.
"""

from storage import (
    models,  # noqa: F401
    moderation,  # noqa: F401
    onboarding,  # noqa: F401
    scoring_log,  # noqa: F401
)
