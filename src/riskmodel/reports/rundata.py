"""What the report notebooks read: a run folder (flags, scores, alerts, model card, decisions) and its dataset."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import pandas as pd

from riskmodel import config
from riskmodel.data.dataset import Dataset
from riskmodel.errors import RiskModelError

FAMILY_NAMES = {"PRC": ("采购", "procurement"), "BID": ("招投标", "tendering"), "RMB": ("报销", "reimbursement"),
                "LEAF": ("烟叶收购", "leaf purchasing"), "HR": ("人事岗位", "posts and rotation"), "REL": ("关系网络", "relationships")}
#: the run's files that :meth:`RunData._sql` queries, by view name
_RUN_FILES = {"flags": "flags.parquet", "scores": "scores.parquet", "features": "features_people.parquet"}
#: how :meth:`RunData.fired_flags` selects one entity's flags (SQL over ``flags.parquet``)
_FLAG_FILTERS = {"employee_id": "employee_id", "department_id": "department_id", "position_id": "position_id",
                 "station_id": "station_id", "supplier_id": "supplier_id", "grower_id": "grower_id",
                 "family": "split_part(indicator_id, '-', 1)"}


#: how a report labels :meth:`RunData.provenance`'s entries (zh, en); the dict keeps its keys for code that reads them
PROVENANCE_LABELS = {"run": ("运行目录", "run folder"), "model": ("模型", "model"), "policy": ("阈值策略", "threshold policy"),
                     "data_fingerprint": ("数据指纹", "data fingerprint"), "code_version": ("代码版本", "code version"),
                     "seed": ("随机种子", "random seed"), "test_periods": ("测试期", "test periods"),
                     "dataset": ("数据集", "dataset"), "report_code_version": ("报告代码版本", "report code version")}
#: the models and threshold policies as a report names them (zh, en)
MODEL_NAMES = {"xgboost": ("XGBoost", "XGBoost"), "rules": ("规则基线", "rules only"), "iforest": ("孤立森林", "IsolationForest"),
               "logistic": ("逻辑评分卡", "logistic scorecard")}
POLICY_NAMES = {"capacity": ("按复核能力", "review capacity"), "precision": ("按目标精确率", "target precision"),
                "cost": ("按期望成本", "expected cost")}


def _quarter(value: object) -> str:
    """A test period's start date as its quarter (``2025-01-01`` → ``2025Q1``); anything else as written."""
    try:
        return str(pd.Period(pd.Timestamp(str(value)), "Q"))
    except (ValueError, TypeError):
        return str(value)


class RunData:
    """Lazy access to one run's outputs and its source dataset.

    Parameters
    ----------
    run_dir : path-like, default=``data/processed/demo_run``
    """

    def __init__(self, run_dir: str | Path | None = None):
        self.run_dir = Path(run_dir or config.PROCESSED_DATA_DIR / "demo_run")
        if not (self.run_dir / "model_card.json").is_file():
            raise RiskModelError(f"{self.run_dir} is not a run folder (no model_card.json): run 'riskmodel run' first")

    def _read(self, name: str) -> pd.DataFrame:
        p = self.run_dir / name
        if not p.is_file():
            raise RiskModelError(f"{p} is missing: the run in {self.run_dir} is incomplete; run 'riskmodel run' again")
        return pd.read_parquet(p)

    @cached_property
    def card(self) -> dict:
        return json.loads((self.run_dir / "model_card.json").read_text(encoding="utf-8"))

    @cached_property
    def manifest(self) -> dict:
        return json.loads((self.run_dir / "manifest.json").read_text(encoding="utf-8"))

    @cached_property
    def flags(self) -> pd.DataFrame:
        return self._derive(self._read("flags.parquet"))

    @staticmethod
    def _derive(f: pd.DataFrame) -> pd.DataFrame:
        f["family"] = f.indicator_id.str.split("-").str[0]
        f["month"] = pd.to_datetime(f.period).dt.to_period("M").dt.start_time
        return f

    @cached_property
    def _duck(self):
        import duckdb

        return duckdb.connect()

    def _sql(self, query: str, tables: tuple[str, ...], params: dict | None = None) -> pd.DataFrame:
        """DuckDB SQL over the run's files named in ``tables`` (``flags`` → ``flags.parquet``, …): filters and
        projections are pushed into the Parquet scans, so only the rows asked for are decoded."""
        con = self._duck
        for name in tables:
            p = self.run_dir / _RUN_FILES[name]
            if not p.is_file():
                raise RiskModelError(f"{p} is missing: the run in {self.run_dir} is incomplete; run 'riskmodel run' again")
            con.execute(f"CREATE VIEW IF NOT EXISTS {name} AS SELECT * FROM read_parquet('{p.as_posix()}')")
        # through Arrow: the same column types as pandas.read_parquet gives (an all-empty text column stays text)
        return con.sql(query, params=params or {}).to_arrow_table().to_pandas()

    def fired_flags(self, column: str | None = None, value: str | None = None) -> pd.DataFrame:
        """The flags that fired, of one entity (``column == value``) or of everyone.

        A portrait needs a few hundred of a run's hundreds of thousands of flag rows: DuckDB pushes the filter
        into the Parquet scan, so only the matching rows are decoded.  ``column='family'`` selects an indicator
        family (``PRC``, ``LEAF`` …).  Results are kept for the next call.

        Parameters
        ----------
        column : {'employee_id', 'department_id', 'position_id', 'station_id', 'supplier_id', 'grower_id', 'family'}, optional
        value : str, optional

        Returns
        -------
        DataFrame
            The rows of ``flags.parquet`` with ``fired`` true, plus ``family`` and ``month``.
        """
        key = (column, value)
        cache = self.__dict__.setdefault("_fired_cache", {})
        if key in cache:
            return cache[key]
        if column is not None and column not in _FLAG_FILTERS:
            raise RiskModelError(f"flags can be selected by {', '.join(_FLAG_FILTERS)}, not {column!r}")
        if "flags" in self.__dict__:
            f = self.flags[self.flags.fired.astype(bool)]
            f = f if column is None else f[f[column] == value]
        else:
            where = "" if column is None else f" AND {_FLAG_FILTERS[column]} = $value"
            f = self._derive(self._sql(f"SELECT * FROM flags WHERE CAST(fired AS BOOLEAN){where}", ("flags",),
                                       {} if column is None else {"value": value}))
        cache[key] = f
        return f

    def flag_months(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last month with flags."""
        if "_flag_months" not in self.__dict__:
            r = self._sql("SELECT min(period) AS lo, max(period) AS hi FROM flags", ("flags",))
            self._flag_months = pd.Timestamp(r.lo[0]).to_period("M").start_time, pd.Timestamp(r.hi[0]).to_period("M").start_time
        return self._flag_months

    @cached_property
    def flag_periods(self) -> set[str]:
        """Every month (``2025-09``) and quarter (``2025Q3``) with flags."""
        p = pd.to_datetime(self._sql("SELECT DISTINCT date_trunc('month', period) AS m FROM flags", ("flags",)).m)
        return set(p.dt.to_period("Q").astype(str)) | set(p.dt.to_period("M").astype(str))

    @cached_property
    def scores(self) -> pd.DataFrame:
        return self._read("scores.parquet")

    def post_scores(self, employee_id: str) -> pd.DataFrame:
        """The scores of every person-quarter in a post ``employee_id`` held: the person's own and their peers'."""
        key = ("post_scores", employee_id)
        cache = self.__dict__.setdefault("_query_cache", {})
        if key not in cache:
            if "scores" in self.__dict__:
                sc = self.scores
                cache[key] = sc[sc.position_id.isin(sc.position_id[sc.entity_id == employee_id])]
            else:
                cache[key] = self._sql("SELECT * FROM scores WHERE position_id IN "
                                       "(SELECT position_id FROM scores WHERE entity_id = $id)", ("scores",), {"id": employee_id})
        return cache[key]

    @cached_property
    def alerts(self) -> pd.DataFrame:
        return self._read("alerts.parquet")

    @cached_property
    def features(self) -> pd.DataFrame:
        return self._read("features_people.parquet")

    def post_features(self, employee_id: str) -> pd.DataFrame:
        """The features of everyone in ``employee_id``'s post in the person's latest quarter (the person included)."""
        if "features" in self.__dict__:
            X = self.features
            mine = X[X.entity_id == employee_id].sort_values("period")
            if mine.empty:
                return mine
            return X[(X.period == mine.period.iloc[-1]) & (X.position_id == mine.position_id.iloc[-1])]
        return self._sql("""WITH me AS (SELECT period, position_id FROM features WHERE entity_id = $id ORDER BY period DESC LIMIT 1)
                            SELECT features.* FROM features JOIN me USING (period, position_id)""", ("features",), {"id": employee_id})

    def graph_around(self, node: str, radius: int = 2):
        """The part of the run's relationship graph that an ego network of ``node`` needs, as a networkx Graph.

        Every node within ``radius`` hops (with its ``kind`` and ``label``) and every edge (with its ``kind``) that
        touches one of them: distances, the edges among the nodes and their degrees are those of the whole graph,
        so :func:`~riskmodel.graph.figure.ego_subgraph` selects what it selects on the whole graph.  Nodes and edges
        are inserted in the order :meth:`~riskmodel.graph.build.GraphFrames.to_networkx` uses (kinds in order of first
        appearance, then file order), so a seeded layout places them the same way.  Reads ``graph_nodes.parquet``
        and ``graph_edges.parquet``; a node not in the graph gives an empty Graph.
        """
        import networkx as nx

        paths = {k: self.run_dir / f"graph_{k}.parquet" for k in ("nodes", "edges")}
        for p in paths.values():
            if not p.is_file():
                raise RiskModelError(f"{p} is missing: the run in {self.run_dir} kept no relationship graph; run 'riskmodel run' again")
        edges = f"read_parquet('{paths['edges'].as_posix()}', file_row_number=true)"
        nodes = f"read_parquet('{paths['nodes'].as_posix()}', file_row_number=true)"

        def ordered(frm: str, cols: str, where: str) -> str:
            # rows without a kind are left out and the rest come kind by kind, as GraphFrames.to_networkx adds them
            return (f"SELECT {cols} FROM {frm} JOIN (SELECT kind, min(file_row_number) AS _kind_first FROM {frm} "
                    f"WHERE kind IS NOT NULL GROUP BY kind) USING (kind) WHERE {where} ORDER BY _kind_first, file_row_number")

        con = self._duck.cursor()  # its own connection: the temporary table of the ball goes with it
        try:
            con.execute("CREATE TEMP TABLE ball AS SELECT $node AS n", {"node": node})
            for _ in range(radius):
                con.execute(f"""INSERT INTO ball SELECT target FROM {edges} WHERE source IN (SELECT n FROM ball)
                                UNION SELECT source FROM {edges} WHERE target IN (SELECT n FROM ball)
                                EXCEPT SELECT n FROM ball""")
            n = con.execute(ordered(nodes, "node, kind, label", "node IN (SELECT n FROM ball)")).fetchall()
            e = con.execute(ordered(edges, "source, target, kind",
                                    "source IN (SELECT n FROM ball) OR target IN (SELECT n FROM ball)")).fetchall()
        finally:
            con.close()
        G = nx.Graph()  # empty cells are left out, as in GraphFrames.to_networkx
        G.add_nodes_from((name, {"kind": k} | ({"label": label} if label is not None else {})) for name, k, label in n)
        G.add_edges_from((s, t, {"kind": k}) for s, t, k in e)
        return G

    @cached_property
    def evaluation(self) -> dict | None:
        p = self.run_dir / "evaluation.json"
        return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else None

    @cached_property
    def decisions(self) -> pd.DataFrame:
        from riskmodel.scoring.feedback import DECISIONS_FILE, read_decisions

        return read_decisions(self.run_dir / DECISIONS_FILE)

    @cached_property
    def reviews(self) -> pd.DataFrame:
        """Every reviewer's decision on record: the dataset's ``alert_reviews`` (the office's earlier reviews, from
        the platform before riskmodel or public reports; ``alert_id`` is their ``review_id``) and this run's
        ``decisions.csv``, with ``recorded_in`` (``archive`` or ``run``), oldest first.  The same labels the model
        learns from (:func:`riskmodel.scoring.labels.review_labels` and the decisions file): a report that reads
        only the run's decisions says "no reviews" of a person the archive shows confirmed.

        Returns
        -------
        DataFrame
            :data:`~riskmodel.scoring.feedback.DECISION_COLUMNS` plus ``recorded_in``; ``period`` is the quarter's
            first day, ``decided_at`` a timestamp (missing where a decisions file left it empty).
        """
        from riskmodel.scoring.feedback import DECISION_COLUMNS

        parts = []
        try:
            has_archive = self.data.has("alert_reviews")
        except RiskModelError:  # the dataset has moved: the run's own decisions are all there is
            has_archive = False
        if has_archive:
            r = self.data.table("alert_reviews").rename(columns={"review_id": "alert_id"})
            r = r.assign(period=pd.to_datetime(r.period).dt.to_period("Q").dt.start_time,
                         note=r.get("source", pd.Series("", index=r.index)).fillna(""))
            parts.append(r.reindex(columns=DECISION_COLUMNS).assign(recorded_in="archive"))
        if len(self.decisions):
            parts.append(self.decisions.reindex(columns=DECISION_COLUMNS).assign(recorded_in="run"))
        if not parts:
            return pd.DataFrame(columns=[*DECISION_COLUMNS, "recorded_in"])
        out = pd.concat(parts, ignore_index=True)
        out["decided_at"] = pd.to_datetime(out.decided_at, errors="coerce")
        return out.sort_values(["decided_at", "period"], kind="stable", na_position="last").reset_index(drop=True)

    @cached_property
    def data_dir(self) -> Path:
        """The run's dataset folder (:func:`~riskmodel.scoring.datasource.resolve_data_source`: an old card's relative
        ``data_source`` is found from the current folder or the folders above the run)."""
        from riskmodel.scoring.datasource import resolve_data_source

        return resolve_data_source(self.card, self.run_dir)

    @cached_property
    def data(self) -> Dataset:
        return Dataset.from_dir(self.data_dir)

    @cached_property
    def employees(self) -> pd.DataFrame:
        return self.data.table("employees")

    @cached_property
    def departments(self) -> pd.DataFrame:
        return self.data.table("departments")

    @cached_property
    def positions(self) -> pd.DataFrame:
        return self.data.table("positions")

    def provenance(self) -> dict:
        """Parameters, data fingerprint and code version to print at the top of every report: the run's (its model's
        seed, the code that trained it) and the report's own (``dataset``: a synthetic company's preset and
        generator seed, None for a user's own tables or a dataset that cannot be read; ``report_code_version``: the
        code making the report, which may be later than the run's)."""
        from riskmodel.data.store import read_manifest
        from riskmodel.provenance import code_version

        queue = self.card.get("queue") or {}  # the people queue's model and policy ('riskmodel score' may change them)
        try:
            m = read_manifest(self.data_dir) or {}
        except RiskModelError:  # the dataset has moved: the fingerprint still names it
            m = {}
        synthetic = "synthetic" in str(m.get("generator", "")) and m.get("seed") is not None
        return {"run": str(self.run_dir), "model": queue.get("model", self.card["model"]),
                "policy": (queue.get("policy") or self.card["policy"])["policy"],
                "data_fingerprint": self.card["data_fingerprint"], "code_version": self.card["code_version"],
                "seed": self.card["seed"], "test_periods": self.card["test_periods"],
                "dataset": {"preset": m.get("preset"), "seed": m["seed"]} if synthetic else None,
                "report_code_version": code_version()}

    def provenance_table(self, lang: str = "zh") -> pd.DataFrame:
        """:meth:`provenance` as a report prints it: one row per entry, labelled and worded in the report's language.

        Parameters
        ----------
        lang : {'zh', 'en'}, default='zh'

        Returns
        -------
        DataFrame
            Two columns, ``项目`` and ``内容`` (``item`` and ``value`` in English), in the order of :meth:`provenance`.
        """
        if lang not in ("zh", "en"):
            raise RiskModelError(f"language {lang!r} is not one of zh, en")
        i = 0 if lang == "zh" else 1
        p = self.provenance()
        words = {"model": MODEL_NAMES.get(p["model"], (p["model"],) * 2)[i],
                 "policy": POLICY_NAMES.get(p["policy"], (p["policy"],) * 2)[i],
                 "test_periods": ("、" if lang == "zh" else ", ").join(_quarter(x) for x in p["test_periods"] or []) or "—",
                 "dataset": ("—" if not p["dataset"] else
                             f"合成公司（{p['dataset']['preset']}，生成种子 {p['dataset']['seed']}）" if lang == "zh"
                             else f"synthetic company ({p['dataset']['preset']}, generator seed {p['dataset']['seed']})")}
        rows = [(PROVENANCE_LABELS.get(k, (k, k))[i], words.get(k, "—" if v is None else str(v))) for k, v in p.items()]
        return pd.DataFrame(rows, columns=[("项目", "item")[i], ("内容", "value")[i]])
