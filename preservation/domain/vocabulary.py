"""The fixed vocabularies of the domain: kinds, statuses and audit actions."""

MATTER_STATUSES = ("open", "closed")

ORDER_KINDS = ("court_order", "stipulation", "preservation_letter", "litigation_hold")
ORDER_STATUSES = ("active", "modified", "released")

OBLIGATION_STATUSES = ("open", "in_progress", "satisfied", "released")

DATA_SOURCE_KINDS = ("s3", "cloudwatch_logs", "aws_backup", "manual")
DATA_SOURCE_STATUSES = ("unchecked", "preserved", "at_risk", "unverifiable", "lost", "released")
# What a retention check concludes; a source takes the status of its latest check.
CHECK_STATUSES = ("preserved", "at_risk", "unverifiable", "lost", "released")
FINDING_SEVERITIES = ("critical", "high", "medium", "low", "info")

EMPLOYMENT_STATUSES = ("active", "on_leave", "departed")
CUSTODIAN_HOLD_ROLES = ("custodian", "data_steward")
CUSTODIAN_HOLD_STATUSES = ("pending", "notified", "acknowledged", "released")
# Hold notices: the first notice (or a re-issue), a data steward's, and the release.
NOTICE_KINDS = ("hold", "steward", "release")
# Bounds of an order's periodic re-affirmation: from weekly to yearly (a leap year included).
REAFFIRM_MIN_DAYS = 7
REAFFIRM_MAX_DAYS = 366

# Deadlines the sweep keeps, one per due date it finds; alerts go out only for open ones.
DEADLINE_KINDS = ("obligation_due", "order_compliance", "data_destruction")
DEADLINE_STATUSES = ("open", "met", "cancelled")
COURT_DAY_DIRECTIONS = ("after", "before")
# Alerts: where a delivery goes, what became of it, and why it exists.
ALERT_CHANNELS = ("email", "webhook", "sns", "console")
DELIVERY_STATUSES = ("pending", "sent", "dead", "cancelled")
DELIVERY_PURPOSES = ("notify", "escalation")
# Scheduler runs; "abandoned" is a run whose process died before it could say how it ended.
JOB_RUN_OUTCOMES = ("running", "succeeded", "failed", "abandoned")

USER_ROLES = ("admin", "counsel", "viewer", "auditor")
READ_ROLES = frozenset(USER_ROLES)
WRITE_ROLES = frozenset({"admin", "counsel"})
# Roles that must confirm a TOTP authenticator before they may do anything else on the pages.

# Every audit event names one of these; a new kind of change adds its action here first.
AUDIT_ACTIONS = frozenset(
    {
        "matter.created",
        "matter.updated",
        "order.created",
        "order.updated",
        "order.superseded",
        "order.released",
        "obligation.created",
        "obligation.updated",
        "obligation.released",
        "obligation.source_linked",
        "data_source.created",
        "data_source.updated",
        "data_source.retired",
        "data_source.checked",
        "data_source.attested",
        "data_source.steward_confirmed",
        "data_source.preservation_started",
        "data_source.preservation_finished",
        "data_source.batch_job_created",
        "data_source.batch_job_updated",
        "data_source.hold_release_started",
        "data_source.hold_release_finished",
        "custodian.created",
        "custodian.updated",
        "custodian_hold.created",
        "custodian_hold.released",
        "notice_template.saved",
        "custodian_notice.issued",
        "custodian_notice.silent",
        "custodian_notice.superseded",
        "custodian_notice.acknowledged",
        "custodian_notice.question",
        "custodian_notice.reminded",
        "custodian_notice.escalated",
        "custodian_notice.reaffirmation_requested",
        "custodian_notice.released",
        "custodian.imported",
        "custodian.departure_alerted",
        "user.created",
        "user.password_set",
        "user.role_changed",
        "user.disabled",
        "user.enabled",
        "user.signed_in",
        "user.sign_in_failed",
        "user.locked_out",
        "user.signed_out",
        "user.sessions_ended",
        "user.mfa_enrolled",
        "user.mfa_reset",
        "user.recovery_codes_replaced",
        "token.issued",
        "token.revoked",
        "alert.acknowledged",
        "alert.dead_lettered",
        "alert_subscription.created",
        "alert_subscription.removed",
        "calendar_feed.issued",
        "calendar_feed.revoked",
    }
)
