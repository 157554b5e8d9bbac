"""Generate the whole synthetic company and write it, atomically, one Parquet file per table."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from riskmodel import __version__, config
from riskmodel.data.schema import TABLES_BY_NAME, TRUTH_TABLES
from riskmodel.data.store import atomic_dir, write_manifest, write_table
from riskmodel.data.synthetic import archive, education, leaf, org as org_mod, procurement, reimbursement, reviews
from riskmodel.data.synthetic.base import PRESETS, Context
from riskmodel.data.synthetic.schemes import Planter
from riskmodel.errors import RiskModelError
from riskmodel.provenance import code_version
from riskmodel.settings import Settings, load_settings

_DTYPES = {"str": "object", "int": "int64", "float": "float64", "bool": "bool"}


def conform(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Order and type columns exactly as the contract says (the generator's own check)."""
    table = TABLES_BY_NAME.get(name) or {t.name: t for t in TRUTH_TABLES}[name]
    out = pd.DataFrame(index=df.index)
    for c in table.columns:
        col = df[c.name]
        if c.dtype in ("date", "datetime"):
            col = pd.to_datetime(col)
            col = col.dt.normalize() if c.dtype == "date" else col
            out[c.name] = col.astype("datetime64[ms]")
        elif c.dtype == "str":
            out[c.name] = col.astype(object).where(col.notna(), None)
        else:
            out[c.name] = col.astype(_DTYPES[c.dtype])
    return out.reset_index(drop=True)


class _Steps:
    """Progress display for the generation steps (silent when ``progress`` is False)."""

    def __init__(self, progress: bool, total: int):
        self.p = Progress(TextColumn("[bold]generate[/] {task.description}"), BarColumn(), TimeElapsedColumn(),
                          disable=not progress, transient=False)
        self.total = total

    def __enter__(self):
        self.p.__enter__()
        self.task = self.p.add_task("", total=self.total)
        return self

    def __exit__(self, *exc):
        return self.p.__exit__(*exc)

    def step(self, what: str, advance: float = 1):
        self.p.update(self.task, description=what, advance=advance)


def generate_company(preset: str = "demo", seed: int = 1, out: str | Path | None = None,
                     settings: Settings | None = None, progress: bool = True) -> dict:
    """Generate the synthetic company into ``out`` and return its manifest.

    Parameters
    ----------
    preset : {'small', 'demo', 'large'}
    seed : int
        Same seed and preset give byte-identical tables.
    out : path-like, default=``data/raw/demo``
        Replaced atomically: a failed run leaves an earlier dataset intact.
    settings : Settings, optional
    progress : bool, default=True

    Returns
    -------
    dict
        The manifest written to ``out/manifest.json`` (preset, seed, tables and
        row counts, data fingerprint, code version).

    Examples
    --------
    >>> import tempfile
    >>> m = generate_company("small", seed=3, out=tempfile.mkdtemp() + "/co", progress=False)
    >>> m["tables"]["employees"] > 100
    True
    """
    if preset not in PRESETS:
        raise RiskModelError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    settings = settings or load_settings()
    out = Path(out or config.DEMO_DATA_DIR)
    ctx = Context(PRESETS[preset], seed, settings)
    t0 = time.perf_counter()
    n_chunks = -(-ctx.preset.n_stations // ctx.preset.chunk_stations)
    with _Steps(progress, 8 + n_chunks) as steps, atomic_dir(out) as tmp:
        (tmp / config.TRUTH_DIRNAME).mkdir()
        tables: dict[str, pd.DataFrame] = {}

        steps.step("organisation")
        org = org_mod.build(ctx)
        for k in ("departments", "positions", "employees", "post_history", "reporting_lines", "stations"):
            tables[k] = org[k]
        stations = org["station_info"]
        station_depts = set(stations.department_id)

        steps.step("suppliers and prices")
        prices = procurement.market_prices(ctx)
        sup = procurement.suppliers(ctx)
        grow = leaf.growers(ctx, stations)
        planter = Planter(ctx, org, sup, prices, grow)

        steps.step("procurement")
        planter.plant_procurement()
        busy = planter.plant_leaf(stations)
        sup = pd.concat([sup, pd.DataFrame(planter.new_suppliers)], ignore_index=True)
        specs = pd.concat([procurement.baseline_specs(ctx, org, stations), pd.DataFrame(planter.proc)], ignore_index=True)
        proc_tables, specs = procurement.materialise(ctx, specs, org, sup, prices)
        planter.record_procurement(specs, proc_tables["tenders"])
        tables.update(proc_tables)
        tables.update({"suppliers": sup, "categories": procurement.categories(), "market_prices": prices})

        steps.step("reimbursement")
        planter.plant_claims(proc_tables["invoices"])
        trips = reimbursement.trips(ctx, org, planter.frequent_travellers())
        claim_specs = pd.concat([reimbursement.trip_claims(ctx, trips),
                                 reimbursement.local_claims(ctx, org, station_depts, leaf.SEASON),
                                 pd.DataFrame(planter.claims)], ignore_index=True)
        for c in reimbursement.CLAIM_COLUMNS:
            if c not in claim_specs:
                claim_specs[c] = None
        claims, claim_specs = reimbursement.materialise(ctx, claim_specs, org)
        planter.record_claims(claim_specs)
        tables.update({"travel_records": trips, "claims": claims})

        steps.step("leaf contracts")
        con = leaf.contracts(ctx, grow)
        gp = leaf.grade_prices(ctx)
        tables.update({"growers": grow.drop(columns="skill"), "grower_contracts": con, "station_plans": leaf.station_plans(ctx, con),
                       "grade_prices": gp})

        writer = None
        rows = 0
        path = tmp / "leaf_purchases.parquet"
        for chunk, flagged in leaf.purchases(ctx, org, grow, con, gp, planter.leaf, busy):
            chunk = conform("leaf_purchases", chunk)
            tbl = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, tbl.schema, compression="zstd")
            writer.write_table(tbl)
            rows += len(chunk)
            for sid, ids in flagged.items():
                ctx.add_entities(sid, "leaf_purchase", ids)
            steps.step(f"leaf purchases ({rows:,} rows)")
        if writer is not None:
            writer.close()

        steps.step("case archive")
        truth = ctx.truth_tables()
        tables.update(archive.build(ctx, org, truth))

        tables["alert_reviews"] = reviews.build(ctx, org["employees"], truth)

        steps.step("education")
        mats = education.materials(ctx)
        tables.update({"materials": mats, "learning_events": education.learning(ctx, org, mats),
                       "credit_requirements": education.credit_requirements(ctx, org["positions"])})

        steps.step("writing tables")
        for name in TABLES_BY_NAME:
            if name == "leaf_purchases":
                continue
            write_table(conform(name, tables[name]), tmp / f"{name}.parquet")
        truth = ctx.truth_tables()
        for name, df in truth.items():
            write_table(conform(name, df), tmp / config.TRUTH_DIRNAME / f"{name}.parquet")
        manifest = write_manifest(tmp, {"generator": "riskmodel synthetic company", "preset": preset, "seed": seed,
                                        "code_version": code_version(), "package_version": __version__,
                                        "settings": settings.model_dump(mode="json")["generator"],
                                        "period": [str(ctx.start.date()), str(ctx.end.date())]})
        steps.step(f"done in {time.perf_counter() - t0:.1f}s")
    return manifest
