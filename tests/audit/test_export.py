"""The auditor's export: what it holds, that verify.py (standard library only) accepts it, and per-matter proofs."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import io
import json
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from preservation.domain.export_verifier import CSV_COLUMNS
from tests.audit.support import (
    FORMULAS,
    StoredTrail,
    extract,
    lines,
    moment,
    parsed,
    run_verifier,
    write_lines,
)
from tests.conftest import ApiClient

VERIFIER = Path(__file__).parents[2] / "preservation" / "domain" / "export_verifier.py"


def export(cli: Callable[..., Result], tmp_path: Path, *args: str, name: str = "export") -> Path:
    """Export through the command line and unpack it; the folder."""
    archive = tmp_path / f"{name}.zip"
    result = cli("audit", "export", "--out", str(archive), *args)
    assert result.exit_code == 0, result.output
    return extract(archive, tmp_path / name)


def test_the_verifier_imports_nothing_outside_the_standard_library() -> None:
    tree = ast.parse(VERIFIER.read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported - {"__future__"} <= sys.stdlib_module_names


def test_a_whole_log_export_verifies_offline(trail: StoredTrail, cli: Callable[..., Result], tmp_path: Path) -> None:
    folder = export(cli, tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == [
        "checkpoint.txt",
        "events.csv",
        "events.jsonl",
        "manifest.json",
        "proof.jsonl",
        "verify.py",
    ]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["checkpoint"]["tree_size"] == len(trail.events)
    assert manifest["files"]["events.jsonl"]["lines"] == len(trail.events)
    assert manifest["public_key_fingerprint"].startswith("sha256:")
    # Each line carries the exact bytes that were hashed, and the stored hash.
    first = lines(folder)[0]
    assert first.startswith(b'{"event":{"action":"user.created"')
    assert first.endswith(b'"}\n')
    assert parsed(first)["seq"] == 1
    assert json.loads(first)["hash"] == trail.events[0].hash

    result = run_verifier(folder)
    assert result.returncode == 0, result.stdout
    assert "VERIFIED: every event of the whole log" in result.stdout
    assert f"{len(trail.events)} events (seq 1 to {len(trail.events)})" in result.stdout
    pinned = run_verifier(folder, "--public-key", manifest["public_key"])
    assert pinned.returncode == 0
    assert "(given with --public-key)" in pinned.stdout


def test_the_verifier_reads_the_zip_itself(trail: StoredTrail, cli: Callable[..., Result], tmp_path: Path) -> None:
    folder = export(cli, tmp_path)
    result = run_verifier(folder, str(tmp_path / "export.zip"))
    assert result.returncode == 0, result.stdout


def test_an_export_without_the_csv_verifies_and_still_catches_a_change(
    trail: StoredTrail, cli: Callable[..., Result], api: ApiClient, tmp_path: Path
) -> None:
    folder = export(cli, tmp_path, "--no-csv")
    assert "events.csv" not in {p.name for p in folder.iterdir()}
    assert "events.csv" not in json.loads((folder / "manifest.json").read_text())["files"]
    result = run_verifier(folder)
    assert result.returncode == 0, result.stdout
    assert f"{len(trail.events)} events (seq 1 to {len(trail.events)}), 0 proof events, no events.csv" in result.stdout
    changed = lines(folder)
    changed[16] = changed[16].replace(b'"action":"', b'"action":"x', 1)
    write_lines(folder, changed)
    failed = run_verifier(folder)
    assert failed.returncode == 1
    assert "events.jsonl line 17 (seq 17): the event's bytes do not hash to the hash beside them" in failed.stdout

    response = api.get("/api/v1/audit/export", role="auditor", query_string={"csv": "false"})
    assert response.status_code == 200
    unpacked = extract(response.get_data(), tmp_path / "api-no-csv")
    assert not (unpacked / "events.csv").exists()
    assert run_verifier(unpacked).returncode == 0


def test_csv_neutralises_formula_cells(trail: StoredTrail, cli: Callable[..., Result], tmp_path: Path) -> None:
    folder = export(cli, tmp_path)
    with (folder / "events.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    cells = [cell for row in rows[1:] for cell in row]
    for formula in FORMULAS:
        assert "'" + formula in cells
        assert formula not in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    # An edit that strips the neutralising apostrophe is caught, even with the manifest updated to match.
    text = (folder / "events.csv").read_bytes().replace(b"'=2+3", b"=2+3", 1)
    write_lines(folder, [text], "events.csv")
    result = run_verifier(folder)
    assert result.returncode == 1
    assert "events.csv row" in result.stdout
    assert "differs from events.jsonl line" in result.stdout


def test_the_api_streams_the_export_to_auditors_and_admins_only(
    trail: StoredTrail, cli: Callable[..., Result], api: ApiClient, tmp_path: Path
) -> None:
    assert api.get("/api/v1/audit/export", role="auditor").status_code == 409  # no checkpoint yet
    assert cli("audit", "checkpoint").exit_code == 0
    response = api.get("/api/v1/audit/export", role="auditor", query_string={"matter_id": 2})
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.is_streamed
    assert 'filename="audit-export-matter-2-checkpoint-1.zip"' in response.headers["Content-Disposition"]
    folder = extract(response.get_data(), tmp_path / "api")
    result = run_verifier(folder)
    assert result.returncode == 0, result.stdout
    assert api.get("/api/v1/audit/export", role="admin").status_code == 200
    for role in ("counsel", "viewer"):
        assert api.get("/api/v1/audit/export", role=role).status_code == 403
    assert api.get("/api/v1/audit/export", role=None).status_code == 401
    backwards = {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
    assert api.get("/api/v1/audit/export", role="auditor", query_string=backwards).status_code == 422


def test_export_without_a_checkpoint_is_refused(trail: StoredTrail, cli: Callable[..., Result], tmp_path: Path) -> None:
    result = cli("audit", "export", "--out", str(tmp_path / "x.zip"), audit_signing_key=None)
    assert result.exit_code != 0
    assert "no signed checkpoint yet" in result.output
    assert not (tmp_path / "x.zip").exists()


# One matter, and time ranges ------------------------------------------------------------------------------


def test_a_matter_export_holds_exactly_that_matters_events(
    trail: StoredTrail, cli: Callable[..., Result], tmp_path: Path
) -> None:
    folder = export(cli, tmp_path, "--matter", "2")
    events = [parsed(line) for line in lines(folder)]
    assert [e["seq"] for e in events] == [e.seq for e in trail.of_matter(2)]
    assert [e["matter_seq"] for e in events] == list(range(1, len(events) + 1))
    assert lines(folder, "proof.jsonl") == []
    result = run_verifier(folder)
    assert result.returncode == 0, result.stdout
    assert "VERIFIED: every event of matter 2" in result.stdout


def test_a_matter_export_in_a_time_range_proves_the_range_complete(
    trail: StoredTrail, cli: Callable[..., Result], tmp_path: Path
) -> None:
    since, until = moment(10).isoformat(), moment(30).isoformat()
    folder = export(cli, tmp_path, "--matter", "2", "--since", since, "--until", until)
    expected = [e for e in trail.of_matter(2) if moment(10) <= _at(e.occurred_at) < moment(30)]
    assert [parsed(line)["seq"] for line in lines(folder)] == [e.seq for e in expected]
    proof = [parsed(line) for line in lines(folder, "proof.jsonl")]
    matter = trail.of_matter(2)
    before = matter[matter.index(expected[0]) - 1]
    after = matter[matter.index(expected[-1]) + 1 :]
    assert [e["seq"] for e in proof] == [before.seq] + [e.seq for e in after]
    result = run_verifier(folder)
    assert result.returncode == 0, result.stdout
    assert f"{len(expected)} events (seq {expected[0].seq} to {expected[-1].seq}), {len(proof)} proof events" in (
        result.stdout
    )


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_matter_export_shows_any_missing_event_of_the_range(
    trail: StoredTrail, cli: Callable[..., Result], tmp_path: Path
) -> None:
    since, until = moment(10).isoformat(), moment(30).isoformat()
    folder = export(cli, tmp_path, "--matter", "2", "--since", since, "--until", until)
    selected, proof = lines(folder), lines(folder, "proof.jsonl")

    # One of the range's events removed (manifest and CSV made to agree): a matter_seq is missing.
    dropped = parsed(selected[2])
    write_lines(folder, selected[:2] + selected[3:])
    result = run_verifier(folder)
    assert result.returncode == 1
    assert f"expected matter_seq {dropped['matter_seq']}, found {dropped['matter_seq'] + 1}" in result.stdout

    # An event of the range passed off as context: it sits in the range but not in events.jsonl.
    write_lines(folder, selected[1:])
    write_lines(folder, [selected[0], *proof], "proof.jsonl")
    result = run_verifier(folder)
    assert result.returncode == 1
    assert "lies in the range, yet the event is not in events.jsonl" in result.stdout

    # The event before the range withheld: nothing shows that no earlier event falls in the range.
    write_lines(folder, selected)
    write_lines(folder, proof[1:], "proof.jsonl")
    result = run_verifier(folder)
    assert result.returncode == 1
    assert "earlier events are missing" in result.stdout

    # The events after the range withheld: the chain no longer reaches the matter's signed head.
    write_lines(folder, proof[:1], "proof.jsonl")
    result = run_verifier(folder)
    assert result.returncode == 1
    assert "missing tail: the chain stops at matter_seq" in result.stdout


def test_a_whole_log_export_in_a_time_range_verifies(
    trail: StoredTrail, cli: Callable[..., Result], tmp_path: Path
) -> None:
    folder = export(cli, tmp_path, "--since", moment(5).isoformat(), "--until", moment(20).isoformat())
    assert len(lines(folder)) == 15
    result = run_verifier(folder)
    assert result.returncode == 0, result.stdout


def test_an_export_of_an_empty_range_still_proves_it_empty(
    trail: StoredTrail, cli: Callable[..., Result], tmp_path: Path
) -> None:
    since, until = moment(11).isoformat(), moment(11).replace(second=30).isoformat()  # matter 3 is quiet then
    folder = export(cli, tmp_path, "--matter", "3", "--since", since, "--until", until)
    assert lines(folder) == []
    result = run_verifier(folder)
    assert result.returncode == 0, result.stdout


def test_the_zip_is_streamed_in_bounded_chunks(trail: StoredTrail, cli: Callable[..., Result], tmp_path: Path) -> None:
    """The zip is written to a non-seekable sink, so entries carry data descriptors and sizes at the end."""
    folder = export(cli, tmp_path)
    assert folder.exists()
    with zipfile.ZipFile(tmp_path / "export.zip") as archive:
        info = archive.getinfo("events.jsonl")
        assert info.flag_bits & 0x08  # sizes follow the data: nothing was seeked back to
        assert archive.testzip() is None
    assert io.BytesIO((tmp_path / "export.zip").read_bytes()).getbuffer().nbytes > 0
