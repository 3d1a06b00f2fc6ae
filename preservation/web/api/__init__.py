"""The versioned JSON API under /api/v1."""

from __future__ import annotations

from preservation.web.api import audit, batch_jobs, calendar, checks, custodians, matters, orders, scheduling, sources
from preservation.web.api.common import PreservationApi
from preservation.web.api.notices import blp as notices_blp


def register_api(api: PreservationApi) -> None:
    """Mount every API blueprint."""
    for module in (matters, orders, sources, custodians, audit, checks, batch_jobs, scheduling, calendar):
        api.register_blueprint(module.blp)
    # Hold notices: templates, issuing, acknowledgement state, releases, steward notices.
    api.register_blueprint(notices_blp)
