"""Settings know every PRESERVATION_* name the repository's own configuration files use, and load those files."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

from config.settings import KNOWN_VARIABLES, PREFIX, Settings, SettingsError

ROOT = Path(__file__).resolve().parent.parent
# A name, not a family of them written as PRESERVATION_NOTICE_* in prose.
_NAME = re.compile(r"PRESERVATION_([A-Z][A-Z0-9_]*)(?![A-Z0-9_*])")
ENV_FILES = (ROOT / "config" / "example.env", ROOT / "deploy" / "env.example")


def _environment_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def test_the_gunicorn_bind_address_is_a_known_setting(tmp_path: Path) -> None:
    env = {"PRESERVATION_BIND": "0.0.0.0:8000", "PRESERVATION_INSTANCE_PATH": str(tmp_path)}
    assert Settings.from_env(env).instance_path == tmp_path.resolve()
    with pytest.raises(SettingsError, match="PRESERVATION_BINDS"):
        Settings.from_env({**env, "PRESERVATION_BINDS": "0.0.0.0:8000"})


def test_every_name_in_config_and_deploy_is_known_to_settings() -> None:
    files = [path for folder in ("config", "deploy") for path in (ROOT / folder).rglob("*") if path.is_file()]
    named = {
        match.group(1)
        for path in files
        if path.suffix != ".pyc"
        for match in _NAME.finditer(path.read_text(encoding="utf-8"))
        if not match.group(1).startswith("TEST_")
    }
    assert {"BIND", "DATABASE_URL", "SCHEDULER_LEASE_SECONDS", "NOTICE_LINK_DAYS"} <= named  # the scan sees them
    assert named - set(KNOWN_VARIABLES) == set()


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda path: path.name)
def test_the_example_environment_files_load(path: Path) -> None:
    env = _environment_file(path)
    assert all(name.startswith((PREFIX, "AWS_")) for name in env)
    Settings.from_env(env)


def test_gunicorn_listens_where_the_environment_file_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESERVATION_BIND", "127.0.0.1:8123")
    assert runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))["bind"] == "127.0.0.1:8123"
