"""The ``riskmodel`` command: one thin subcommand per pipeline step.

Every :class:`~riskmodel.errors.RiskModelError` is printed as a clear message
with a non-zero exit code, never as a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from riskmodel import __version__, config
from riskmodel.errors import RiskModelError


class _Group(click.Group):
    """Turns riskmodel's own errors into a message and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except RiskModelError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(2)


settings_option = click.option(
    "--settings", "settings_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="A settings file overriding the defaults (default: riskmodel.yaml in the project root, if present).")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="riskmodel")
def main():
    """Integrity-risk analytics for a supervision office (纪检监察).

    The model assists judgement; every alert goes to a human.
    """


@main.command()
@click.option("--preset", type=click.Choice(["small", "demo", "large"]), default="demo", show_default=True,
              help="Size of the company: small (tests, seconds), demo (default), large (benchmarks).")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed; same seed and preset give the same data.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=config.DEMO_DATA_DIR,
              show_default=True, help="Output folder (replaced atomically when generation succeeds).")
@settings_option
@click.option("--quiet", is_flag=True, help="No progress display.")
def generate(preset, seed, out, settings_path, quiet):
    """Generate the synthetic company: one Parquet file per table, ground truth under OUT/truth/."""
    from riskmodel.data.synthetic import generate_company
    from riskmodel.settings import load_settings

    manifest = generate_company(preset=preset, seed=seed, out=out, settings=load_settings(settings_path),
                                progress=not quiet)
    rows = sum(manifest["tables"].values())
    click.echo(f"wrote {len(manifest['tables'])} tables, {rows:,} rows to {out} (fingerprint {manifest['fingerprint'][:12]})")


@main.command()
@click.argument("source", type=click.Path(exists=False, path_type=Path))
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="YAML file renaming your tables/columns to riskmodel's (see docs/data_contract.md).")
@click.option("--encoding", default=None, help="Encoding of CSV files (default: UTF-8; e.g. gbk).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def validate(source, mapping, encoding, fmt):
    """Check a dataset (folder of CSV/Parquet files or a DuckDB database) against the data contract.

    Exit code 0 on a clean dataset, 1 when any error is found.
    """
    from riskmodel.data.contracts import validate_dataset

    report = validate_dataset(source, mapping=mapping, encoding=encoding)
    click.echo(report.to_json() if fmt == "json" else report.to_text())
    sys.exit(0 if report.ok else 1)


@main.group()
def indicators():
    """The red-flag indicator catalogue."""


@indicators.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def indicators_list(fmt):
    """List every indicator with its id, titles, entity, parameters and sources."""
    import json

    from riskmodel.indicators.registry import all_indicators

    entries = [cls.describe() for cls in all_indicators().values()]
    if fmt == "json":
        click.echo(json.dumps(entries, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table("id", "名称", "title", "entity", "sev", "threshold")
    for e in entries:
        t.add_row(e["id"], e["title_zh"], e["title_en"], e["entity"], str(e["severity"]), e["threshold_method"])
    Console().print(t)


@indicators.command("docs")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=config.PROJ_ROOT / "docs" / "indicators",
              show_default=True)
def indicators_docs(out):
    """Write one documentation page per indicator (Methodology, Example, Why, Output, Configuration, Exclusions)."""
    from riskmodel.indicators.docs import write_docs

    paths = write_docs(out)
    click.echo(f"wrote {len(paths)} pages to {out}")


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: data/interim/<dataset name>/features).")
@click.option("--only", multiple=True, help="Compute only these indicator ids (repeatable).")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--no-validate", is_flag=True, help="Skip the data-contract check (for data validated already).")
@settings_option
@click.option("--quiet", is_flag=True)
def features(source, out, only, mapping, no_validate, settings_path, quiet):
    """Compute every red-flag indicator on SOURCE and roll the flags up to people, units and periods."""
    from riskmodel.data.dataset import Dataset
    from riskmodel.indicators.runner import write_features
    from riskmodel.settings import load_settings

    settings = load_settings(settings_path)
    if not no_validate:
        from riskmodel.data.contracts import require_valid

        require_valid(source, mapping=mapping)
    out = out or config.INTERIM_DATA_DIR / Path(source).name / "features"
    m = write_features(Dataset.from_dir(source, mapping=mapping), out, settings, list(only) or None, progress=not quiet)
    click.echo(f"{m['flags']:,} indicator rows, {m['fired']:,} fired, from {len(m['indicators'])} indicators -> {out}")


if __name__ == "__main__":
    main()
