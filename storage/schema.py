"""Imports every model module so `Base.metadata` knows all tables.

Feature issues add their table modules here (one import line each); Alembic's env and
the tests read the full schema through this module.
"""

from storage import (
    agenda,  # noqa: F401  - community events, RSVPs, schedules, job runs
    ledger,  # noqa: F401  - points ledger
    models,  # noqa: F401
    moderation,  # noqa: F401
    rewards,  # noqa: F401  - rewards catalog, redemptions
    scoring_log,  # noqa: F401
)
