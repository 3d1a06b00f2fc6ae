"""The custodian-reminders job: reminders, escalations, release notices and departure warnings owed now."""

from __future__ import annotations

import logging
from typing import Any

from jobs.context import JobContext
from preservation.services import custodian_import, notice_reminders
from preservation.services.notice_mail import NoticePolicy

log = logging.getLogger(__name__)


def notice_policy(ctx: JobContext) -> NoticePolicy:
    """The notice policy from the settings; links need PRESERVATION_PUBLIC_URL to be absolute."""
    notice_settings = ctx.settings.notices
    public_url = ctx.settings.scheduling.public_url or ""
    if not public_url:
        log.warning("PRESERVATION_PUBLIC_URL is not set: links in reminders will be relative")
    return NoticePolicy(
        secret=ctx.settings.secret_key,
        public_url=public_url,
        link_valid_days=notice_settings.link_valid_days,
        reminder_every_days=notice_settings.reminder_every_days,
        escalate_after_days=notice_settings.escalate_after_days,
        departure_warning_days=notice_settings.departure_warning_days,
    )


def custodian_reminders(ctx: JobContext) -> dict[str, Any]:
    """Remind, escalate, send owed release notices, and warn of held custodians about to leave."""
    policy = notice_policy(ctx)
    with ctx.unit() as unit:
        details: dict[str, Any] = notice_reminders.remind_and_escalate(unit, policy).as_dict()
    with ctx.unit() as unit:
        details["departure_alerts"] = len(custodian_import.departure_alerts(unit, policy))
    return details
