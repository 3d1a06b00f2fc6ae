"""`preservation check`, `preserve` and `attest` on moto."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from preservation.cli import main
from tests.checks.conftest import SourceFactory


@pytest.fixture
def runner(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose commands use the test database."""
    monkeypatch.setenv("PRESERVATION_DATABASE_URL", database_url)
    monkeypatch.setenv("PRESERVATION_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("PRESERVATION_SECRET_KEY", "test-secret-key")
    return CliRunner()


def test_check_preserve_check_from_the_command_line(s3: Any, runner: CliRunner, bound_source: SourceFactory) -> None:
    s3.create_bucket(Bucket="poe-video", ObjectLockEnabledForBucket=True)
    for number in range(2):
        s3.put_object(Bucket="poe-video", Key=f"recordings/cam-{number}.mp4", Body=b"video")
    source_id = bound_source()

    first = runner.invoke(main, ["check", str(source_id)])
    assert first.exit_code == 1, first.output
    assert f"source {source_id}: at_risk" in first.output
    assert "[high] S3_VERSION_UNPROTECTED x2" in first.output

    plan = runner.invoke(main, ["preserve", str(source_id)])
    assert plan.exit_code == 0, plan.output
    assert "put_legal_hold: 2" in plan.output
    assert "dry run: nothing changed" in plan.output

    done = runner.invoke(main, ["preserve", str(source_id), "--execute"])
    assert done.exit_code == 0, done.output
    assert "done: 2 succeeded, 0 failed" in done.output

    every = runner.invoke(main, ["check", "--all"])
    assert every.exit_code == 0, every.output
    assert f"source {source_id}: preserved" in every.output


def test_check_needs_one_source_or_all(runner: CliRunner) -> None:
    assert runner.invoke(main, ["check"]).exit_code == 2
    assert runner.invoke(main, ["check", "1", "--all"]).exit_code == 2
    missing = runner.invoke(main, ["check", "999"])
    assert missing.exit_code == 1
    assert "DataSource 999 does not exist" in missing.output


def test_attest_and_check_a_manual_source(aws: None, runner: CliRunner, bound_source: SourceFactory) -> None:
    source_id = bound_source(kind="manual", location="DVR in the control room")
    assert runner.invoke(main, ["check", str(source_id)]).exit_code == 1
    attested = runner.invoke(main, ["attest", str(source_id), "--note", "Drive checked", "--as", "user:s@example.org"])
    assert attested.exit_code == 0, attested.output
    checked = runner.invoke(main, ["check", str(source_id)])
    assert checked.exit_code == 0, checked.output
    assert "preserved" in checked.output
