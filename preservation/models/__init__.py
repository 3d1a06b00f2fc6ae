"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from preservation.models.account import RecoveryCode, SignInThrottle, UserSession
from preservation.models.audit import AuditCheckpoint, AuditEvent
from preservation.models.check import CheckEvidence, CheckFinding, ManifestEntry, RetentionCheck, SourceAttestation
from preservation.models.custodian import Custodian, CustodianHold
from preservation.models.matter import Matter
from preservation.models.order import Obligation, PreservationOrder, obligation_data_source
from preservation.models.source import DataSource
from preservation.models.user import ApiToken, User

__all__ = [
    "ApiToken",
    "AuditCheckpoint",
    "AuditEvent",
    "CheckEvidence",
    "CheckFinding",
    "Custodian",
    "CustodianHold",
    "DataSource",
    "ManifestEntry",
    "Matter",
    "Obligation",
    "PreservationOrder",
    "RecoveryCode",
    "RetentionCheck",
    "SignInThrottle",
    "SourceAttestation",
    "User",
    "UserSession",
    "obligation_data_source",
]
