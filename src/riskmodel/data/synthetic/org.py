"""Organisation: departments, stations, positions, employees, post history (with rotation), reporting lines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.data.synthetic import identity as idn
from riskmodel.data.synthetic.base import Context

POSITIONS = pd.DataFrame([
    ("P01", "leader", "公司领导", "Company leader", 3),
    ("P02", "manager", "部门负责人", "Department head", 3),
    ("P03", "procurement_officer", "采购员", "Procurement officer", 3),
    ("P04", "station_manager", "收购站站长", "Station manager", 3),
    ("P05", "grader", "烟叶定级员", "Tobacco grader", 3),
    ("P06", "weigher", "司磅员", "Weigher", 2),
    ("P07", "warehouse_keeper", "仓库保管员", "Warehouse keeper", 2),
    ("P08", "cashier", "出纳", "Cashier", 3),
    ("P09", "accountant", "会计", "Accountant", 2),
    ("P10", "clerk", "办事员", "Clerk", 1),
    ("P11", "inspector", "质检员", "Quality inspector", 2),
    ("P12", "driver", "驾驶员", "Driver", 1),
    ("P13", "hr_officer", "人事专员", "HR officer", 2),
    ("P14", "education_officer", "宣教专员", "Integrity-education officer", 1),
    ("P15", "technician", "技术员", "Technician", 1),
], columns=["position_id", "post_code", "title_zh", "title_en", "sensitivity"])
POS_ID = dict(zip(POSITIONS.post_code, POSITIONS.position_id))
SENSITIVE_ROTATING = ("procurement_officer", "station_manager", "grader", "cashier", "manager")

# (name, dept_type, share of HQ staff, post mix)
HQ_DEPARTMENTS = [
    ("办公室", "functional", 0.07, {"clerk": 0.8, "education_officer": 0.2}),
    ("财务科", "finance", 0.08, {"accountant": 0.6, "cashier": 0.3, "clerk": 0.1}),
    ("物资采购科", "procurement", 0.07, {"procurement_officer": 0.7, "clerk": 0.3}),
    ("烟叶生产科", "leaf", 0.10, {"technician": 0.6, "inspector": 0.3, "clerk": 0.1}),
    ("人事科", "functional", 0.04, {"hr_officer": 0.8, "clerk": 0.2}),
    ("纪检监察室", "functional", 0.03, {"clerk": 1.0}),
    ("党建工作科", "functional", 0.03, {"education_officer": 0.7, "clerk": 0.3}),
    ("仓储中心", "warehouse", 0.10, {"warehouse_keeper": 0.6, "clerk": 0.2, "inspector": 0.2}),
    ("车队", "logistics", 0.05, {"driver": 1.0}),
    ("技术中心", "functional", 0.05, {"technician": 0.9, "clerk": 0.1}),
]
COUNTY_BRANCH_MIX = {"clerk": 0.3, "technician": 0.25, "accountant": 0.1, "cashier": 0.06, "driver": 0.12,
                     "inspector": 0.1, "procurement_officer": 0.07}


def _slots(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Departments, stations and the list of posts to fill (one row per person)."""
    p = ctx.preset
    rng = ctx.rng("org.departments")
    depts = [("D001", "领导班子", "leadership", "南岗区", None)]
    slots = [("D001", "leader")] * 6
    hq_share = 0.62  # the rest of hq_staff works in county branches
    for i, (name, dtype, share, mix) in enumerate(HQ_DEPARTMENTS):
        did = f"D{i + 2:03d}"
        depts.append((did, name, dtype, "南岗区", "D001"))
        n = max(3, int(round(p.hq_staff * hq_share * share / sum(s for _, _, s, _ in HQ_DEPARTMENTS))))
        slots.append((did, "manager"))
        slots += [(did, post) for post in rng.choice(list(mix), n - 1, p=list(mix.values()))]
    counties = list(rng.choice(idn.RURAL, p.n_counties, replace=len(idn.RURAL) < p.n_counties))
    per_branch = max(4, int(p.hq_staff * (1 - hq_share) / p.n_counties))
    branch_ids = []
    for j, county in enumerate(counties):
        did = f"D{len(depts) + 1:03d}"
        branch_ids.append(did)
        depts.append((did, f"{county}烟叶分公司", "leaf", county, "D001"))
        slots.append((did, "manager"))
        slots += [(did, post) for post in rng.choice(list(COUNTY_BRANCH_MIX), per_branch - 1, p=list(COUNTY_BRANCH_MIX.values()))]
    # stations: size varies a lot (heterogeneity); quality too (some stations' leaf is better)
    size = rng.lognormal(0, 0.45, p.n_stations)
    size = size / size.mean()
    station_county_idx = np.sort(rng.integers(0, p.n_counties, p.n_stations))
    towns = idn.towns(rng, p.n_stations)
    seen: set[str] = set()
    for k in range(p.n_stations):  # make township names unique (the two-character pool has 375; then three)
        tries = 0
        while towns[k] in seen:
            tries += 1
            t = idn.towns(rng, 1)[0]
            towns[k] = t if tries < 30 else t[0] + idn.towns(rng, 1)[0]
        seen.add(towns[k])
    stations = []
    for k in range(p.n_stations):
        did = f"D{len(depts) + 1:03d}"
        county = counties[station_county_idx[k]]
        depts.append((did, f"{towns[k].removesuffix('镇')}烟叶收购站", "station", county, branch_ids[station_county_idx[k]]))
        stations.append((f"ST{k + 1:03d}", did, f"{towns[k].removesuffix('镇')}烟叶收购站", county, towns[k], size[k]))
        n_graders = int(np.clip(round(2 + 3 * size[k]), 2, 8))
        slots += [(did, "station_manager")] + [(did, "grader")] * n_graders + [(did, "weigher")] * (1 + int(size[k] > 1.2))
        slots += [(did, "cashier"), (did, "warehouse_keeper"), (did, "clerk")]
    departments = pd.DataFrame(depts, columns=["department_id", "name", "dept_type", "county", "parent_id"])
    station_df = pd.DataFrame(stations, columns=["station_id", "department_id", "name", "county", "township", "size"])
    station_df["quality"] = ctx.rng("org.quality").normal(0, 0.25, p.n_stations)
    slot_df = pd.DataFrame(slots, columns=["department_id", "post_code"])
    slot_df["position_id"] = slot_df.post_code.map(POS_ID)
    return departments, station_df, slot_df


def build(ctx: Context) -> dict:
    """Generate the organisation.

    Returns a dict with the contract tables (``departments``, ``positions``,
    ``employees``, ``post_history``, ``reporting_lines``, ``stations``) and
    helpers for the other areas: ``roster`` (who holds which post in each
    rotation year), ``station_info`` (size, quality) and ``reserved`` (people
    the schemes and look-alikes use, e.g. station managers never rotated).
    """
    rng = ctx.rng("org.people")
    departments, stations, slots = _slots(ctx)
    n = len(slots)
    emp_ids = ctx.ids("E", n, 5)
    slots["employee_id"] = emp_ids
    gender = np.where(rng.random(n) < np.where(slots.post_code.isin(["driver", "grader", "station_manager"]), 0.85, 0.55), "男", "女")
    name, gender = idn.names(rng, n, gender)
    birth = pd.Timestamp("1964-01-01") + pd.to_timedelta(rng.integers(0, 36 * 365, n), unit="D")
    hire = birth + pd.to_timedelta(rng.integers(20 * 365, 30 * 365, n), unit="D")
    hire = pd.DatetimeIndex(np.minimum(hire.values, (ctx.start - pd.Timedelta(days=60)).to_datetime64()))
    dept_county = slots.department_id.map(departments.set_index("department_id").county)
    at_station = slots.department_id.isin(stations.department_id)
    home = np.where(at_station, idn.rural_addresses(rng, dept_county.to_numpy(), idn.towns(rng, n)), idn.urban_addresses(rng, n))
    employees = pd.DataFrame({
        "employee_id": emp_ids, "name": name, "gender": gender, "birth_date": birth.normalize(),
        "id_number": idn.id_numbers(rng, birth, gender, np.where(at_station, dept_county, rng.choice(idn.URBAN, n))),
        "phone": idn.mobile_phones(rng, n), "address": home, "bank_account": idn.bank_accounts(rng, n),
        "hire_date": hire.normalize(), "leave_date": pd.NaT,
    })
    # Spouses who both work here share a home address (benign shared attribute).
    n_couples = max(2, n // 60)
    pairs = rng.choice(n, (n_couples, 2), replace=False)
    employees.loc[pairs[:, 1], "address"] = employees.address.to_numpy()[pairs[:, 0]]
    lka = ctx.new_lookalike("family_employees", "kickback_related_supplier")
    ctx.add_lookalike_entities(lka, "employee", emp_ids[pairs.ravel()])

    # Reserve station managers who will not rotate: some for the tenure scheme, some benign (remote stations).
    # old enough to have been hired 13+ years before the data starts
    sm = slots.index[(slots.post_code == "station_manager") & (employees.birth_date <= ctx.start - pd.DateOffset(years=42))].to_numpy()
    picks = rng.choice(sm, min(len(sm), ctx.preset.schemes + ctx.preset.lookalikes), replace=False)
    reserved = {"unrotated_scheme": emp_ids[picks[: ctx.preset.schemes]],
                "unrotated_lookalike": emp_ids[picks[ctx.preset.schemes:]]}
    no_rotate = set(reserved["unrotated_scheme"]) | set(reserved["unrotated_lookalike"])
    # the never-rotated must have been here long enough: hired at least 13 years before the data starts
    idx = employees.employee_id.isin(no_rotate)
    employees.loc[idx, "hire_date"] = np.minimum(employees.loc[idx, "hire_date"], ctx.start - pd.Timedelta(days=int(13 * 365.25)))

    history, roster = _rotate(ctx, slots, employees, no_rotate, rng)
    employees = employees.merge(history.loc[history.end_date.isna(), ["employee_id", "department_id", "position_id"]],
                                on="employee_id", how="left")
    reporting = _reporting_lines(ctx, history, roster)
    return {
        "departments": departments, "positions": POSITIONS.copy(), "employees": employees,
        "post_history": history, "reporting_lines": reporting,
        "stations": stations[["station_id", "department_id", "name", "county", "township"]],
        "station_info": stations, "roster": roster, "reserved": reserved,
    }


def _rotate(ctx: Context, slots: pd.DataFrame, employees: pd.DataFrame, no_rotate: set, rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate rotation on 1 March each year; return post history and the yearly roster."""
    n = len(slots)
    sens = slots.post_code.isin(SENSITIVE_ROTATING).to_numpy()
    hire = employees.hire_date.to_numpy()
    tenure0 = np.where(sens, rng.uniform(0.2, 4.5, n), rng.uniform(0.2, 16, n))
    emp = slots.employee_id.to_numpy()
    keep = np.isin(emp, list(no_rotate))
    tenure0[keep] = rng.uniform(8, 12, keep.sum())
    start = ctx.start - pd.to_timedelta(tenure0 * 365.25, unit="D")
    start = pd.DatetimeIndex(np.maximum(start.values, hire)).normalize()
    limit = rng.uniform(3.0, 5.0, n)  # years a holder stays before the office rotates them
    holder = emp.copy()  # holder of each slot
    since = start.to_numpy().copy()
    dept = slots.department_id.to_numpy()
    post = slots.post_code.to_numpy()
    history = []
    roster = [pd.DataFrame({"ryear": ctx.years[0] - 1, "employee_id": holder.copy(), "department_id": dept, "post_code": post})]
    emp_limit = dict(zip(emp, limit))
    for year in ctx.years:
        day = pd.Timestamp(f"{year}-03-01")
        due = np.array([sens[i] and holder[i] not in no_rotate and (day - pd.Timestamp(since[i])).days / 365.25 >= emp_limit[holder[i]]
                        for i in range(n)])
        for code in SENSITIVE_ROTATING:
            idx = np.flatnonzero(due & (post == code))
            rng.shuffle(idx)
            # swap each due holder with another holder of the same post in another department (due ones first)
            others = [i for i in np.flatnonzero(post == code) if holder[i] not in no_rotate]
            swapped: set[int] = set()
            for a in idx:
                if a in swapped:
                    continue
                cands = [b for b in idx if b not in swapped and b != a and dept[b] != dept[a]] or \
                        [b for b in others if b not in swapped and b != a and dept[b] != dept[a]]
                if not cands:
                    continue  # nowhere to rotate to: the post stays (a real-world exception)
                b = cands[0] if cands[0] in idx else cands[int(rng.integers(len(cands)))]
                for i in (a, b):
                    history.append((holder[i], dept[i], post[i], pd.Timestamp(since[i]), day - pd.Timedelta(days=1)))
                holder[a], holder[b] = holder[b], holder[a]
                since[a] = since[b] = day.to_datetime64()
                swapped |= {a, b}
        roster.append(pd.DataFrame({"ryear": year, "employee_id": holder.copy(), "department_id": dept, "post_code": post}))
    for i in range(n):
        history.append((holder[i], dept[i], post[i], pd.Timestamp(since[i]), pd.NaT))
    hist = pd.DataFrame(history, columns=["employee_id", "department_id", "post_code", "start_date", "end_date"])
    # an earlier, non-sensitive post for those hired long before their first recorded post
    first = hist.sort_values("start_date").groupby("employee_id", as_index=False).first()
    first = first.merge(employees[["employee_id", "hire_date"]], on="employee_id")
    earlier = first[(first.start_date - first.hire_date).dt.days > 400].copy()
    earlier["end_date"] = earlier.start_date - pd.Timedelta(days=1)
    earlier["start_date"] = earlier.hire_date
    earlier["post_code"] = rng.choice(np.array(["clerk", "technician", "inspector"]), len(earlier))
    earlier["department_id"] = rng.choice(dept, len(earlier))
    hist = pd.concat([hist, earlier[hist.columns]], ignore_index=True).sort_values(["employee_id", "start_date"], ignore_index=True)
    hist["position_id"] = hist.post_code.map(POS_ID)
    hist.insert(0, "assignment_id", ctx.ids("A", len(hist), 6))
    roster = pd.concat(roster, ignore_index=True)
    roster["position_id"] = roster.post_code.map(POS_ID)
    return hist[["assignment_id", "employee_id", "department_id", "position_id", "start_date", "end_date"]], roster


def _reporting_lines(ctx: Context, history: pd.DataFrame, roster: pd.DataFrame) -> pd.DataFrame:
    """Each post reports to its department's head; heads report to the first leader."""
    heads = roster[roster.post_code == "manager"].drop_duplicates("department_id", keep="last").set_index("department_id").employee_id
    top = roster[roster.post_code == "leader"].employee_id.iloc[0]
    leaders = roster[roster.post_code == "leader"].employee_id.unique()
    h = history[history.end_date.isna() | (history.end_date >= ctx.start - pd.Timedelta(days=366))].copy()
    h["manager_id"] = h.department_id.map(heads)
    is_head = h.employee_id.isin(heads.values) | h.employee_id.isin(leaders)
    h.loc[is_head, "manager_id"] = top
    h = h[h.manager_id.notna() & (h.manager_id != h.employee_id)]
    out = h[["employee_id", "manager_id", "start_date", "end_date"]].reset_index(drop=True)
    out.insert(0, "line_id", ctx.ids("L", len(out), 6))
    return out
