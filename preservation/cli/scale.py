"""`preservation seed-scale`: fill a database to the size the pages are measured at."""

from __future__ import annotations

import click

from preservation import migrate
from preservation.cli.common import command_unit, load_settings
from preservation.services.scale_seed import ScaleSizes, seed_scale


@click.command("seed-scale")
@click.option(
    "--scale", default=1.0, show_default=True, type=click.FloatRange(0.0001, 10.0), help="fraction of full size"
)
def seed_scale_command(scale: float) -> None:
    """Add 500 matters, 20,000 custodians, 5,000 sources, 100,000 findings, 1,000,000 audit events (times SCALE)."""
    settings = load_settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    with command_unit("cli:seed-scale") as unit:
        added = seed_scale(unit.session, ScaleSizes.at(scale), unit.clock(), lambda text: click.echo(text, err=True))
    click.echo(", ".join(f"{count} {name.replace('_', ' ')}" for name, count in added.items()), err=True)
