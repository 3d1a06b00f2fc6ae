"""The tamper matrix against the stand-alone verify.py, run in a bare interpreter on an extracted export.

Tampering with the exported files: every file edit below also updates manifest.json's SHA-256 and line
count, as a careful forger would, so what catches it is the chain and the signature, not the manifest.
Tampering with the database before the export: the export carries the damage, and verify.py names it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from preservation.adapters.signing import generate_key_file, load_signer
from preservation.domain.checkpoints import checkpoint_body, sign_note, verifier_key
from tests.audit.support import (
    KEY_NAME,
    REWRITE,
    StoredTrail,
    altered,
    extract,
    forged_line,
    lines,
    parsed,
    rechained,
    rewrite_params,
    run_verifier,
    write_lines,
)
from tests.audit.test_export import export


@pytest.fixture
def folder(trail: StoredTrail, cli: Callable[..., Result], tmp_path: Path) -> Path:
    """A whole-log export of the 48-event trail, extracted."""
    return export(cli, tmp_path)


def _failed(folder: Path, *args: str) -> str:
    result = run_verifier(folder, *args)
    assert result.returncode == 1, result.stdout
    assert "FAILED" in result.stdout
    return result.stdout


def _rehash_all(content: list[bytes], start: int, **change: object) -> list[bytes]:
    """Lines from index start on rewritten with the change and every hash and link recomputed."""
    out = content[:start]
    previous_hash = json.loads(content[start - 1])["hash"] if start else "0" * 64
    heads = {}
    for line in content[:start]:
        event = parsed(line)
        if event["matter_id"]:
            heads[event["matter_id"]] = json.loads(line)["hash"]
    for index, line in enumerate(content[start:]):
        event = {**parsed(line), **(change if index == 0 else {})}
        event["prev_hash"] = previous_hash
        if event["matter_id"]:
            event["matter_prev_hash"] = heads.get(event["matter_id"], "0" * 64)
        new = forged_line(event)
        previous_hash = json.loads(new)["hash"]
        if event["matter_id"]:
            heads[event["matter_id"]] = previous_hash
        out.append(new)
    return out


def test_changing_one_field_of_one_event(folder: Path) -> None:
    content = lines(folder)
    content[16] = content[16].replace(b'"actor":"user:counsel@example.org"', b'"actor":"user:mallory@example.org"')
    write_lines(folder, content)
    assert "events.jsonl line 17 (seq 17): the event's bytes do not hash to the hash beside them" in _failed(folder)


def test_changing_one_event_and_its_own_hash(folder: Path) -> None:
    content = lines(folder)
    content[16] = forged_line({**parsed(content[16]), "actor": "user:mallory@example.org"})
    write_lines(folder, content)
    output = _failed(folder)
    assert "events.jsonl line 18 (seq 18): prev_hash is not the hash of the event before it" in output


def test_deleting_an_event_in_the_middle(folder: Path) -> None:
    content = lines(folder)
    write_lines(folder, content[:16] + content[17:])
    assert "events.jsonl line 17 (seq 18): expected seq 17, found 18: events are missing" in _failed(folder)


def test_inserting_a_forged_event(folder: Path) -> None:
    content = lines(folder)
    after = parsed(content[16])
    forged = {**after, "seq": 18, "actor": "user:mallory@example.org", "prev_hash": json.loads(content[16])["hash"]}
    forged.update(matter_id=None, matter_seq=None, matter_prev_hash=None)
    write_lines(folder, [*content[:17], forged_line(forged), *content[17:]])
    output = _failed(folder)
    assert "events.jsonl line 19 (seq 18): expected seq 19, found 18: events are duplicated or out of order" in output
    assert "events.jsonl line 19 (seq 18): prev_hash is not the hash of the event before it" in output


def test_deleting_the_last_events(folder: Path) -> None:
    content = lines(folder)
    write_lines(folder, content[:-3])
    output = _failed(folder)
    assert "after events.jsonl line 45 (seq 45): missing tail: the chain stops at seq 45, the checkpoint signs 48" in (
        output
    )


def test_recomputing_every_hash_after_a_change_is_caught_by_the_signature(folder: Path) -> None:
    content = lines(folder)
    write_lines(folder, _rehash_all(content, 16, actor="user:mallory@example.org"))
    output = _failed(folder)
    assert "events.jsonl line 48 (seq 48): the head hash differs from the one the checkpoint signs" in output
    assert "its head differs from the one the checkpoint signs" in output  # the matters' heads too


def test_a_rewrite_re_signed_with_another_key_fails_against_the_published_key(folder: Path, tmp_path: Path) -> None:
    """A forger can re-sign a rewritten export with a key of their own; pinning the operator's key catches it."""
    published = json.loads((folder / "manifest.json").read_text())["public_key"]
    content = _rehash_all(lines(folder), 16, actor="user:mallory@example.org")
    write_lines(folder, content)
    generate_key_file(tmp_path / "forger.key", KEY_NAME)
    forger = load_signer(tmp_path / "forger.key")
    head = json.loads(content[-1])["hash"]
    body = checkpoint_body(KEY_NAME, len(content), head, "2026-01-01T00:00:00.000000Z", {})
    (folder / "checkpoint.txt").write_text(sign_note(body, forger))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["public_key"] = str(verifier_key(forger))
    manifest["files"]["checkpoint.txt"]["sha256"] = hashlib.sha256((folder / "checkpoint.txt").read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))

    unpinned = run_verifier(folder)
    assert verifier_key(forger).fingerprint in unpinned.stdout  # shown, to compare with the published one
    output = _failed(folder, "--public-key", published)
    assert "checkpoint.txt: the note carries no signature by test.example/preservation" in output


@pytest.mark.parametrize("name", ["events.jsonl", "events.csv", "checkpoint.txt", "manifest.json", "proof.jsonl"])
def test_editing_a_byte_of_an_exported_file(
    name: str, trail: StoredTrail, cli: Callable[..., Result], tmp_path: Path
) -> None:
    args = ("--since", trail.events[20].occurred_at) if name == "proof.jsonl" else ()
    folder = export(cli, tmp_path, *args)
    path = folder / name
    data = bytearray(path.read_bytes())
    marker, offset = {
        "events.jsonl": (b'"n":12', 4),  # the event of seq 21 (after the role users' 8)
        "events.csv": (b"event 12", 6),
        "checkpoint.txt": (b"\n", 1),
        "manifest.json": (b'"sha256": "', 11),
        "proof.jsonl": (b'"details":{', 12),
    }[name]
    position = data.index(marker) + offset
    data[position] = ord("9") if data[position] != ord("9") else ord("8")
    path.write_bytes(bytes(data))
    output = _failed(folder)
    where = {
        "events.jsonl": "events.jsonl line 21 (seq 21): the event's bytes do not hash",
        "events.csv": "events.csv row 22: differs from events.jsonl line 21 (seq 21)",
        "checkpoint.txt": "checkpoint.txt: the signature by test.example/preservation does not verify",
        "manifest.json": ": its SHA-256 differs from the one in manifest.json",
        "proof.jsonl": "proof.jsonl line 1 (seq 20): the event's bytes do not hash",
    }[name]
    assert where in output


def test_dropping_a_line(folder: Path) -> None:
    content = lines(folder)
    write_lines(folder, content[:30] + content[31:], fix_manifest=False)
    output = _failed(folder)
    assert "events.jsonl line 31 (seq 32): expected seq 31, found 32" in output
    assert "events.jsonl: its SHA-256 differs from the one in manifest.json" in output
    assert "events.jsonl: holds 47 events, manifest.json says 48" in output


def test_swapping_two_lines(folder: Path) -> None:
    content = lines(folder)
    content[20], content[21] = content[21], content[20]
    write_lines(folder, content)
    output = _failed(folder)
    assert "events.jsonl line 21 (seq 22): expected seq 21, found 22" in output
    assert "events.jsonl line 22 (seq 21): expected seq 23, found 21: events are duplicated or out of order" in output


# Tampered in the database, then exported -----------------------------------------------------------------


def _export_after(cli: Callable[..., Result], tmp_path: Path) -> Path:
    archive = tmp_path / "after.zip"
    result = cli("audit", "export", "--out", str(archive), "--no-checkpoint")
    assert result.exit_code == 0, result.output
    return extract(archive, tmp_path / "after")


@pytest.fixture
def signed(trail: StoredTrail, cli: Callable[..., Result]) -> StoredTrail:
    """The trail with a checkpoint over its 48 events."""
    assert cli("audit", "checkpoint").exit_code == 0
    return trail


def test_an_event_changed_in_the_database(
    signed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], tmp_path: Path
) -> None:
    """The stored bytes changed, the hash kept: events.csv is spelled from columns generated from those bytes, so it
    agrees with events.jsonl, and the hash beside the event names it."""
    hostile_dba(REWRITE, **altered(signed.events[29], subject_id="x"))
    output = _failed(_export_after(cli, tmp_path))
    assert "events.jsonl line 30 (seq 30): the event's bytes do not hash to the hash beside them" in output
    assert "events.csv" not in output


def test_an_event_changed_in_the_database_with_its_hash_recomputed(
    signed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], tmp_path: Path
) -> None:
    hostile_dba(REWRITE, **altered(signed.events[29], rehash=True, subject_id="x"))
    output = _failed(_export_after(cli, tmp_path))
    assert "events.jsonl line 31 (seq 31): prev_hash is not the hash of the event before it" in output


def test_an_event_deleted_in_the_database(
    signed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], tmp_path: Path
) -> None:
    hostile_dba("DELETE FROM audit_events WHERE seq = 30")
    assert "events.jsonl line 30 (seq 31): expected seq 30, found 31" in _failed(_export_after(cli, tmp_path))


def test_the_last_events_deleted_in_the_database(
    signed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], tmp_path: Path
) -> None:
    hostile_dba("DELETE FROM audit_events WHERE seq > 44")
    output = _failed(_export_after(cli, tmp_path))
    assert "missing tail: the chain stops at seq 44, the checkpoint signs 48: the last 4 events are missing" in output


def test_every_hash_recomputed_in_the_database(
    signed: StoredTrail, hostile_dba: Callable[..., None], cli: Callable[..., Result], tmp_path: Path
) -> None:
    for params in rewrite_params(rechained(signed.events, 25, actor="user:mallory@example.org"), 25):
        hostile_dba(REWRITE, **params)
    output = _failed(_export_after(cli, tmp_path))
    assert "events.jsonl line 48 (seq 48): the head hash differs from the one the checkpoint signs" in output
