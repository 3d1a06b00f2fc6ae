"""S3 Inventory: find the newest report of a configuration and stream its data files from S3.

Reading a report costs a handful of requests (the configuration, one listing of the report folders,
manifest.json and manifest.checksum) plus one GET per data file, streamed in chunks: no request per
object version. What the rows mean is the domain's business (domain/inventory*.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from preservation.adapters.aws import AwsClients, jsonable
from preservation.domain.inventory import (
    InventoryError,
    InventoryFile,
    InventoryManifest,
    newest_manifest_key,
    parse_manifest,
    report_prefix,
)

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class InventoryReport:
    """The newest report of one inventory configuration: where it is, and what its manifest says."""

    configuration: dict[str, Any]
    destination_bucket: str
    manifest_key: str
    manifest: InventoryManifest


class InventoryReader:
    """Locates and streams inventory reports; AWS errors surface as botocore exceptions to the caller."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def newest_report(self, bucket: str, configuration_id: str, region: str | None) -> InventoryReport:
        """The newest report of a bucket's inventory configuration; InventoryError when there is none usable."""
        s3 = self._clients.client("s3", region)
        configuration = s3.get_bucket_inventory_configuration(Bucket=bucket, Id=configuration_id)[
            "InventoryConfiguration"
        ]
        if configuration.get("IncludedObjectVersions") != "All":
            raise InventoryError(f"inventory {configuration_id} lists current versions only; it must list all")
        destination = configuration["Destination"]["S3BucketDestination"]
        destination_bucket = str(destination["Bucket"]).rsplit(":", 1)[-1]
        prefix = report_prefix(destination.get("Prefix", ""), bucket, configuration_id)
        folders: list[str] = []
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=destination_bucket, Prefix=prefix, Delimiter="/"
        ):
            folders.extend(f"{p['Prefix']}manifest.json" for p in page.get("CommonPrefixes", ()))
        manifest_key = newest_manifest_key(folders)
        if manifest_key is None:
            raise InventoryError(f"inventory {configuration_id} has not published a report yet")
        raw = s3.get_object(Bucket=destination_bucket, Key=manifest_key)["Body"].read()
        checksum_key = manifest_key.removesuffix("manifest.json") + "manifest.checksum"
        checksum = s3.get_object(Bucket=destination_bucket, Key=checksum_key)["Body"].read().decode().strip()
        return InventoryReport(
            configuration=jsonable(configuration),
            destination_bucket=destination_bucket,
            manifest_key=manifest_key,
            manifest=parse_manifest(raw, checksum),
        )

    def chunks(self, report: InventoryReport, data_file: InventoryFile, region: str | None) -> Iterator[bytes]:
        """The stored bytes of one data file, streamed."""
        s3 = self._clients.client("s3", region)
        body = s3.get_object(Bucket=report.destination_bucket, Key=data_file.key)["Body"]
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        finally:
            body.close()
