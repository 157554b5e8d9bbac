"""Roles: which reports and which columns each user gets.  Enforced here; every export command goes through it.

Paper §1.1: 平台还设置权限管理，根据不同的人员职责范围授予查阅、操作等权限.  Five roles:

=================  ==========  ================================================================================
role               identified  views
=================  ==========  ================================================================================
supervisor         yes         everything, and the only role that records integrity-tier changes
analyst            yes         alerts, archive, statistics, digests, education plans, recommendations, learning,
                               profiles, ledger, leak scan, pseudonyms resolved
model_reviewer     no          alerts, statistics, digests
education_officer  no          alerts, archive, statistics, digests, education plans, recommendations, learning,
                               profiles
leadership         no          alerts, archive, statistics, digests, education plans, learning, profiles
=================  ==========  ================================================================================

*Identified* roles see ids, names and exact posts.  The others get
de-identified views only (:mod:`riskmodel.linkage.deid`): person ids, document
ids (orders, claims, leaf purchases …) and fapiao numbers become keyed
pseudonyms, free text is scrubbed, person-level rows show the kind of
unit and the post's sensitivity (coarser where fewer than ``k`` people share
them, never the exact department and post), case-level rows are generalised
until ``k`` people share unit, post and year, evidence lists are dropped,
targeted plans name audiences of at least ``k`` people and nobody in them, and
filters that would undo a generalisation (department, person) are refused.
Every de-identified result is scanned with :func:`~riskmodel.linkage.deid.find_leaks`
before it is returned; a hit raises instead of returning.

The role is given per command (``--role``).  A deployment can pin it: when
``RISKMODEL_ROLE`` is set (e.g. in each user's login profile), a command asking
for a different role is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel import ledger
from riskmodel.errors import RiskModelError
from riskmodel.linkage.archive import Archive, case_counts, match_scores, rectification_completion, snippets, time_to_close
from riskmodel.linkage.common import DataLike, as_dataset, as_of_date, holders_at, latest_decisions, read_run, reason_indicators
from riskmodel.linkage.deid import Deidentifier, Pseudonymizer, case_text_maps, entity_kind, load_key, warning_digests
from riskmodel.linkage.education import (education_plan, leaderboard, learning_progress, learning_summary, recommend,
                                         widen_plans)
from riskmodel.linkage.profiles import integrity_profiles, set_tier
from riskmodel.scoring.feedback import ROLES

ROLE_ENV = "RISKMODEL_ROLE"
VIEWS = {
    "alerts": "the review queue", "archive": "case-archive search", "statistics": "archive statistics",
    "digests": "warning-case digests (always de-identified)", "education_plan": "targeted education plans",
    "recommendations": "personal learning recommendations", "learning": "learning progress and leaderboards",
    "profiles": "integrity profiles", "ledger": "the ledger's entries", "tiers": "recording integrity-tier changes",
    "leak_scan": "the leak scan's findings (where identifiers are)",
    "reidentify": "what pseudonyms stand for (ids, document ids, fapiao numbers)",
}


@dataclass(frozen=True)
class RolePolicy:
    """What one role may see and do."""

    role: str
    identified: bool
    views: frozenset[str]


_DEID_ALL = frozenset({"alerts", "archive", "statistics", "digests", "education_plan", "recommendations", "learning", "profiles"})
POLICIES: dict[str, RolePolicy] = {
    "supervisor": RolePolicy("supervisor", True, frozenset(VIEWS)),
    "analyst": RolePolicy("analyst", True, frozenset(VIEWS) - {"tiers"}),
    "model_reviewer": RolePolicy("model_reviewer", False, frozenset({"alerts", "statistics", "digests"})),
    "education_officer": RolePolicy("education_officer", False, _DEID_ALL),
    "leadership": RolePolicy("leadership", False, _DEID_ALL - {"recommendations"}),
}
assert set(POLICIES) == set(ROLES), "every role of riskmodel.scoring.feedback.ROLES needs a policy"


class AccessDenied(RiskModelError):
    """A role asked for a view, a filter or an action it is not allowed."""


def resolve_role(role: str | None) -> str:
    """The role a command runs as: ``role``, checked against ``$RISKMODEL_ROLE`` when the deployment pins one.

    Examples
    --------
    >>> resolve_role("analyst")
    'analyst'
    """
    pinned = os.environ.get(ROLE_ENV) or None
    if role is None:
        role = pinned
    if role is None:
        raise AccessDenied(f"say which role you act in: --role {{{','.join(ROLES)}}} (or set {ROLE_ENV})")
    if role not in POLICIES:
        raise AccessDenied(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if pinned is not None and pinned != role:
        raise AccessDenied(f"this account is pinned to role {pinned!r} ({ROLE_ENV}); it cannot act as {role!r}")
    return role


def require(role: str, view: str) -> RolePolicy:
    """The role's policy, or :class:`AccessDenied` naming who may have the view.

    Examples
    --------
    >>> require("education_officer", "alerts").identified
    False
    >>> require("education_officer", "ledger")
    Traceback (most recent call last):
    ...
    riskmodel.linkage.roles.AccessDenied: role 'education_officer' may not have the ledger's entries; roles that may: supervisor, analyst
    """
    pol = POLICIES.get(role)
    if pol is None:
        raise AccessDenied(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if view not in pol.views:
        allowed = [r for r, p in POLICIES.items() if view in p.views]
        raise AccessDenied(f"role {role!r} may not have {VIEWS.get(view, view)}; roles that may: {', '.join(allowed)}")
    return pol


def _join(values) -> str:
    return ";".join(map(str, values)) if isinstance(values, (list, tuple, np.ndarray)) else ("" if values is None else str(values))


class RoleView:
    """Everything the linkage room offers, as one role sees it.

    Parameters
    ----------
    role : str
        One of :data:`POLICIES` (see :func:`resolve_role`).
    data : Dataset, mapping of tables, or path
        The source tables (de-identification checks outputs against them).
    settings : Settings, optional
    key_file : path-like, optional
        The pseudonym key file (see :func:`riskmodel.linkage.deid.load_key`); only de-identified views need a key.
    pseudonymizer : Pseudonymizer, optional
        Instead of a key file (tests, notebooks).

    Examples
    --------
    >>> import tempfile
    >>> from riskmodel.data.synthetic import generate_company
    >>> path = tempfile.mkdtemp() + "/co"
    >>> _ = generate_company("small", seed=11, out=path, progress=False)
    >>> v = RoleView("education_officer", path, pseudonymizer=Pseudonymizer(b"0" * 32))
    >>> hits = v.archive_search("虚开发票")
    >>> "people" in hits.columns, bool(hits.digest_id.str.startswith("WC-").all())
    (False, True)
    """

    def __init__(self, role: str, data: DataLike, settings=None, key_file: str | Path | None = None,
                 pseudonymizer: Pseudonymizer | None = None):
        from riskmodel.settings import load_settings

        if role not in POLICIES:
            raise AccessDenied(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        self.role = role
        self.policy = POLICIES[role]
        self.data = as_dataset(data)
        self.settings = settings or load_settings()
        self._key_file = key_file
        self._pseudonymizer = pseudonymizer
        self._deid: Deidentifier | None = None

    @property
    def identified(self) -> bool:
        return self.policy.identified

    @property
    def deid(self) -> Deidentifier:
        if self._deid is None:
            p = self._pseudonymizer or Pseudonymizer(load_key(self._key_file, self.settings))
            self._deid = Deidentifier(self.data, p, self.settings.linkage.k_anonymity)
        return self._deid

    def _release(self, frames: dict[str, pd.DataFrame], what: str) -> dict[str, pd.DataFrame]:
        if not self.identified:
            self.deid.check(frames, what)
        return frames

    def _people_ids(self, values: list[str] | None) -> list[str] | None:
        """Employee ids from ids or names (identified roles) or from pseudonyms (de-identified roles)."""
        if values is None:
            return None
        emp = self.data.table("employees")
        if self.identified:
            by_name = emp.groupby("name").employee_id.agg(list)
            out = [e for v in values for e in (by_name.get(v) or [v])]
        else:
            back = dict(zip(self.deid.pseudonyms(emp.employee_id), emp.employee_id))
            unknown = [v for v in values if v not in back]
            if unknown:
                raise AccessDenied(f"role {self.role!r} names people by pseudonym (EMP-…); {unknown[:3]} is not one under this key")
            out = [back[v] for v in values]
        return out

    def _person_labels(self, frame: pd.DataFrame, id_col: str = "employee_id", year: int | None = None) -> pd.DataFrame:
        """Pseudonymise a person-level frame and replace its department and post by coarse k-anonymous labels."""
        f = frame.copy()
        f["employee_ref"] = self.deid.pseudonyms(f[id_col])
        if "year" not in f or year is not None:
            f["year"] = year if year is not None else as_of_date(self.data).year
        g = self.deid.generalise(f, group="employee_ref", min_level=2)
        return g.drop(columns=[c for c in (id_col, "department_id", "position_id", "year") if c in g])

    # -- alerts --------------------------------------------------------------------------------------------
    def alerts(self, run_dir: str | Path) -> pd.DataFrame:
        """The review queue with each alert's latest decision; de-identified roles get pseudonyms and coarse labels."""
        require(self.role, "alerts")
        run = read_run(run_dir)
        a = run["alerts"].copy()
        dec = latest_decisions(run["decisions"])
        a["decision"] = a.alert_id.map(dec.set_index("alert_id").decision) if len(dec) else None
        if self.identified:
            return a
        # an event's id gets the pseudonym its reasons name it by (a tender's TND-…), so the two read as one
        kind = {e: entity_kind(e) for e in a.entity_type.unique()}
        refs = [self.deid.pseudonymizer(e, kind[t]) for e, t in zip(a.entity_id, a.entity_type)]
        f = a.assign(entity_ref=refs, year=pd.to_datetime(a.period).dt.year)
        g = self.deid.generalise(f, group="entity_ref", min_level=2)
        texts = lambda lang: g.reasons.map(lambda rs: "；".join(str(r.get(f"text_{lang}", "")) for r in (rs if rs is not None else [])))  # noqa: E731
        out = pd.DataFrame({
            "alert_ref": [self.deid.pseudonymizer(x, "alert") for x in g.alert_id], "entity_type": g.entity_type,
            "entity_ref": g.entity_ref, "year_label": g.year_label, "unit_zh": g.unit_zh, "post_zh": g.post_zh,
            "score": g.score, "rank": g["rank"], "policy": g.policy, "model": g.model,
            "indicators": g.reasons.map(lambda rs: ";".join(reason_indicators(rs))),
            "reasons_zh": self.deid.scrub(texts("zh")), "reasons_en": self.deid.scrub(texts("en"), lang="en"),
            "decision": g.decision, "gen_level": g.gen_level, "class_size": g.class_size})
        return self._release({"alerts": out}, "de-identified alerts")["alerts"]

    # -- archive -------------------------------------------------------------------------------------------
    def archive_search(self, query: str, case_type: str | list | None = None, department: str | list | None = None,
                       year: int | list | None = None, person: str | list | None = None, limit: int | None = 50) -> pd.DataFrame:
        """Search the archive; de-identified roles search scrubbed texts of closed cases and cannot filter by department or person."""
        require(self.role, "archive")
        arch = Archive.from_data(self.data)
        if self.identified:
            people = self._people_ids([person] if isinstance(person, str) else person)
            return arch.search(query, case_type=case_type, department=department, year=year, person=people, limit=limit)
        if department is not None or person is not None:
            raise AccessDenied(f"role {self.role!r} cannot filter the archive by department or person: those filters would undo "
                               f"the de-identification; filter by case type or year")
        closed = arch.cases[arch.cases.status == "closed"]
        g, maps = case_text_maps(self.data, closed, self.deid)
        g = g.set_index("case_id")
        maps.index = g.index
        d = arch.documents[arch.documents.case_id.isin(g.index)].reset_index(drop=True)
        if case_type is not None:
            d = d[d.case_type.isin([case_type] if isinstance(case_type, str) else list(case_type))].reset_index(drop=True)
        if year is not None:
            ys = {str(y) for y in ([year] if isinstance(year, (int, str)) else year)}
            d = d[d.case_id.map(g.year_label).isin(ys)].reset_index(drop=True)
        text = self.deid.scrub(d.text, d.case_id.map(maps))
        score = match_scores(text, query)
        hit = score > 0
        d, text, score = d[hit], text[hit], score[hit]
        out = pd.DataFrame({
            "record_type": d.record_type,
            "record_ref": [self.deid.pseudonymizer(r, "record") if t != "case" else self.deid.pseudonymizer(c, "case")
                           for r, t, c in zip(d.record_id, d.record_type, d.case_id)],
            "digest_id": [self.deid.pseudonymizer(c, "case") for c in d.case_id], "case_type": d.case_type,
            "unit_zh": d.case_id.map(g.unit_zh), "post_zh": d.case_id.map(g.post_zh), "year_label": d.case_id.map(g.year_label),
            "text": text, "snippet": snippets(text, query, 6), "score": score})
        out = out.sort_values(["score", "digest_id"], ascending=[False, True], kind="stable")
        out = (out.head(limit) if limit else out).reset_index(drop=True)
        return self._release({"hits": out}, "de-identified archive search")["hits"]

    def archive_statistics(self, as_of: str | pd.Timestamp | None = None) -> dict[str, pd.DataFrame]:
        """Cases by type × year × department, rectification completion by department, time to close by type."""
        require(self.role, "statistics")
        arch = Archive.from_data(self.data)
        arch = arch.known_on(as_of) if as_of is not None else arch  # no case opened after the day asked about
        out = {"case_counts": case_counts(arch), "rectification_completion": rectification_completion(arch, as_of),
               "time_to_close": time_to_close(arch, as_of=as_of)}
        return self._release(out, "archive statistics")

    def digests(self, run_dir: str | Path | None = None) -> pd.DataFrame:
        """Warning-case digests (de-identified for every role: they are made for the education side)."""
        require(self.role, "digests")
        return warning_digests(self.data, self.deid, run_dir=run_dir)

    # -- education -----------------------------------------------------------------------------------------
    def education_plan(self, run_dir: str | Path | None = None, as_of: str | pd.Timestamp | None = None) -> dict[str, pd.DataFrame]:
        """Targeted plans; identified roles get holders and per-person assignments, others audiences of at least k."""
        require(self.role, "education_plan")
        plan = education_plan(self.data, run_dir, as_of, self.settings)
        if self.identified:
            return {"plans": plan.plans, "assignments": plan.assignments, "concentration": plan.concentration}
        plans, todo = widen_plans(plan, self.data, self.settings.linkage.k_anonymity)
        conc = plan.concentration[plan.concentration.level.isin(["business_type", "position"])].reset_index(drop=True)
        return self._release({"plans": plans, "assignments": todo, "concentration": conc}, "de-identified education plans")

    def recommendations(self, run_dir: str | Path | None = None, employees: list[str] | None = None, n: int = 5,
                        as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
        """Personal recommendations (de-identified roles: by pseudonym, coarse labels, neutral reasons)."""
        require(self.role, "recommendations")
        ids = self._people_ids(employees)
        r = recommend(self.data, ids, run_dir, as_of, n)
        if self.identified:
            return r
        at = as_of_date(self.data, as_of)
        held = holders_at(self.data, at).drop_duplicates("employee_id").set_index("employee_id")
        r = r.assign(department_id=r.employee_id.map(held.department_id), position_id=r.employee_id.map(held.position_id))
        r["reason_zh"] = r.reason_zh.str.replace("与本人风险提示相关", "重点推荐", regex=False)
        out = self._person_labels(r, year=at.year)
        out = out[["employee_ref", "unit_zh", "post_zh", "material_id", "title", "kind", "topic_tags", "score", "reason_zh", "class_size"]]
        return self._release({"recommendations": out}, "de-identified recommendations")["recommendations"]

    def learning(self, year: int | None = None, by: tuple[str, ...] = ("department_id", "position_id"), n: int = 10) -> dict[str, pd.DataFrame]:
        """Learning progress per person, the summary by department and post, and leaderboards."""
        require(self.role, "learning")
        prog = learning_progress(self.data, year, lagging_share=self.settings.linkage.lagging_share)
        out = {"progress": prog, "summary": learning_summary(prog, by), "leaderboard": leaderboard(prog, n=n),
               "leaderboard_departments": leaderboard(prog, "department_id", n=n)}
        if self.identified:
            return out
        k = self.settings.linkage.k_anonymity
        p = self._person_labels(prog, year=int(prog.year.iloc[0]) if len(prog) else None)
        s = out["summary"]
        small = s.n_people < k  # small-cell suppression: a group of one would show that one person's status
        s.loc[small, ["n_active", "n_lagging", "mean_progress", "mean_test_score", "points_per_head", "lagging_share"]] = np.nan
        board = p.sort_values(["points", "employee_ref"], ascending=[False, True]).head(n).reset_index(drop=True)
        board.insert(0, "rank", np.arange(1, len(board) + 1))
        board = board[["rank", "employee_ref", "unit_zh", "post_zh", "points", "credits", "mean_test_score"]]
        res = {"progress": p, "summary": s.assign(suppressed=small), "leaderboard": board,
               "leaderboard_departments": out["leaderboard_departments"][lambda d: d.n_people >= k].reset_index(drop=True)}
        return self._release(res, "de-identified learning analytics")

    # -- profiles and tiers --------------------------------------------------------------------------------
    def profiles(self, run_dir: str | Path | None = None, ledger_path: str | Path | None = None,
                 employee: str | None = None, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
        """Integrity profiles (one person with ``employee``: an id, or a pseudonym for de-identified roles)."""
        require(self.role, "profiles")
        p = integrity_profiles(self.data, run_dir, ledger_path, as_of, self.settings)
        if employee is not None:
            ids = self._people_ids([employee])
            p = p[p.employee_id.isin(ids)]
            if p.empty:
                raise RiskModelError(f"no profile for {employee}: the person holds no post on the profile date")
        if self.identified:
            return p.reset_index(drop=True)
        at = as_of_date(self.data, as_of)
        q = self._person_labels(p.assign(rules=p.rules.map(_join)), year=at.year)
        q["tier_reason"] = self.deid.scrub(q.tier_reason)
        q = q.drop(columns=["tier_by", "sensitivity", "years_in_post"])
        front = ["employee_ref", "unit_zh", "post_zh"]
        q = q[front + [c for c in q.columns if c not in front]]
        return self._release({"profiles": q}, "de-identified profiles")["profiles"]

    def set_tier(self, ledger_path: str | Path, employee: str, tier: str, reason: str, actor: str,
                 run_dir: str | Path | None = None) -> dict:
        """Record a tier change in the ledger (supervisors only)."""
        require(self.role, "tiers")
        profiles = integrity_profiles(self.data, run_dir, ledger_path, None, self.settings)
        return set_tier(ledger_path, employee, tier, reason, actor, self.role, profiles)

    # -- the way back ---------------------------------------------------------------------------------------
    def resolve(self, refs: list[str]) -> pd.DataFrame:
        """What pseudonyms stand for (identified roles only: it undoes the de-identification under the same key)."""
        require(self.role, "reidentify")
        return self.deid.resolve(refs)

    # -- the ledger ----------------------------------------------------------------------------------------
    def ledger_entries(self, path: str | Path, kind: str | None = None, last: int | None = None) -> pd.DataFrame:
        """The ledger's entries (identified roles only: they carry ids)."""
        require(self.role, "ledger")
        e = ledger.read_entries(path, kind)
        if last:
            e = e[-last:]
        return pd.DataFrame([{**{k: v for k, v in x.items() if k != "payload"}, "payload": x["payload"]} for x in e])
