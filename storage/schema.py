"""Imports every model module so `Base.metadata` knows all tables.

Feature issues add their table modules here (one import line each); Alembic's env and
the tests read the full schema through this module.
"""

import storage.agenda  # noqa: F401  - community events, RSVPs, schedules, job runs
import storage.ledger  # noqa: F401  - points ledger
import storage.privacy  # noqa: F401  - opt-outs of public boards
import storage.rewards  # noqa: F401  - rewards catalog, redemptions
from storage import (
    dashboard,  # noqa: F401
    links,  # noqa: F401
    models,  # noqa: F401
    moderation,  # noqa: F401
    onboarding,  # noqa: F401
    scoring_log,  # noqa: F401
)
