"""Logging for every process: one line per record on stderr."""

import logging


def configure_logging(level: str) -> None:
    """Send the service's records to stderr at the configured level."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
