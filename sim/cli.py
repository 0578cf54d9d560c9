"""The `crowdsim` command: parse, call the API, print. Bad input exits 2, internal errors 1."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from sim.api import run as run_model
from sim.config import parse_assignment, read_toml
from sim.errors import ConfigError
from sim.output import write_run
from sim.scenario import Scenario, load_scenario, scenario_names

EXIT_BAD_INPUT = 2


def reports_bad_input(command: Callable) -> Callable:
    """Turn a ConfigError into one clear line on stderr and exit code 2 (no traceback)."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"crowdsim: error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)

    return wrapper


@click.group()
@click.version_option(package_name="crowdsim")
def main() -> None:
    """Agent-based simulation of policing crowded places."""


@main.command()
@click.option("--scenario", required=True, help="Built-in scenario name or path to a .toml file.")
@click.option("--seed", type=int, default=0, show_default=True, help="Run seed.")
@click.option("--days", type=int, default=None, help="Override the scenario's number of days.")
@click.option("--scale", type=float, default=None, help="Scale visitor and offender numbers.")
@click.option("--set", "assignments", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override any scenario field, e.g. --set visitors.per_day=20000.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of run metrics.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write metrics.json, places.parquet and hourly.parquet here.")
@reports_bad_input
def run(scenario: str, seed: int, days: int | None, scale: float | None,
        assignments: tuple[str, ...], as_json: bool, out: Path | None) -> None:
    """Run one simulation and print its metrics."""
    overrides = dict(parse_assignment(a) for a in assignments)
    result = run_model(scenario, seed=seed, days=days, scale=scale, overrides=overrides)
    if out is not None:
        write_run(result, out)
    if as_json:
        click.echo(json.dumps(result.metrics))
        return
    click.echo(f"scenario {scenario}, seed {seed}")
    width = max(len(k) for k in result.metrics)
    for key, value in result.metrics.items():
        shown = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
        click.echo(f"  {key:<{width}}  {shown:>14}")
    if out is not None:
        click.echo(f"wrote {out}/")


@main.command(name="list")
def list_builtins() -> None:
    """List the built-in scenarios."""
    click.echo("scenarios:")
    for name in scenario_names():
        scenario = load_scenario(name)
        click.echo(f"  {name:<16} {scenario.description}")


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@reports_bad_input
def validate(file: Path) -> None:
    """Check a scenario file; print what it holds or exit 2 naming the bad field."""
    read_toml(file)
    scenario: Scenario = load_scenario(str(file))
    city = scenario.city_model()
    click.echo(f"{file}: valid scenario {scenario.name!r}: {city.n_nodes} nodes, "
               f"{len(city.attractions)} attractions, {len(city.entries)} entries, "
               f"{len(city.bus_lines)} bus lines, {scenario.days} days")


if __name__ == "__main__":
    main()
