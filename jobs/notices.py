"""The custodian-reminders job: reminders, escalations, release notices and departure warnings owed now."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from jobs import units
from jobs.context import JobContext
from jobs.units import PartialFailure
from preservation.services import custodian_import, custodian_notices, notice_reaffirmation, notice_reminders
from preservation.services.notice_mail import NoticePolicy
from preservation.services.notice_reminders import ReminderRun
from preservation.services.unit import Unit

log = logging.getLogger(__name__)

# Notices, holds or custodians per transaction. A batch that fails is redone one per transaction, and a
# kill costs at most one batch, which the next run does again (what is owed is read from the tables).
REMINDER_BATCH = 100


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
    """Remind, escalate, send owed release notices, and warn of held custodians about to leave.

    Each kind of work is done REMINDER_BATCH notices, holds or custodians per transaction, in the order
    of one run (re-affirmations first: one just sent is not yet due a reminder). A batch that fails is
    done again one per transaction, so what fails fails alone and the rest is kept; the run is then
    recorded failed, with what failed.
    """
    policy = notice_policy(ctx)
    run = notice_reminders.ReminderRun()
    failed: list[str] = []
    with ctx.unit(fenced=False, read_only=True) as unit:
        owed = [notice.id for notice in notice_reaffirmation.reaffirmations_owed(unit)]
    _in_batches(ctx, "re-affirmation of notice", owed, failed, run, _reaffirm, policy)
    with ctx.unit(fenced=False, read_only=True) as unit:
        released = custodian_notices.release_notices_owed(unit)
    _in_batches(ctx, "release notice of hold", released, failed, run, _send_release_notices)
    with ctx.unit(fenced=False, read_only=True) as unit:
        unacknowledged = notice_reminders.custodians_unacknowledged(unit)
    _in_batches(ctx, "reminders of custodian", unacknowledged, failed, run, _remind, policy)
    with ctx.unit(fenced=False, read_only=True) as unit:
        leaving = custodian_import.custodians_leaving(unit, policy)
    _in_batches(ctx, "departure warning of custodian", leaving, failed, run, _warn_of_departures, policy)
    details: dict[str, Any] = run.as_dict()
    if failed:
        details.update(units_failed=len(failed), failures=failed[:20])
        units_owed = len(owed) + len(released) + len(unacknowledged) + len(leaving)
        raise PartialFailure(f"{len(failed)} of {units_owed} custodian notice units failed", details)
    return details


def _in_batches(  # noqa: PLR0917  (the work's own arguments follow)
    ctx: JobContext,
    name: str,
    ids: list[int],
    failed: list[str],
    run: ReminderRun,
    work: Callable[..., None],
    *args: Any,
) -> None:
    """`work(unit, batch, counts, *args)` for a batch of ids per transaction, again one id each if a batch fails."""
    for start in range(0, len(ids), REMINDER_BATCH):
        batch = ids[start : start + REMINDER_BATCH]
        # Counted only once committed: a batch rolled back is counted again as it is redone.
        batch_run = ReminderRun()
        if units.attempt(ctx, work, batch, batch_run, *args) is None:
            run.add(batch_run)
            continue
        for one in batch:
            one_run = ReminderRun()
            if units.unit_of_work(ctx, f"{name} {one}", failed, work, [one], one_run, *args):
                run.add(one_run)


def _reaffirm(unit: Unit, notice_ids: list[int], run: ReminderRun, policy: NoticePolicy) -> None:
    run.reaffirmations += len(notice_reaffirmation.send_reaffirmations(unit, policy, notice_ids))


def _send_release_notices(unit: Unit, hold_ids: list[int], run: ReminderRun) -> None:
    notice_reminders.send_release_notices(unit, hold_ids, run)


def _remind(unit: Unit, custodian_ids: list[int], run: ReminderRun, policy: NoticePolicy) -> None:
    notice_reminders.remind_custodians(unit, policy, custodian_ids, run)


def _warn_of_departures(unit: Unit, custodian_ids: list[int], run: ReminderRun, policy: NoticePolicy) -> None:
    run.departure_alerts += len(custodian_import.departure_alerts(unit, policy, custodian_ids))
