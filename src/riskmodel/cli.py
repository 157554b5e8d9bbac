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
              help="Size of the company: small (tests, seconds), demo (default), large (benchmarks; ~19 M rows).")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed; same seed and preset give the same data.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=config.DEMO_DATA_DIR,
              show_default=True, help="Output folder (replaced atomically when generation succeeds).")
@click.option("--provinces", type=click.IntRange(min=1), default=1, show_default=True,
              help="A national company: this many id-disjoint provinces of the generated one (scale benchmarks: "
                   "--preset large --provinces 6 gives ~116 M rows).")
@settings_option
@click.option("--quiet", is_flag=True, help="No progress display.")
def generate(preset, seed, out, provinces, settings_path, quiet):
    """Generate the synthetic company: one Parquet file per table, ground truth under OUT/truth/."""
    import tempfile

    from riskmodel.data.synthetic import generate_company
    from riskmodel.data.synthetic.national import national_company
    from riskmodel.settings import load_settings

    if provinces == 1:
        manifest = generate_company(preset=preset, seed=seed, out=out, settings=load_settings(settings_path), progress=not quiet)
    else:
        with tempfile.TemporaryDirectory(prefix="riskmodel-province-") as tmp:
            generate_company(preset=preset, seed=seed, out=Path(tmp) / "province", settings=load_settings(settings_path), progress=not quiet)
            manifest = national_company(Path(tmp) / "province", out, provinces, progress=not quiet)
    rows = sum(manifest["tables"].values())
    click.echo(f"wrote {len(manifest['tables'])} tables, {rows:,} rows to {out} (fingerprint {manifest['fingerprint'][:12]})")


@main.command()
@click.argument("source", type=click.Path(exists=False, path_type=Path))
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="YAML file renaming your tables/columns to riskmodel's (see docs/data_contract.md).")
@click.option("--encoding", default=None, help="Encoding of CSV files (default: UTF-8; e.g. gbk; auto: UTF-8 or GBK, file by file).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--write-parquet", "parquet_out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="When the dataset is clean, also write it as a Parquet folder in the contract's names and types "
                   "(what large runs and the Dask engine read in place).")
def validate(source, mapping, encoding, fmt, parquet_out):
    """Check a dataset (folder of CSV/Parquet files or a DuckDB database) against the data contract.

    Exit code 0 on a clean dataset, 1 when any error is found.
    """
    from riskmodel.data.contracts import validate_dataset

    report = validate_dataset(source, mapping=mapping, encoding=encoding)
    click.echo(report.to_json() if fmt == "json" else report.to_text())
    if report.ok and parquet_out is not None:
        from riskmodel.data.io import load_dataset
        from riskmodel.data.store import atomic_dir, write_manifest, write_table

        with atomic_dir(parquet_out) as tmp:
            for name, df in load_dataset(source, mapping=mapping, encoding=encoding).items():
                write_table(df, tmp / f"{name}.parquet")
            write_manifest(tmp, {"source": str(source), "converted_by": "riskmodel validate --write-parquet"})
        click.echo(f"wrote the validated tables as Parquet to {parquet_out}", err=fmt == "json")
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
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="YAML file renaming your tables/columns to riskmodel's (see docs/data_contract.md).")
@click.option("--encoding", default=None, help="Encoding of CSV files (default: UTF-8; e.g. gbk; auto: UTF-8 or GBK, file by file).")
@click.option("--no-validate", is_flag=True, help="Skip the data-contract check (for data validated already).")
@settings_option
@click.option("--quiet", is_flag=True)
def features(source, out, only, mapping, encoding, no_validate, settings_path, quiet):
    """Compute every red-flag indicator on SOURCE and roll the flags up to people, units and periods.

    SOURCE is checked against the data contract first (as 'riskmodel validate' checks it); a dataset that
    breaks it stops the command with the problems found.
    """
    from riskmodel.engine import open_dataset
    from riskmodel.indicators.runner import write_features
    from riskmodel.settings import load_settings

    settings = load_settings(settings_path)
    data = open_dataset(source, settings, mapping=mapping, encoding=encoding, check=not no_validate)
    out = out or config.INTERIM_DATA_DIR / Path(source).name / "features"
    m, _ = write_features(data, out, settings, list(only) or None, progress=not quiet)
    click.echo(f"{m['flags']:,} indicator rows, {m['fired']:,} fired, from {len(m['indicators'])} indicators -> {out}")


_MODELS = ["xgboost", "rules", "iforest", "logistic"]
_POLICIES = ["capacity", "precision", "cost"]


@main.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=config.DEMO_DATA_DIR, show_default=True,
              help="Dataset folder (generated, or written by 'riskmodel validate --write-parquet'; a folder of CSV "
                   "files in the contract's names and UTF-8 works too).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=config.PROCESSED_DATA_DIR / "demo_run",
              show_default=True)
@click.option("--model", type=click.Choice(_MODELS), default=None, help="Default: scoring.model in the settings.")
@click.option("--policy", type=click.Choice(_POLICIES), default=None, help="Default: scoring.policy in the settings.")
@click.option("--decisions", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Reviewer decisions CSV to use as labels (default: OUT/decisions.csv if present).")
@settings_option
@click.option("--quiet", is_flag=True)
def run(data_dir, out, model, policy, decisions, settings_path, quiet):
    """The whole path: features, graph features, training, scoring, the review queue (OUT/alerts.parquet).

    The dataset is checked against the data contract first.  Tables that need a mapping file or an encoding
    are converted once: riskmodel validate DIR --mapping M --encoding E --write-parquet CLEAN, then
    riskmodel run --data CLEAN.

    The queue is recorded in OUT/ledger.jsonl as it is written (model, policy, cut-offs, the file's hash, each
    alert), appended to the chain of an earlier run in OUT.
    """
    from riskmodel.scoring.feedback import DECISIONS_FILE, read_decisions
    from riskmodel.scoring.pipeline import run_pipeline
    from riskmodel.settings import load_settings

    decisions = decisions or (out / DECISIONS_FILE if (out / DECISIONS_FILE).is_file() else None)
    dec = read_decisions(decisions) if decisions else None
    m = run_pipeline(data_dir, out, model, policy, load_settings(settings_path), dec, progress=not quiet)
    click.echo(f"{m['alerts']} alerts ({m['model']}, policy {m['policy']}) -> {out / 'alerts.parquet'}, "
               f"recorded in {out / 'ledger.jsonl'}")
    _kept_note(m, out)


def _kept_note(manifest: dict, run_dir: Path) -> None:
    """Say what a redone run kept from the folder it replaced, and what it removed as stale."""
    if manifest.get("carried_over"):
        click.echo(f"kept from the earlier run: {', '.join(manifest['carried_over'])}")
    if manifest.get("removed_as_stale"):
        click.echo(f"removed {', '.join(manifest['removed_as_stale'])} (it judged the earlier model and queue): "
                   f"run 'riskmodel evaluate --run {run_dir}' again")


@main.command()
@click.option("--run", "run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=config.PROCESSED_DATA_DIR / "demo_run", show_default=True)
@click.option("--model", type=click.Choice(_MODELS), required=True)
@click.option("--policy", type=click.Choice(_POLICIES), default="capacity", show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the re-queued run to this new (or empty) folder instead, leaving RUN as it was; its ledger "
                   "starts a new chain naming RUN (default: re-queue RUN in place).")
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The run's dataset, where it has moved: a supervised event scorer (scoring.event_model) learns from "
                   "its case archive (default: the data_source in RUN/model_card.json; not read for rules).")
@settings_option
def score(run_dir, model, policy, out, data_dir, settings_path):
    """Re-queue a run with another of its fitted models or another threshold policy (no retraining).

    The event alerts are chosen again beside the new people queue, by the run's event scorer, as 'riskmodel run'
    chooses them: a person's events take no event slot in a quarter in which that person is queued.  Where the run's
    event scorer is supervised and its dataset cannot be found (give it with --data) or has changed, the run's event
    alerts are kept as they were, and the command and the model card say so.  The new queue is recorded in the run's
    ledger as it is written.  With --out, RUN is left as it was and OUT (a new or empty folder) becomes a new run
    folder: a copy of RUN with the new queue, whose ledger starts a new chain with an entry naming RUN and the head
    of RUN's ledger (check RUN's with 'riskmodel ledger verify RUN/ledger.jsonl --anchor SEQ:HASH').
    """
    from riskmodel.data.store import read_manifest
    from riskmodel.ledger import read_entries
    from riskmodel.scoring.pipeline import MODEL_FILE, read_card, require_run, rescore
    from riskmodel.settings import load_settings

    require_run(run_dir, MODEL_FILE, "model_card.json", "alerts.parquet")
    q = rescore(run_dir, model, policy, load_settings(settings_path), out=out, data_dir=data_dir)
    target = Path(out) if out else Path(run_dir)
    m = read_manifest(target) or {}
    queue = read_card(target).get("queue") or {}
    how, beside = queue.get("events") or {}, queue.get("events_chosen_beside") or {}
    chosen = ("chosen again beside them" if how.get("rechosen") else
              f"kept from the run, chosen beside the people queue of {beside.get('model')}, policy {beside.get('policy')}, "
              f"that '{beside.get('source')}' wrote")
    click.echo(f"{len(q)} people alerts ({model}, policy {policy}) and {m.get('alerts', len(q)) - len(q)} event alerts "
               f"({chosen}; event scorer {how.get('event_model')}) -> {target / 'alerts.parquet'}, recorded in "
               f"{target / 'ledger.jsonl'}")
    if how.get("note"):
        click.echo(f"note: {how['note']}")
    if m.get("parent_run"):
        origin = read_entries(target / "ledger.jsonl", "origin")[0]["payload"]
        h = origin["parent_head"]
        click.echo(f"{target} is a new run folder made from {run_dir}; its ledger starts a new chain"
                   + (f" from the head of {run_dir / 'ledger.jsonl'} ({h['seq']}:{h['hash']})" if h else
                      f" ({run_dir} had no ledger)"))
    _kept_note({"removed_as_stale": m.get("removed_as_stale")}, target)


@main.command()
@click.option("--run", "run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=config.PROCESSED_DATA_DIR / "demo_run", show_default=True)
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Dataset with truth/ (default: the run's data source).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def evaluate(run_dir, data_dir, fmt):
    """Precision at capacity and scheme recall against the synthetic company's ground truth (evaluation only)."""
    import json

    from riskmodel.data.store import atomic_write_bytes
    from riskmodel.scoring.evaluate import calibration_lines, evaluate_run
    from riskmodel.scoring.datasource import resolve_data_source
    from riskmodel.scoring.pipeline import read_card, require_run

    card = read_card(run_dir)
    require_run(run_dir, "scores.parquet", "alerts.parquet")
    r = evaluate_run(run_dir, data_dir or resolve_data_source(card, run_dir))
    atomic_write_bytes(run_dir / "evaluation.json", json.dumps(r, ensure_ascii=False, indent=2, default=str).encode())
    if fmt == "json":
        click.echo(json.dumps(r, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(f"test quarters {', '.join(r['test_periods'])}; capacity {r['capacity']}; {r['positives_in_test']} positive employee-quarters")
    for name, m in r["models"].items():
        click.echo(f"  {name:9s} precision@capacity {m['precision_at_capacity']:.2f} "
                   f"[{m['precision_ci95'][0]:.2f}, {m['precision_ci95'][1]:.2f}]  scheme recall {m['scheme_recall']:.2f} "
                   f"({m['schemes_caught']}/{m['schemes_active']})  AP {m['average_precision']:.3f}  "
                   f"queue: after their scheme {m['queued_after_scheme']:.2f}  no recent scheme {m['queued_no_recent_scheme']:.2f}")
    q, trained = r["queue"], r["trained_model"]
    rescored = r["model"] != trained
    click.echo(f"the review queue (alerts.parquet): {q['people_alerts']} people alerts from {q['model']}, policy "
               f"{q['policy']} ('{q['source']}'{f'; the run trained {trained}' if rescored else ''}): precision "
               f"{q['precision']:.2f} [{q['precision_ci95'][0]:.2f}, {q['precision_ci95'][1]:.2f}]  scheme recall "
               f"{q['scheme_recall']:.2f} ({q['schemes_caught']}/{q['schemes_active']})  after their scheme "
               f"{q['queued_after_scheme']:.2f}  no recent scheme {q['queued_no_recent_scheme']:.2f}")
    ci = r.get("precision_ratio_ci95", {})
    whose = " (the queue's model)" if rescored else ""
    click.echo(f"{r['model']}{whose} vs "
               f"{'the others' if rescored else 'baselines'} (precision ratio at capacity, 95 % interval resampling people): "
               + ", ".join(f"{b} {v:.3f}x" + (f" [{ci[b][0]:.2f}, {ci[b][1]:.2f}]" if b in ci else "")
                           for b, v in r["precision_ratio_vs_baselines"].items()))
    if c := r.get("supervised_ceiling"):
        rc = c["precision_ratio_ci95"]
        click.echo(f"ceiling (XGBoost fitted on the ground truth of the training quarters: what perfect labels would give "
                   f"these features; a diagnostic and a reference, not a model nor a strict bound): precision "
                   f"{c['precision_at_capacity']:.2f} [{c['precision_ci95'][0]:.2f}, {c['precision_ci95'][1]:.2f}]; the "
                   f"ceiling's precision ÷ each model's: "
                   + ", ".join(f"{n} {v:.3f}x [{rc[n][0]:.2f}, {rc[n][1]:.2f}]" for n, v in c["precision_ratio_vs_models"].items())
                   + f"; its queue: after their scheme {c['queued_after_scheme']:.2f}  no recent scheme "
                   f"{c['queued_no_recent_scheme']:.2f}")
    beside = q["events_chosen_beside"]
    other = (beside.get("model"), beside.get("policy")) != (q["model"], q["policy"])
    click.echo(f"scheme recall with event alerts {r['scheme_recall_all_alerts']:.3f} "
               f"({r['schemes_caught_all_alerts']}/{r['schemes_active_all_alerts']}) "
               f"[{r['scheme_recall_all_alerts_ci95'][0]:.2f}, {r['scheme_recall_all_alerts_ci95'][1]:.2f}]: "
               f"the people queue of {q['model']} and {q['event_alerts']} event alerts"
               + (f", chosen beside the people queue of {beside.get('model')}, policy {beside.get('policy')}, that "
                  f"'{beside.get('source')}' wrote (a person in that queue took no event slot that quarter)" if other else ""))
    for line in calibration_lines(f"{trained} (the trained model)" if rescored else trained, r["calibration"]):
        click.echo(line)


@main.command()
@click.argument("alert_id")
@click.option("--decision", type=click.Choice(["confirmed", "dismissed", "needs_information"]), required=True)
@click.option("--role", "reviewer_role", type=click.Choice(config.REVIEWER_ROLES),
              required=True)
@click.option("--note", default="")
@click.option("--run", "run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=config.PROCESSED_DATA_DIR / "demo_run", show_default=True)
def decide(alert_id, decision, reviewer_role, note, run_dir):
    """Record a reviewer's decision on an alert; decisions become labels the next time 'riskmodel train' runs."""
    from riskmodel.scoring.feedback import record_decision

    row = record_decision(run_dir, alert_id, decision, reviewer_role, note)
    click.echo(f"recorded: {row['alert_id']} {row['entity_id']} {row['period']} -> {row['decision']}")


@main.command()
@click.option("--run", "run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=config.PROCESSED_DATA_DIR / "demo_run", show_default=True)
@click.option("--data", "data_dir", type=click.Path(exists=True, path_type=Path), default=None,
              help="The run's dataset, where it has moved (default: the data_source in RUN/model_card.json).")
@settings_option
@click.option("--quiet", is_flag=True)
def train(run_dir, data_dir, settings_path, quiet):
    """Retrain a run's model with the reviewers' decisions (RUN/decisions.csv) as labels, and re-queue.

    The decisions, the ledger and the run folder's other files are kept; the new queue is recorded in the
    ledger, whose chain goes on; evaluation.json, which judged the earlier model, is removed.
    """
    from riskmodel.scoring.feedback import DECISIONS_FILE, read_decisions
    from riskmodel.scoring.datasource import resolve_data_source
    from riskmodel.scoring.pipeline import read_card, run_pipeline
    from riskmodel.settings import load_settings

    card = read_card(run_dir)
    data_dir = data_dir or resolve_data_source(card, run_dir)
    dec = read_decisions(run_dir / DECISIONS_FILE)
    queue = card.get("queue") or {}
    if queue.get("source") == "riskmodel score":
        click.echo(f"the queue came from {queue['model']}, policy {queue['policy']['policy']} ('riskmodel score'); "
                   f"retraining {card['model']}, policy {card['policy']['policy']}, as the run was trained: run "
                   f"'riskmodel score' again afterwards to re-queue")
    m = run_pipeline(data_dir, run_dir, card["model"], card["policy"]["policy"], load_settings(settings_path),
                     dec, progress=not quiet, source="riskmodel train")
    click.echo(f"retrained with {len(dec)} decision(s); {m['alerts']} alerts -> {run_dir / 'alerts.parquet'}, "
               f"recorded in {run_dir / 'ledger.jsonl'}")
    _kept_note(m, run_dir)


@main.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=config.DEMO_DATA_DIR, show_default=True)
@click.option("--quarters", type=int, default=4, show_default=True)
@click.option("--model", type=click.Choice(_MODELS), default=None)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the replay to this file (atomically) instead of printing it.")
@settings_option
@click.option("--quiet", is_flag=True)
def backtest(data_dir, quarters, model, fmt, out, settings_path, quiet):
    """Replay past quarters: what would the queue have caught (judged by cases opened later), and the rules-only
    baseline at the same capacity? Reads the archive's cases, never truth/; recent quarters' counts are lower bounds."""
    import json

    import pandas as pd

    from riskmodel.data.store import atomic_write_bytes
    from riskmodel.scoring.pipeline import backtest as bt
    from riskmodel.settings import load_settings

    r = bt(data_dir, quarters, model, load_settings(settings_path), progress=not quiet)
    shown = r.assign(period=[str(pd.Period(p, "Q")) for p in r.period])
    note = f"note: {r.attrs['note']}"
    if fmt == "json":
        rows = json.loads(shown.to_json(orient="records", force_ascii=False))
        text = json.dumps(r.attrs | {"quarters": rows}, ensure_ascii=False, indent=2, default=str)
    else:
        which = (f"{r.attrs['model']} (the baseline itself)" if r.attrs["model"] == r.attrs["baseline"]
                 else f"{r.attrs['model']} and the {r.attrs['baseline']} baseline")
        text = (f"{which}, {r.attrs['policy']} policy (capacity {r.attrs['capacity']}), judged by {r.attrs['judged_by']}:\n"
                f"{shown.round(3).to_string(index=False)}\n{note}")
    if out is None:
        click.echo(text)
        if fmt == "json":  # the JSON holds it; say it to the person at the terminal too
            click.echo(note, err=True)
        return
    atomic_write_bytes(out, (text + "\n").encode("utf-8"))
    click.echo(f"wrote the replay of {len(r)} quarter(s) to {out}\n{note}")


_run_option = click.option("--run", "run_dir", type=click.Path(file_okay=False, path_type=Path),
                           default=config.PROCESSED_DATA_DIR / "demo_run", show_default=True, help="The run folder to report on.")
_lang_option = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)


@main.group()
def report():
    """Reports executed with papermill: portraits, the supervision report, the model evaluation report."""


def _report_done(paths: dict) -> None:
    from riskmodel.reports.commands import write_index

    write_index()
    click.echo(f"wrote {paths.get('html', paths)}")


@report.command("portrait")
@click.option("--entity-kind", type=click.Choice(["employee", "department", "post", "station", "business_type", "period"]), required=True)
@click.option("--entity-id", required=True, help="E00123, D012, P05, ST003, PRC (business type), or 2025Q3 for a period.")
@click.option("--period", default=None, help="Period range: 2025Q3, 2025-09 or 2025Q1:2025Q4 (default: all).")
@_lang_option
@click.option("--audience", type=click.Choice(["supervisor", "analyst", "model_reviewer", "education_officer", "leadership"]),
              default="supervisor", show_default=True)
@_run_option
def report_portrait(entity_kind, entity_id, period, lang, audience, run_dir):
    """A risk portrait (风险画像) of one entity."""
    from riskmodel.reports.commands import portrait

    _report_done(portrait(entity_kind, entity_id, period, lang, audience, run_dir))


@report.command("supervision")
@click.option("--period", required=True, help="A month (2025-09) or a quarter (2025Q3).")
@_lang_option
@click.option("--audience", type=click.Choice(["supervisor", "analyst", "model_reviewer", "education_officer", "leadership"]),
              default="leadership", show_default=True)
@_run_option
def report_supervision(period, lang, audience, run_dir):
    """The periodic supervision report (监督报告)."""
    from riskmodel.reports.commands import supervision

    _report_done(supervision(period, lang, audience, run_dir))


@report.command("evaluation")
@_lang_option
@click.option("--audience", type=click.Choice(["supervisor", "analyst", "model_reviewer", "education_officer", "leadership"]),
              default="model_reviewer", show_default=True,
              help="Who reads it: the de-identified roles (model_reviewer…) get pseudonyms and scrubbed reasons.")
@_run_option
def report_evaluation(lang, audience, run_dir):
    """The model evaluation report / model card for model reviewers."""
    from riskmodel.reports.commands import evaluation

    _report_done(evaluation(lang, run_dir, audience=audience))


@report.command("batch")
@click.option("--period", default=None, help="Default: last month of the run's data.")
@_lang_option
@click.option("--portraits", type=click.Choice(["departments", "none"]), default="departments", show_default=True)
@_run_option
def report_batch(period, lang, portraits, run_dir):
    """Scheduled run: the supervision report and department portraits; goes on past failures, summarises them."""
    from riskmodel.reports.commands import batch
    from riskmodel.reports.rundata import RunData

    period = period or RunData(run_dir).flags.month.max().strftime("%Y-%m")
    r = batch(period, lang, run_dir, portraits=portraits)
    click.echo(f"{len(r.done)} report(s) written, {len(r.failed)} failed")
    for name, why in r.failed:
        click.echo(f"  FAILED {name}: {why}", err=True)
    sys.exit(1 if r.failed else 0)


# -- issue #7: case archive, role-checked exports, targeted education, integrity profiles, de-identification, ledger --
# (the commands live in riskmodel/linkage/commands.py; every one that shows data takes --role)
from riskmodel.linkage.commands import register as _register_linkage  # noqa: E402

_register_linkage(main)


from riskmodel.collusion.cli import collusion as _collusion
main.add_command(_collusion)


if __name__ == "__main__":
    main()
