"""`python -m jobs`: run the scheduler process (the same as `preservation scheduler`)."""

from __future__ import annotations

import sys

from config.logging import configure_logging
from config.settings import Settings, SettingsError
from jobs.runner import run_scheduler


def main() -> int:
    """Read the settings and run the scheduler until it is told to stop."""
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    configure_logging(settings.log_level, settings.log_format)
    run_scheduler(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
