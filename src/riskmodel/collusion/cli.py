"""``riskmodel collusion …``: bid-rigging screens and their validation on labelled bid files.

Registered on the main ``riskmodel`` command in :mod:`riskmodel.cli`, whose group turns every
:class:`~riskmodel.errors.RiskModelError` into a one-line message and exit code 2.
"""

from __future__ import annotations

from pathlib import Path

import click

_files = click.argument("bid_files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
_encoding = click.option("--encoding", default=None, help="Encoding of the CSV files (default: UTF-8; e.g. gbk).")


@click.group()
def collusion():
    """Bid-rigging screens (围标串标筛查) on bid-level files: one row per bid, tender-level label.

    A file has the columns dataset, tender_id, bid_idx, bid, collusive_tender
    (tender_id and bid required; collusive_tender 1 rigged, 0 competitive) and
    optionally bidder, period, market, is_winner, which switch on the identity
    screens (incumbency, coordinated entry, rotation).  The firm-level Ohio
    school-milk bidders file is recognised and read with its identities.
    """


@collusion.command()
@_files
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--min-bids", type=click.IntRange(min=2), default=2, show_default=True,
              help="Tenders with fewer bids are not screened (they are counted and reported).")
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True, help="Stratified CV folds.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the folds and the models.")
@click.option("--trees", type=click.IntRange(min=10), default=300, show_default=True,
              help="Trees / boosting rounds of the classifiers.")
@click.option("--n-jobs", type=click.IntRange(min=1), default=1, show_default=True, help="CPU cores to use.")
@click.option("--inner-folds", type=click.IntRange(min=2), default=5, show_default=True,
              help="Folds of the inner cross-validation (inside each training fold) that chooses our model.")
@click.option("--inner-repeats", type=click.IntRange(min=1), default=2, show_default=True,
              help="Repeats of that inner cross-validation.")
@click.option("--ablation", is_flag=True,
              help="Also run ours without the tender-size covariate, and without the identity screens where the "
                   "bids name their bidders.")
@click.option("--group-by", default=None, metavar="COLUMN",
              help="Group the folds by this tender-level column (e.g. market) in datasets that have it, so no "
                   "group is both trained and tested on.")
@click.option("--max-fpr", type=click.FloatRange(0, 1), default=None,
              help="Our decision rule: flag as many rigged tenders as possible while flagging at most this share of "
                   "competitive training tenders (default: maximise balanced accuracy).")
@click.option("--hold-out-firms", default=None, metavar="FIRM,FIRM,…",
              help="Firm checks instead of the evaluation, on datasets whose bids name their bidders: leave each of "
                   "these (accused) firms out of training and test on its tenders.")
@click.option("--placebo", is_flag=True,
              help="With --hold-out-firms: also relabel the competitive tenders by the presence of ordinary firms "
                   "matched to those firms (a placebo cartel) and cross-validate as on the real label.")
@_encoding
def evaluate(bid_files, fmt, min_bids, folds, seed, trees, n_jobs, inner_folds, inner_repeats, ablation, group_by,
             max_fpr, hold_out_firms, placebo, encoding):
    """Cross-validate our tender classifier against the random-forest reference, per dataset.

    Prints, per dataset: tenders used, tenders with too few bids, and for each
    model ROC AUC, balanced accuracy, accuracy and the false-positive rate on
    competitive tenders.  Ours chooses among its candidate models by an inner
    cross-validation of each training fold (nested cross-validation); the
    choices are listed.
    """
    from riskmodel.collusion.bids import load_bids
    from riskmodel.collusion.evaluate import evaluate as run

    bids = load_bids(list(bid_files), encoding=encoding)
    progress = None if fmt == "json" else (lambda msg: click.echo(f"  {msg}", err=True))
    if placebo and not hold_out_firms:
        raise click.UsageError("--placebo needs --hold-out-firms (the firms the placebo firms stand in for)")
    if hold_out_firms:
        _firm_checks(bids, [f.strip() for f in hold_out_firms.split(",") if f.strip()], placebo, fmt,
                     min_bids=min_bids, n_splits=folds, random_state=seed, n_jobs=n_jobs, n_estimators=trees,
                     inner_cv=inner_folds, inner_repeats=inner_repeats, progress=progress)
        return
    ev = run(bids, min_bids=min_bids, n_splits=folds, random_state=seed, n_jobs=n_jobs, n_estimators=trees,
             ablation=ablation, max_fpr=max_fpr, inner_cv=inner_folds, inner_repeats=inner_repeats, group_by=group_by,
             progress=progress)
    click.echo(ev.to_json() if fmt == "json" else ev.to_text())


def _firm_checks(bids, firms, placebo, fmt, **args):
    """``evaluate --hold-out-firms``: :func:`riskmodel.collusion.holdout.firm_check` per dataset with bidders."""
    import json

    from riskmodel.collusion.evaluate import CollusionEvaluationError
    from riskmodel.collusion.holdout import firm_check
    from riskmodel.collusion.identity import has_identities

    checks = [firm_check(part, firms, placebo=placebo, **args) for _, part in bids.groupby("dataset", sort=False)
              if has_identities(part)]
    if not checks:
        raise CollusionEvaluationError("--hold-out-firms: no dataset names the bidder of every bid (column 'bidder')")
    if fmt == "json":
        click.echo(json.dumps([json.loads(c.to_json()) for c in checks], ensure_ascii=False, indent=2))
    else:
        click.echo("\n\n".join(c.to_text() for c in checks))


@collusion.command()
@_files
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the table to this CSV file instead of printing it.")
@_encoding
def screens(bid_files, out, encoding):
    """Compute every screen per tender (one row per tender; NaN where a tender has too few bids)."""
    from riskmodel.collusion.bids import load_bids
    from riskmodel.collusion.model import tender_table

    table = tender_table(load_bids(list(bid_files), encoding=encoding))
    if out is None:
        click.echo(table.to_csv())
    else:
        table.to_csv(out)
        click.echo(f"wrote {len(table)} tenders to {out}")
