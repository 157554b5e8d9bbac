"""The case archive (电子档案): cases, interview records (谈话记录) and the rectification ledger (整改台账).

Search and statistics, as the paper's electronic archive asks (可以查找追溯，
也可以进行统计分析).  The supervision report calls the statistics functions.

Searching Chinese text
----------------------
Chinese has no spaces, and the words a reader types are not always the words
a record uses: "虚开发票" should find "虚开增值税发票".  Rather than a word
segmenter (whose dictionary decides whether "虚开" is a word), a query term is
matched as a *phrase with gaps*: the term is cut into pieces of at least two
characters, and the pieces must appear in order, each within ``max_gap``
characters of the previous one and inside one sentence.  The fewer the cuts and
the shorter the gaps, the higher the score; an exact phrase scores highest.
Several terms separated by spaces must all match (AND).  Latin letters and
digits match case-insensitively as substrings.

Examples
--------
>>> docs = pd.Series(["经查，某人虚开增值税发票套取公款。", "开展谈心谈话，提醒严守廉洁纪律。"])
>>> match_scores(docs, "虚开发票").round(2).tolist()
[0.5, 0.0]
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskmodel.errors import RiskModelError
from riskmodel.linkage.common import DataLike, as_dataset, as_of_date, table

_HAN = re.compile(r"[\u3400-\u9fff]")
HIT_COLUMNS = ["record_type", "record_id", "case_id", "case_type", "department_id", "date", "year", "people", "text",
               "snippet", "score"]


def _splits(term: str, max_pieces: int = 3) -> list[list[str]]:
    """Ways to cut ``term`` into 1..max_pieces contiguous pieces of at least two characters (fewest cuts first)."""
    n = len(term)
    out = [[term]]
    for pieces in range(2, max_pieces + 1):
        for cuts in itertools.combinations(range(2, n - 1), pieces - 1):
            bounds = (0, *cuts, n)
            parts = [term[a:b] for a, b in zip(bounds, bounds[1:])]
            if all(len(p) >= 2 for p in parts):
                out.append(parts)
    return out


def term_patterns(term: str, max_gap: int = 6) -> list[tuple[re.Pattern, float]]:
    """Regular expressions for one query term, with the score a match earns (best first).

    Examples
    --------
    >>> [(p.pattern, s) for p, s in term_patterns("虚开发票")][:2]
    [('虚开发票', 1.0), ('虚开[^。；！？\\\\n]{0,6}?发票', 0.5)]
    """
    term = term.strip()
    if not term:
        return []
    if not _HAN.search(term) or len(term) < 4:
        return [(re.compile(re.escape(term), re.IGNORECASE), 1.0)]
    gap = rf"[^。；！？\n]{{0,{int(max_gap)}}}?"  # pieces stay within one sentence
    pats = []
    for parts in _splits(term):
        pats.append((re.compile(gap.join(re.escape(p) for p in parts)), 1.0 / len(parts)))
    return pats


def match_scores(texts: pd.Series, query: str, max_gap: int = 6) -> pd.Series:
    """Score of each text for ``query`` (0 = no match); every space-separated term must match.

    A term's score is 1 for the exact phrase, 1/2 when cut once, 1/3 when cut twice; a text's score is the mean
    over terms.
    """
    terms = [t for t in re.split(r"\s+", query.strip()) if t]
    if not terms:
        raise RiskModelError("the search query is empty; give one or more words, e.g. 虚开发票 or '围标 串标'")
    texts = texts.fillna("").astype(str)
    total = np.zeros(len(texts))
    for term in terms:
        best = np.zeros(len(texts))
        for pat, score in term_patterns(term, max_gap):
            hit = texts.str.contains(pat, regex=True).to_numpy()
            best = np.where(hit & (best < score), score, best)
        total = np.where(best > 0, total + best, -np.inf)
    return pd.Series(np.where(np.isfinite(total), total / len(terms), 0.0), index=texts.index)


def snippets(texts: pd.Series, query: str, max_gap: int, width: int = 18) -> pd.Series:
    """Text around the first match of the query's first term (vectorised with ``str.extract``)."""
    term = re.split(r"\s+", query.strip())[0]
    out = pd.Series("", index=texts.index, dtype=object)
    todo = texts.notna()
    for pat, _ in term_patterns(term, max_gap):
        if not todo.any():
            break
        got = texts[todo].str.extract(f"(.{{0,{width}}}(?:{pat.pattern}).{{0,{width}}})", flags=pat.flags, expand=False)
        got = got.dropna()
        out[got.index] = got
        todo &= ~texts.index.isin(got.index)
    return out


@dataclass
class Archive:
    """The archive tables of one dataset, with their search documents.

    Build with :meth:`from_data`.  ``documents`` has one row per searchable
    record: a case (title + summary + disposition), an interview record, or a
    rectification item (problem + measure), with the case, department, date and
    the people concerned.

    Examples
    --------
    >>> cases = pd.DataFrame({"case_id": ["C1", "C2"], "case_type": ["虚假报销", "工作作风"],
    ...     "title": ["某员工报销问题", "某员工作风问题"], "summary": ["经查，该员工虚开增值税发票套取公款。", "经查，该员工迟到早退。"],
    ...     "department_id": "D1", "source": "report", "opened_date": pd.to_datetime(["2024-05-01", "2025-01-01"]),
    ...     "closed_date": pd.NaT, "status": "open", "disposition": None})
    >>> a = Archive.from_data({"cases": cases})
    >>> a.search("虚开发票")[["case_id", "score"]].values.tolist()
    [['C1', 0.5]]
    """

    cases: pd.DataFrame
    case_people: pd.DataFrame
    interviews: pd.DataFrame
    rectifications: pd.DataFrame
    documents: pd.DataFrame = field(repr=False)

    @classmethod
    def from_data(cls, data: DataLike) -> Archive:
        ds = as_dataset(data)
        cases = table(ds, "cases", "the case archive")
        cp = ds.table("case_people") if ds.has("case_people") else pd.DataFrame(columns=["case_id", "employee_id", "role"])
        iv = ds.table("interviews") if ds.has("interviews") else pd.DataFrame(
            columns=["interview_id", "case_id", "employee_id", "interviewer_id", "kind", "interview_date", "record_text"])
        rc = ds.table("rectifications") if ds.has("rectifications") else pd.DataFrame(
            columns=["rectification_id", "case_id", "department_id", "issue_text", "measure_text", "due_date", "completed_date", "status"])
        return cls(cases, cp, iv, rc, _documents(cases, cp, iv, rc))

    def known_on(self, as_of: str | pd.Timestamp) -> Archive:
        """The archive as it stood at the end of ``as_of``: the cases opened by then (one closed later is still
        open), their people and rectification items, the interviews held by then.  Statistics for a period read
        this, never a later case (a report for 2025-09 counts no case opened in October).

        Examples
        --------
        >>> cases = pd.DataFrame({"case_id": ["C1", "C2"], "case_type": "受贿", "title": "", "summary": "",
        ...     "department_id": "D1", "source": "report", "opened_date": pd.to_datetime(["2025-03-01", "2025-10-02"]),
        ...     "closed_date": pd.to_datetime(["2025-10-01", None]), "status": "closed", "disposition": None})
        >>> a = Archive.from_data({"cases": cases}).known_on("2025-09-30")
        >>> a.cases.case_id.tolist(), a.cases.closed_date.isna().tolist()
        (['C1'], [True])
        """
        end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
        cases = self.cases[pd.to_datetime(self.cases.opened_date) < end].copy()
        cases["closed_date"] = cases.closed_date.where(pd.to_datetime(cases.closed_date) < end)
        cp = self.case_people[self.case_people.case_id.isin(cases.case_id)]
        iv = self.interviews[~(pd.to_datetime(self.interviews.interview_date) >= end)]
        rc = self.rectifications[self.rectifications.case_id.isin(cases.case_id)]
        return Archive(cases, cp, iv, rc, _documents(cases, cp, iv, rc))

    def search(self, query: str, case_type: str | Sequence[str] | None = None, department: str | Sequence[str] | None = None,
               year: int | Sequence[int] | None = None, person: str | Sequence[str] | None = None,
               record_types: Iterable[str] = ("case", "interview", "rectification"), limit: int | None = 50,
               max_gap: int = 6) -> pd.DataFrame:
        """Full-text search with filters.

        Parameters
        ----------
        query : str
            One or more terms (space-separated, all must match).
        case_type, department, year : value or list, optional
            Keep records of these case types, departments (``department_id``), years.
        person : str or list, optional
            ``employee_id``(s): keep records concerning them (case people, interviewees).
        record_types : iterable of {'case', 'interview', 'rectification'}
        limit : int or None, default=50
        max_gap : int, default=6
            Characters allowed between the pieces of a term (see module docstring).

        Returns
        -------
        DataFrame
            ``record_type, record_id, case_id, case_type, department_id, date, year, people, text, snippet, score``,
            best first.
        """
        d = filter_documents(self.documents, case_type, department, year, person, record_types)
        if d.empty:
            return d.assign(snippet=pd.Series(dtype=object), score=pd.Series(dtype=float))[HIT_COLUMNS]
        s = match_scores(d.text, query, max_gap)
        d = d.assign(score=s)[s > 0]
        d = d.assign(snippet=snippets(d.text, query, max_gap))
        d = d.sort_values(["score", "date"], ascending=[False, False], kind="stable")
        return (d.head(limit) if limit else d)[HIT_COLUMNS].reset_index(drop=True)


def _as_list(v) -> list | None:
    if v is None:
        return None
    return list(v) if isinstance(v, (list, tuple, set, np.ndarray, pd.Series)) else [v]


def filter_documents(d: pd.DataFrame, case_type=None, department=None, year=None, person=None,
                     record_types: Iterable[str] = ("case", "interview", "rectification")) -> pd.DataFrame:
    """The documents matching the filters (shared by identified and de-identified search)."""
    keep = d.record_type.isin(list(record_types))
    if (ct := _as_list(case_type)) is not None:
        keep &= d.case_type.isin(ct)
    if (dep := _as_list(department)) is not None:
        keep &= d.department_id.isin(dep)
    if (yr := _as_list(year)) is not None:
        keep &= d.year.isin([int(y) for y in yr])
    if (who := _as_list(person)) is not None:
        who = set(map(str, who))
        keep &= d.people.map(lambda ps: bool(who & set(ps)))
    return d[keep]


def _documents(cases: pd.DataFrame, cp: pd.DataFrame, iv: pd.DataFrame, rc: pd.DataFrame) -> pd.DataFrame:
    people = cp.groupby("case_id").employee_id.agg(list)
    c = cases.assign(record_type="case", record_id=cases.case_id, date=cases.opened_date,
                     text=cases.title.fillna("") + "\n" + cases.summary.fillna("") + "\n" + cases.disposition.fillna(""),
                     people=cases.case_id.map(people))
    ctype = cases.set_index("case_id").case_type
    cdept = cases.set_index("case_id").department_id
    i = iv.assign(record_type="interview", record_id=iv.interview_id, date=iv.interview_date, text=iv.record_text.fillna(""),
                  case_type=iv.case_id.map(ctype), department_id=iv.case_id.map(cdept),
                  people=iv.employee_id.map(lambda e: [e]))
    r = rc.assign(record_type="rectification", record_id=rc.rectification_id, date=rc.due_date,
                  text=rc.issue_text.fillna("") + "\n整改措施：" + rc.measure_text.fillna(""), case_type=rc.case_id.map(ctype),
                  people=rc.case_id.map(people))
    cols = ["record_type", "record_id", "case_id", "case_type", "department_id", "date", "text", "people"]
    docs = pd.concat([c[cols], i[cols], r[cols]], ignore_index=True)
    docs["people"] = docs.people.map(lambda x: list(x) if isinstance(x, (list, np.ndarray)) else [])
    docs["date"] = pd.to_datetime(docs.date)
    docs["year"] = docs.date.dt.year.astype("Int64")
    return docs


def search_archive(data: DataLike, query: str, **filters) -> pd.DataFrame:
    """Shortcut: ``Archive.from_data(data).search(query, **filters)``."""
    return Archive.from_data(data).search(query, **filters)


# -- statistics the supervision report calls ------------------------------------------------------------------


def _archive(a: Archive | DataLike) -> Archive:
    return a if isinstance(a, Archive) else Archive.from_data(a)


def case_counts(archive: Archive | DataLike, by: Sequence[str] = ("case_type", "year", "department_id")) -> pd.DataFrame:
    """Number of cases by type × year × department (or any of ``case_type, year, department_id, source, status``).

    Returns a long table with ``n_cases``; pivot it for a grid.

    Examples
    --------
    >>> cases = pd.DataFrame({"case_id": ["C1", "C2", "C3"], "case_type": ["受贿", "受贿", "虚假报销"],
    ...     "department_id": ["D1", "D1", "D2"], "opened_date": pd.to_datetime(["2024-03-01", "2024-05-01", "2025-01-01"]),
    ...     "closed_date": pd.NaT, "status": "open", "title": "", "summary": "", "disposition": None, "source": "report"})
    >>> case_counts({"cases": cases}, by=["case_type", "year"]).values.tolist()
    [['受贿', 2024, 2], ['虚假报销', 2025, 1]]
    """
    c = _archive(archive).cases
    c = c.assign(year=c.opened_date.dt.year)
    return c.groupby(list(by), dropna=False).size().rename("n_cases").reset_index()


def rectification_completion(archive: Archive | DataLike, as_of: str | pd.Timestamp | None = None,
                             by: Sequence[str] = ("department_id",)) -> pd.DataFrame:
    """Rectification ledger progress: items, done, done on time, overdue (not done past due) and the rates.

    ``as_of`` defaults to the last date in the archive.  ``by`` may use ``department_id``, ``year`` (of the
    due date), ``case_type``, ``status``.
    """
    a = _archive(archive)
    r = a.rectifications
    if as_of is None:
        dates = pd.concat([a.cases.opened_date, a.cases.closed_date, r.completed_date]).dropna()
        as_of = dates.max() if len(dates) else pd.Timestamp.today()
    as_of = pd.Timestamp(as_of)
    r = r.assign(year=r.due_date.dt.year, case_type=r.case_id.map(a.cases.set_index("case_id").case_type),
                 done=r.completed_date.notna() & (r.completed_date <= as_of),
                 on_time=r.completed_date.notna() & (r.completed_date <= r.due_date) & (r.completed_date <= as_of),
                 overdue=(r.completed_date.isna() | (r.completed_date > as_of)) & (r.due_date < as_of))
    g = r.groupby(list(by), dropna=False).agg(n_items=("rectification_id", "size"), done=("done", "sum"),
                                               done_on_time=("on_time", "sum"), overdue=("overdue", "sum")).reset_index()
    g["completion_rate"] = g.done / g.n_items
    g["on_time_rate"] = g.done_on_time / g.n_items
    return g


def time_to_close(archive: Archive | DataLike, by: Sequence[str] = ("case_type",),
                  as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Days from opening to closing a case: closed cases' median, mean and 90th percentile; open cases' count and age."""
    a = _archive(archive)
    c = a.cases
    if as_of is None:
        dates = pd.concat([c.opened_date, c.closed_date]).dropna()
        as_of = dates.max() if len(dates) else pd.Timestamp.today()
    c = c.assign(year=c.opened_date.dt.year, days=(c.closed_date - c.opened_date).dt.days,
                 open_age=np.where(c.closed_date.isna(), (pd.Timestamp(as_of) - c.opened_date).dt.days, np.nan))
    g = c.groupby(list(by), dropna=False)
    out = g.agg(n_cases=("case_id", "size"), n_closed=("days", "count"), median_days=("days", "median"),
                mean_days=("days", "mean"), p90_days=("days", lambda s: s.quantile(0.9) if s.notna().any() else np.nan),
                n_open=("open_age", "count"), open_median_age_days=("open_age", "median")).reset_index()
    return out


def archive_as_of(data: DataLike) -> pd.Timestamp:
    """The date statistics are computed for by default (the data's last day)."""
    return as_of_date(as_dataset(data))
