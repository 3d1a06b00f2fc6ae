"""The raw evidence of a check, stored as canonical JSON and capped in size.

A check of a large bucket lists many versions; the database keeps at most EVIDENCE_MAX_BYTES of it.
Over the cap, the long lists (listed versions, delete markers, HEAD answers, tag reads) are cut to
their first entries, and the document says where and by how much under "truncated". The size and
SHA-256 of the whole document are kept beside it, so a cut is visible. The manifest table holds
every in-scope version regardless of the cap.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from preservation.models import CheckEvidence

EVIDENCE_MAX_BYTES = 2 * 1024 * 1024
# The lists that grow with the bucket or the vault, as paths of keys in a snapshot (S3, then AWS Backup).
_LONG_LISTS: tuple[tuple[str, ...], ...] = (
    ("listing", "versions"),
    ("listing", "delete_markers"),
    ("heads",),
    ("tags",),
    ("recovery_points", "response", "RecoveryPoints"),
)


def canonical(document: Any) -> str:
    """Sorted keys, no spaces, ASCII only (any character survives every database)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def evidence_row(check_id: int, snapshot: dict[str, Any], max_bytes: int = EVIDENCE_MAX_BYTES) -> CheckEvidence:
    """The evidence row of a check, cut to max_bytes when needed."""
    full = canonical(snapshot)
    digest = hashlib.sha256(full.encode()).hexdigest()
    document, truncated = full, False
    if len(full) > max_bytes:
        document, truncated = _cut(snapshot, max_bytes), True
    return CheckEvidence(
        check_id=check_id,
        document=document,
        stored_bytes=len(document),
        full_bytes=len(full),
        full_sha256=digest,
        truncated=truncated,
    )


def _cut(snapshot: dict[str, Any], max_bytes: int) -> str:
    """Halve the kept share of every long list until the document fits."""
    lists = {path: _get(snapshot, path) for path in _LONG_LISTS}
    lists = {path: items for path, items in lists.items() if items}
    keep = max((len(items) for items in lists.values()), default=0)
    while True:
        keep //= 2
        cut = json.loads(canonical(snapshot))
        notes = {}
        for path, items in lists.items():
            kept = items[:keep]
            target = cut
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = kept
            notes[".".join(path)] = {"total": len(items), "kept": len(kept)}
        cut["truncated"] = {"max_bytes": max_bytes, "lists": notes}
        document = canonical(cut)
        if len(document) <= max_bytes or keep == 0:
            return document


def _get(snapshot: dict[str, Any], path: tuple[str, ...]) -> list[Any]:
    holder: Any = snapshot
    for key in path:
        holder = holder.get(key) if isinstance(holder, dict) else None
    return holder if isinstance(holder, list) else []
