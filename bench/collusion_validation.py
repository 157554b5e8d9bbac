"""Benchmark: bid-rigging screens on real, labelled tenders (issue #8).

Runs :func:`riskmodel.collusion.evaluate` on the four shared datasets (Brazil,
Italy, Japan, USA/Ohio) and prints, per country, our classifier against the
same-run reference (a plain random forest on the classic screens of Huber &
Imhof 2019): ROC AUC, balanced accuracy, accuracy and the false-positive rate
on competitive tenders, with the goal check (ROC AUC ≥ 1.05 × the reference's,
or ≥ the reference where it exceeds 0.95).  Ours chooses its model from a
fixed menu in an inner cross-validation of each training fold (nested
cross-validation); the choices are printed.  ``ours_screens_only`` (ours
without the tender-size covariate) is run too, so the report shows where any
gain comes from; on Ohio, ``ours_no_identity`` (ours without the identity
screens) shows what the bidders' identities add.  Ohio is read from the
firm-level ``ohio_school_milk_bidders.csv`` (the same 3,754 contracts and
bids as ``usa_ohio_milk.csv``, with bidder, year and school district; its
label columns only make the tender label); ``--ohio-without-identities`` reads
``usa_ohio_milk.csv`` instead.  ``--group-by market`` groups the folds by
school district where the data have one (a robustness check: no district is
both trained and tested on).  Writes a JSON record to ``bench/results/``.

``--hold-out-firms [FIRM …]`` and ``--placebo`` run the firm checks of
:mod:`riskmodel.collusion.holdout` instead, on the datasets whose bids name
their bidders (Ohio): leave each accused firm out of training and test on its
tenders; relabel the competitive tenders by the presence of matched ordinary
firms (a placebo cartel) and cross-validate as on the real label, which is
evaluated in the same run with the same models (ours, the reference, ours
without identity screens).  Without names, the accused firms are read from
the Ohio file's ``is_cartel_firm``.

The data stay where they are (never copied into the repository).

Usage: python bench/collusion_validation.py DATA_DIR [--seed 0] [--folds 5] [--n-jobs 2] [--no-ablation]
       [--inner-folds 5] [--inner-repeats 2] [--datasets italy ohio_school_milk_bidders] [--group-by market]
       [--ohio-without-identities] [--hold-out-firms [FIRM ...]] [--placebo]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from riskmodel.collusion import evaluate, load_bids
from riskmodel.collusion.bids import ohio_milk_accused_firms
from riskmodel.collusion.holdout import firm_check
from riskmodel.collusion.identity import has_identities
from riskmodel.provenance import code_version, fingerprint_files

FILES = ("brazil.csv", "italy.csv", "japan.csv", "ohio_school_milk_bidders.csv")
#: the Ohio tenders without identities (same tenders and labels; bids × 0.84)
OHIO_PLAIN = "usa_ohio_milk.csv"
RESULTS = Path(__file__).parent / "results"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--min-bids", type=int, default=2)
    ap.add_argument("--trees", type=int, default=300)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--inner-folds", type=int, default=5)
    ap.add_argument("--inner-repeats", type=int, default=2)
    ap.add_argument("--no-ablation", action="store_true")
    ap.add_argument("--datasets", nargs="+", default=None, help="file stems to run (default: all four)")
    ap.add_argument("--group-by", default=None, help="group the folds by this tender-level column (e.g. market)")
    ap.add_argument("--ohio-without-identities", action="store_true", help=f"read Ohio from {OHIO_PLAIN}")
    ap.add_argument("--hold-out-firms", nargs="*", default=None, metavar="FIRM",
                    help="firm checks: leave each of these firms out (default: the Ohio file's accused firms)")
    ap.add_argument("--placebo", action="store_true", help="firm checks: the placebo cartel of matched firms")
    args = ap.parse_args(argv)
    version = code_version()  # of the code that runs, not of whatever is committed while it runs
    all_files = tuple(OHIO_PLAIN if f.startswith("ohio") and args.ohio_without_identities else f for f in FILES)
    files = all_files if args.datasets is None else tuple(f for f in all_files
                                                          if f.removesuffix(".csv") in args.datasets)
    if not files:
        print(f"no dataset among {args.datasets}; choose from {[f.removesuffix('.csv') for f in all_files]}",
              file=sys.stderr)
        return 2
    paths = {f: args.data_dir / f for f in files}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        print(f"missing data file(s): {', '.join(missing)}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    bids = load_bids(list(paths.values()))
    if args.hold_out_firms is not None or args.placebo:
        return _firm_checks(args, paths, bids, t0, version)
    ev = evaluate(bids, min_bids=args.min_bids, n_splits=args.folds, random_state=args.seed, n_jobs=args.n_jobs,
                  n_estimators=args.trees, ablation=not args.no_ablation, inner_cv=args.inner_folds,
                  inner_repeats=args.inner_repeats, group_by=args.group_by,
                  progress=lambda msg: print(f"  {msg}", file=sys.stderr, flush=True))
    seconds = time.perf_counter() - t0
    print(ev.to_text())
    print(f"\n{'dataset':<15}{'AUC ours':>9}{'AUC ref':>9}{'ratio':>7}{'balacc ours':>12}{'balacc ref':>11}"
          f"{'FPR ours':>9}{'FPR ref':>9}  goal")
    for d in ev.datasets:
        o, r = d.metrics["ours"], d.metrics["reference"]
        print(f"{d.dataset:<15}{o['roc_auc']:>9.3f}{r['roc_auc']:>9.3f}{d.auc_ratio:>7.3f}{o['balanced_accuracy']:>12.3f}"
              f"{r['balanced_accuracy']:>11.3f}{o['fpr']:>9.3f}{r['fpr']:>9.3f}  {'met' if d.goal_met else 'NOT met'}")
    for d in ev.datasets:
        if "ours_no_identity" in d.metrics:
            n = d.metrics["ours_no_identity"]
            print(f"{d.dataset}: identity screens {', '.join(d.identity_screens)}; ours without them: AUC "
                  f"{n['roc_auc']:.3f} (ratio {n['roc_auc'] / d.metrics['reference']['roc_auc']:.3f}), balanced "
                  f"accuracy {n['balanced_accuracy']:.3f}, FPR {n['fpr']:.3f}")
    print("\nours chose (inner CV of each training fold):")
    for d in ev.datasets:
        print(f"  {d.dataset:<15}{', '.join(d.selected.get('ours', []))}")
    print(f"\n{seconds:.0f} s on this machine, code {version}")
    record = {"benchmark": "collusion_validation", "code_version": version,
              "data_fingerprint": fingerprint_files(paths), "seconds": round(seconds, 1),
              "produced_at": time.strftime("%Y-%m-%dT%H:%M:%S"), **ev.to_dict()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"collusion_validation-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    print(f"wrote {out}")
    return 0


def _firm_checks(args, paths: dict[str, Path], bids, t0: float, version: str) -> int:
    """The firm checks on every dataset whose bids name their bidders; a JSON record beside the others."""
    firms = args.hold_out_firms
    if not firms:
        ohio = [p for f, p in paths.items() if f.startswith("ohio_school_milk_bidders")]
        if not ohio:
            print("name the firms to hold out (--hold-out-firms FIRM ...): no Ohio bidders file to read them from",
                  file=sys.stderr)
            return 2
        firms = ohio_milk_accused_firms(ohio[0])
    checks = []
    for name, part in bids.groupby("dataset", sort=False):
        if not has_identities(part):
            print(f"{name}: no bidders named, no firm check", file=sys.stderr)
            continue
        checks.append(firm_check(part, firms, leave_one_out=args.hold_out_firms is not None, placebo=args.placebo,
                                 min_bids=args.min_bids, n_splits=args.folds, random_state=args.seed,
                                 n_jobs=args.n_jobs, n_estimators=args.trees, inner_cv=args.inner_folds,
                                 inner_repeats=args.inner_repeats,
                                 progress=lambda msg: print(f"  {msg}", file=sys.stderr, flush=True)))
    if not checks:
        print("no dataset names its bidders: nothing to check", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - t0
    for c in checks:
        print(c.to_text())
    print(f"\n{seconds:.0f} s on this machine, code {version}")
    record = {"benchmark": "collusion_firm_checks", "code_version": version,
              "data_fingerprint": fingerprint_files(paths), "seconds": round(seconds, 1),
              "produced_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "checks": [json.loads(c.to_json()) for c in checks]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    kind = "-".join(k for k, on in (("holdout", args.hold_out_firms is not None), ("placebo", args.placebo)) if on)
    out = RESULTS / f"collusion_firm_checks-{kind}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    tmp.replace(out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
