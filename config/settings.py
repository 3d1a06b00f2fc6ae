"""Settings: every PRESERVATION_* variable, parsed and checked once at start-up."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from config.notices import VARIABLES as NOTICE_VARIABLES
from config.notices import NoticeSettings, NoticeSettingsError
from config.scheduling import VARIABLES as SCHEDULING_VARIABLES
from config.scheduling import SchedulingSettings

PREFIX = "PRESERVATION_"
KNOWN_VARIABLES: tuple[str, ...] = (
    "DATABASE_URL",
    "SECRET_KEY",
    "INSTANCE_PATH",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "MAX_BODY_BYTES",
    "DB_POOL_SIZE",
    "SQLITE_BUSY_TIMEOUT_SECONDS",
    "AWS_MAX_CONCURRENCY",
    "ATTESTATION_VALID_DAYS",
    "BATCH_OPERATIONS_THRESHOLD",
    "BATCH_OPERATIONS_ROLE_ARN",
    "SESSION_COOKIE_SECURE",
    "SESSION_IDLE_MINUTES",
    "SESSION_MAX_HOURS",
    "SIGNIN_MAX_FAILURES",
    "SIGNIN_ADDRESS_MAX_FAILURES",
    "SIGNIN_WINDOW_MINUTES",
    "SIGNIN_LOCKOUT_MINUTES",
    "PROXY_HOPS",
    "MFA_REQUIRED_ROLES",
    "AUDIT_SIGNING_KEY",
    "AUDIT_ANCHOR",
    "AUDIT_ANCHOR_RETENTION_DAYS",
    # gunicorn's listening address, read by config/gunicorn.conf.py from the same environment file; the app
    # itself has no use for it, but must not refuse it.
    "BIND",
)
# The scheduler's, deadlines' and alerts' variables live with their parser in config/scheduling.py.
KNOWN_VARIABLES += SCHEDULING_VARIABLES
# Custodian notices' variables live with their parser in config/notices.py.
KNOWN_VARIABLES += NOTICE_VARIABLES


class SettingsError(ValueError):
    """A PRESERVATION_* variable holds a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    """Configuration of one process: the web app, the command line or the scheduler."""

    database_url: str
    secret_key: str
    instance_path: Path
    log_level: str = "INFO"
    # "text" for a terminal, "json" for a log pipeline (one object per line, with the request id).
    log_format: str = "text"
    max_body_bytes: int = 1024 * 1024
    db_pool_size: int = 5
    sqlite_busy_timeout_seconds: float = 30.0
    # Retention checks: parallel S3 requests per check, and how long a steward's attestation stays good.
    aws_max_concurrency: int = 16
    attestation_valid_days: int = 30
    # Preserve: above this many versions to hold, one S3 Batch Operations job (run as this role) holds them.
    batch_operations_threshold: int = 100_000
    batch_operations_role_arn: str | None = None
    # Sign-in and browser sessions.
    session_cookie_secure: bool = True
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    signin_max_failures: int = 5
    signin_address_max_failures: int = 50
    signin_window_minutes: int = 15
    signin_lockout_minutes: int = 15
    # Reverse proxies in front of the app whose X-Forwarded-For and X-Forwarded-Proto are trusted.
    proxy_hops: int = 0
    # Roles that must set up a second factor before using the pages; only a local demo should empty it.
    mfa_required_roles: frozenset[str] = frozenset({"admin", "counsel"})
    # Audit checkpoints: the Ed25519 key file that signs them, and an optional S3 Object Lock copy of each.
    audit_signing_key: Path | None = None
    audit_anchor: str | None = None
    audit_anchor_retention_days: int = 2555
    # The scheduler, deadlines and alerts (config/scheduling.py).
    scheduling: SchedulingSettings = field(default_factory=SchedulingSettings)
    # Custodian notices: link lifetime, reminders, escalation, departure warnings (config/notices.py).
    notices: NoticeSettings = field(default_factory=NoticeSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from the environment; unknown PRESERVATION_* names are refused."""
        env = os.environ if environ is None else environ
        unknown = sorted(
            name
            for name in env
            if name.startswith(PREFIX)
            and name[len(PREFIX) :] not in KNOWN_VARIABLES
            and not name.startswith(PREFIX + "TEST_")
        )
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(unknown)}; see config/example.env")

        instance_path = Path(env.get(PREFIX + "INSTANCE_PATH") or Path.cwd() / "instance").resolve()
        database_url = env.get(PREFIX + "DATABASE_URL") or f"sqlite:///{instance_path / 'preservation.db'}"
        if not database_url.startswith(("sqlite", "postgresql")):
            raise SettingsError("PRESERVATION_DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL")
        log_level = env.get(PREFIX + "LOG_LEVEL", "INFO").upper()
        if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise SettingsError("PRESERVATION_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return cls(
            database_url=database_url,
            secret_key=env.get(PREFIX + "SECRET_KEY") or _instance_secret(instance_path),
            instance_path=instance_path,
            log_level=log_level,
            log_format=_log_format(env),
            mfa_required_roles=_roles(env, "MFA_REQUIRED_ROLES", frozenset({"admin", "counsel"})),
            max_body_bytes=_positive_int(env, "MAX_BODY_BYTES", 1024 * 1024),
            db_pool_size=_positive_int(env, "DB_POOL_SIZE", 5),
            sqlite_busy_timeout_seconds=float(_positive_int(env, "SQLITE_BUSY_TIMEOUT_SECONDS", 30)),
            aws_max_concurrency=_positive_int(env, "AWS_MAX_CONCURRENCY", 16),
            attestation_valid_days=_positive_int(env, "ATTESTATION_VALID_DAYS", 30),
            batch_operations_threshold=_positive_int(env, "BATCH_OPERATIONS_THRESHOLD", 100_000),
            batch_operations_role_arn=_role_arn(env, "BATCH_OPERATIONS_ROLE_ARN"),
            session_cookie_secure=_flag(env, "SESSION_COOKIE_SECURE", default=True),
            session_idle_minutes=_positive_int(env, "SESSION_IDLE_MINUTES", 30),
            session_max_hours=_positive_int(env, "SESSION_MAX_HOURS", 12),
            signin_max_failures=_positive_int(env, "SIGNIN_MAX_FAILURES", 5),
            signin_address_max_failures=_positive_int(env, "SIGNIN_ADDRESS_MAX_FAILURES", 50),
            signin_window_minutes=_positive_int(env, "SIGNIN_WINDOW_MINUTES", 15),
            signin_lockout_minutes=_positive_int(env, "SIGNIN_LOCKOUT_MINUTES", 15),
            proxy_hops=_whole_number(env, "PROXY_HOPS", 0),
            audit_signing_key=_optional_path(env, "AUDIT_SIGNING_KEY"),
            audit_anchor=_s3_location(env, "AUDIT_ANCHOR"),
            audit_anchor_retention_days=_positive_int(env, "AUDIT_ANCHOR_RETENTION_DAYS", 2555),
            scheduling=SchedulingSettings.from_env(env),
            notices=_notice_settings(env),
        )


def _notice_settings(env: Mapping[str, str]) -> NoticeSettings:
    try:
        return NoticeSettings.from_env(env)
    except NoticeSettingsError as error:
        raise SettingsError(str(error)) from None


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{PREFIX}{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{PREFIX}{name} must be positive, got {value}")
    return value


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(PREFIX + name, "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{PREFIX}{name} must be 1 or 0 (true/false, yes/no, on/off), got {raw!r}")


def _whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise SettingsError(f"{PREFIX}{name} must be 0 or a positive whole number, got {raw!r}")
    return int(raw)


def _optional_path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(PREFIX + name)
    return Path(raw).expanduser() if raw else None


def _s3_location(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(PREFIX + name) or None
    if raw is not None and not re.fullmatch(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?", raw):
        raise SettingsError(f"{PREFIX}{name} must be s3://bucket or s3://bucket/prefix, got {raw!r}")
    return raw


def _role_arn(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(PREFIX + name) or None
    if raw is not None and not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}", raw):
        raise SettingsError(
            f"{PREFIX}{name} must be an IAM role ARN (arn:aws:iam::123456789012:role/name), got {raw!r}"
        )
    return raw


def _instance_secret(instance_path: Path) -> str:
    """A secret kept in the instance folder, so a development install survives restarts without setup."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _log_format(env: Mapping[str, str]) -> str:
    value = env.get(PREFIX + "LOG_FORMAT", "text").lower()
    if value not in {"text", "json"}:
        raise SettingsError("PRESERVATION_LOG_FORMAT must be text or json")
    return value


def _roles(env: Mapping[str, str], name: str, default: frozenset[str]) -> frozenset[str]:
    raw = env.get(PREFIX + name)
    if raw is None:
        return default
    roles = frozenset(part.strip() for part in raw.split(",") if part.strip())
    unknown = roles - {"admin", "counsel", "viewer", "auditor"}
    if unknown:
        raise SettingsError(f"{PREFIX}{name}: unknown role(s) {', '.join(sorted(unknown))}")
    return roles
