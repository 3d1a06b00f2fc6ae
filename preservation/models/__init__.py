"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from preservation.models.account import RecoveryCode, SignInThrottle, UserSession
from preservation.models.alert import Alert, AlertDelivery, AlertSubscription, CalendarFeed, Deadline
from preservation.models.audit import AuditCheckpoint, AuditEvent
from preservation.models.batch_job import S3BatchJob
from preservation.models.check import CheckEvidence, CheckFinding, ManifestEntry, RetentionCheck, SourceAttestation
from preservation.models.custodian import Custodian, CustodianHold
from preservation.models.hold import StorageHold
from preservation.models.matter import Matter
from preservation.models.notice import HoldNotice, NoticeTemplate
from preservation.models.order import Obligation, PreservationOrder, obligation_data_source
from preservation.models.scheduler import JobRun, SchedulerHeartbeat, SchedulerLease
from preservation.models.source import DataSource
from preservation.models.status_history import SourceStatusDay
from preservation.models.user import ApiToken, User

__all__ = [
    "Alert",
    "AlertDelivery",
    "AlertSubscription",
    "ApiToken",
    "AuditCheckpoint",
    "AuditEvent",
    "CalendarFeed",
    "CheckEvidence",
    "CheckFinding",
    "Custodian",
    "CustodianHold",
    "DataSource",
    "Deadline",
    "HoldNotice",
    "JobRun",
    "ManifestEntry",
    "Matter",
    "NoticeTemplate",
    "Obligation",
    "PreservationOrder",
    "RecoveryCode",
    "RetentionCheck",
    "S3BatchJob",
    "SchedulerHeartbeat",
    "SchedulerLease",
    "SignInThrottle",
    "SourceAttestation",
    "SourceStatusDay",
    "StorageHold",
    "User",
    "UserSession",
    "obligation_data_source",
]
