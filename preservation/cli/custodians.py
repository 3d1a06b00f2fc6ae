"""`preservation custodians import FILE`: custodians from a CSV file, all or nothing."""

from __future__ import annotations

from typing import BinaryIO

import click

from preservation.cli.common import command_unit
from preservation.services import custodian_import
from preservation.services.custodian_import import ImportRefused


@click.group("custodians")
def custodians_group() -> None:
    """Custodians and data stewards."""


@custodians_group.command("import")
@click.argument("csv_file", type=click.File("rb"))
def import_command(csv_file: BinaryIO) -> None:
    """Import custodians from CSV_FILE (name, email, title, department, manager_email, employment_status,
    end_date); a file with any bad row imports nothing and every problem is listed."""
    data = csv_file.read(custodian_import.MAX_ROWS * 4096 + 1)
    with command_unit("cli:custodians-import") as unit:
        try:
            result = custodian_import.import_custodians(unit, data)
        except ImportRefused as refused:
            for line, reason in refused.problems:
                click.echo(f"line {line}: {reason}", err=True)
            raise
    click.echo(
        f"{len(result.created)} created, {len(result.updated)} updated, {len(result.unchanged)} unchanged", err=True
    )
