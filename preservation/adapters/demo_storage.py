"""The demo's storage: a local S3 and CloudWatch Logs endpoint (moto's server) holding the recordings of
the *Al Otro Lado* demo in the states `preservation.services.demo.DEMO_STORAGE` describes.

Only `preservation demo` uses this; moto is installed by the `demo` extra.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from preservation.adapters.aws import AwsClients

REGION = "us-west-2"
CAMERAS = ("cam-01", "cam-02", "cam-03")


def start_local_aws(host: str = "127.0.0.1", port: int = 0) -> tuple[Any, str]:
    """Start moto's server on a free port; returns the server (call .stop()) and its endpoint URL."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 (moto is only present with the demo extra)

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return server, f"http://{bound_host}:{bound_port}"


def _create_bucket(s3: Any, bucket: str, *, object_lock: bool) -> None:
    s3.create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": REGION},
        ObjectLockEnabledForBucket=object_lock,
    )
    if not object_lock:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def _record(s3: Any, bucket: str, prefix: str, day: dt.date, **lock: Any) -> list[tuple[str, str]]:
    written = []
    for camera in CAMERAS:
        key = f"{prefix}{day.isoformat()}/{camera}.mp4"
        answer = s3.put_object(Bucket=bucket, Key=key, Body=f"demo recording {camera} {day}".encode(), **lock)
        written.append((key, answer["VersionId"]))
    return written


def build_demo_storage(clients: AwsClients, now: dt.datetime) -> None:
    """Create the buckets, recordings and log group of the demo."""
    s3 = clients.client("s3", REGION)
    today = now.date()

    # San Ysidro: Object Lock and a legal hold on every version.
    _create_bucket(s3, "poe-video-san-ysidro", object_lock=True)
    for key, version in _record(s3, "poe-video-san-ysidro", "recordings/", today):
        s3.put_object_legal_hold(Bucket="poe-video-san-ysidro", Key=key, VersionId=version, LegalHold={"Status": "ON"})

    # Otay Mesa: the overwrite loop, a 30-day expiration and noncurrent versions gone a day later; no lock.
    _create_bucket(s3, "poe-video-otay-mesa", object_lock=False)
    s3.put_bucket_lifecycle_configuration(
        Bucket="poe-video-otay-mesa",
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "overwrite-after-30-days",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "recordings/"},
                    "Expiration": {"Days": 30},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                }
            ]
        },
    )
    _record(s3, "poe-video-otay-mesa", "recordings/", today)

    # Calexico video: GOVERNANCE-mode retention only, which anyone allowed to bypass it can lift.
    _create_bucket(s3, "poe-video-calexico", object_lock=True)
    _record(
        s3,
        "poe-video-calexico",
        "recordings/",
        today,
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=now + dt.timedelta(days=3650),
    )

    # Calexico audio: a log group kept for 14 days.
    logs = clients.client("logs", REGION)
    logs.create_log_group(logGroupName="/poe/calexico/audio-gateway")
    logs.put_retention_policy(logGroupName="/poe/calexico/audio-gateway", retentionInDays=14)
