"""Units of work of a job run: each in its own transaction, a failure noted and the run going on without it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError

from jobs.context import JobContext
from preservation.services.leases import LeaseLost

log = logging.getLogger(__name__)


class PartialFailure(Exception):
    """Some units of a run failed; the others were done. The run is recorded failed, with its counts."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


def attempt(ctx: JobContext, work: Callable[..., None], *args: Any) -> Exception | None:
    """Do some work in its own transaction; the error that rolled it back, if any.

    A lost lease or an unreachable database is raised instead: every later unit would fail the same way.
    """
    try:
        with ctx.unit() as unit:
            work(unit, *args)
    except (LeaseLost, OperationalError, InterfaceError):
        raise
    except Exception as error:  # one unit's failure, whatever it is, must not stop the others
        return error
    return None


def unit_of_work(ctx: JobContext, name: str, failed: list[str], work: Callable[..., None], *args: Any) -> bool:
    """Do one unit in its own transaction; a failure is logged and noted, and the run goes on with the next."""
    error = attempt(ctx, work, *args)
    if error is None:
        return True
    log.error("%s failed: %s: %s", name, type(error).__name__, error, exc_info=error)
    failed.append(f"{name}: {type(error).__name__}: {error}"[:300])
    return False
