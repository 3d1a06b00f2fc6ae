"""The collectors the check and preserve use cases are given, built from one set of boto3 clients."""

from __future__ import annotations

from dataclasses import dataclass

import boto3

from preservation.adapters.aws import AwsClients
from preservation.adapters.backup import BackupInspector
from preservation.adapters.hold_release import HoldReleaser
from preservation.adapters.logs import LogsInspector
from preservation.adapters.s3 import S3Inspector
from preservation.adapters.s3_inventory_check import InventoryInspector


@dataclass(frozen=True)
class AwsInspectors:
    """One inspector per kind of AWS source."""

    s3: S3Inspector
    logs: LogsInspector
    inventory: InventoryInspector
    backup: BackupInspector
    releaser: HoldReleaser


def build_inspectors(
    *,
    max_workers: int = 16,
    session: boto3.session.Session | None = None,
    max_attempts: int | None = None,
) -> AwsInspectors:
    """Inspectors sharing one client cache whose connection pool matches the worker pool."""
    clients = AwsClients(session, max_pool_connections=max_workers, max_attempts=max_attempts)
    return AwsInspectors(
        s3=S3Inspector(clients, max_workers=max_workers),
        logs=LogsInspector(clients),
        inventory=InventoryInspector(clients, max_workers=max_workers),
        backup=BackupInspector(clients),
        releaser=HoldReleaser(clients, max_workers=max_workers),
    )
