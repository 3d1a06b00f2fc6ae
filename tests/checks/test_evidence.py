"""Evidence is stored whole up to the cap, and cut visibly beyond it."""

from __future__ import annotations

import hashlib
import json

from preservation.services.evidence import canonical, evidence_row


def _snapshot(versions: int) -> dict[str, object]:
    listed = [
        {"Key": f"recordings/cam-{n:06d}.mp4", "VersionId": f"v{n}", "LastModified": "2026-11-01"}
        for n in range(versions)
    ]
    return {
        "kind": "s3",
        "versioning": {"response": {"Status": "Enabled"}},
        "listing": {"pages": 1, "versions": listed, "delete_markers": []},
        "heads": [{"key": v["Key"], "version_id": v["VersionId"], "response": {}} for v in listed],
    }


def test_small_evidence_is_stored_whole() -> None:
    snapshot = _snapshot(3)
    row = evidence_row(1, snapshot)
    assert row.truncated is False
    assert json.loads(row.document) == snapshot
    assert row.full_sha256 == hashlib.sha256(canonical(snapshot).encode()).hexdigest()
    assert row.stored_bytes == row.full_bytes


def test_large_evidence_is_cut_under_the_cap_and_says_where() -> None:
    snapshot = _snapshot(2000)
    row = evidence_row(1, snapshot, max_bytes=20_000)
    assert row.truncated is True
    assert row.stored_bytes <= 20_000 < row.full_bytes
    document = json.loads(row.document)
    notes = document["truncated"]["lists"]
    assert notes["listing.versions"]["total"] == 2000
    assert notes["listing.versions"]["kept"] == len(document["listing"]["versions"]) > 0
    assert notes["heads"]["kept"] == len(document["heads"])
    assert document["versioning"] == snapshot["versioning"], "bucket settings are never cut"
    assert row.full_sha256 == hashlib.sha256(canonical(snapshot).encode()).hexdigest()


def test_non_ascii_keys_survive_as_escapes() -> None:
    row = evidence_row(1, {"key": "grabación\u0000.mp4"})
    assert row.document.isascii()
    assert json.loads(row.document)["key"] == "grabación\u0000.mp4"
