"""The linkage room's commands: ``riskmodel archive|export|education|profile|deid|ledger …``.

Registered on the main ``riskmodel`` group by :func:`register` (called at the
end of :mod:`riskmodel.cli`).  Each command is a thin wrapper: every one that
shows data takes ``--role`` and goes through :class:`~riskmodel.linkage.roles.RoleView`,
which decides the view and the columns and refuses de-identified output that
still holds an identifier.  Exports are recorded in the ledger (the run's, or
``--ledger PATH``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from riskmodel import config

ROLE_CHOICES = ("supervisor", "analyst", "model_reviewer", "education_officer", "leadership")
#: commands that show no data from the tables (so take no --role)
ROLE_FREE = {("deid", "keygen"), ("ledger", "verify"), ("ledger", "head")}


def _role_option(f):
    return click.option("--role", type=click.Choice(ROLE_CHOICES), default=None,
                        help="The role you act in; decides what you get (default: $RISKMODEL_ROLE).")(f)


def _data_option(f):
    return click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
                        help=f"The dataset folder (default: the run's data source, else {config.DEMO_DATA_DIR}).")(f)


def _key_option(f):
    return click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Pseudonym key file (default: $RISKMODEL_PSEUDONYM_KEY, $RISKMODEL_PSEUDONYM_KEY_FILE or "
                             "linkage.pseudonym_key_file).")(f)


def _settings_option(f):
    return click.option("--settings", "settings_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="A settings file overriding the defaults.")(f)


def _run_option(required: bool = False):
    return click.option("--run", "run_dir", type=click.Path(file_okay=False, path_type=Path), required=required, default=None,
                        help="A run folder (alerts.parquet, decisions.csv, flags.parquet).")


def _out_option(f):
    return click.option("--out", type=click.Path(path_type=Path), default=None,
                        help="Write here (.csv, .parquet, .json or .jsonl; a folder for several tables) instead of printing.")(f)


def _ledger_option(f):
    return click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Record the export in this ledger (default: RUN/ledger.jsonl when --run is given).")(f)


def _view(role, data_dir, run_dir, settings_path, key_file):
    from riskmodel.linkage.roles import RoleView, resolve_role
    from riskmodel.settings import load_settings

    role = resolve_role(role)
    if data_dir is None and run_dir is not None and (Path(run_dir) / "model_card.json").is_file():
        from riskmodel.scoring.datasource import resolve_data_source

        data_dir = resolve_data_source(json.loads((Path(run_dir) / "model_card.json").read_text(encoding="utf-8")), run_dir)
    return RoleView(role, data_dir or config.DEMO_DATA_DIR, load_settings(settings_path), key_file)


def _flat(df):
    """Lists and arrays as ';'-joined text (for CSV and the terminal)."""
    import numpy as np

    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object and out[c].map(lambda v: isinstance(v, (list, tuple, np.ndarray, dict))).any():
            out[c] = out[c].map(lambda v: json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, dict) else
                                (";".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray)) else v))
    return out


def _bytes(df, suffix: str) -> bytes:
    import io

    if suffix == ".csv":
        return _flat(df).to_csv(index=False).encode("utf-8-sig")
    if suffix == ".parquet":
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        return buf.getvalue()
    if suffix in (".json", ".jsonl"):
        from riskmodel.ledger import jsonable

        recs = [jsonable(r) for r in df.to_dict("records")]
        if suffix == ".json":
            return json.dumps(recs, ensure_ascii=False, indent=1).encode("utf-8")
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs).encode("utf-8")
    from riskmodel.errors import OutputError

    raise OutputError(f"cannot write {suffix!r} files; name --out with .csv, .parquet, .json or .jsonl (or a folder)")


def _emit(result, out: Path | None, view, what: str, ledger_path: Path | None = None, run_dir: Path | None = None) -> None:
    """Print or write a table (or several), then record the export in the ledger."""
    import pandas as pd

    from riskmodel.data.store import atomic_dir, atomic_write_bytes
    from riskmodel.ledger import LEDGER_FILE, log_report

    frames = result if isinstance(result, dict) else {what: result}
    if out is None:
        with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_colwidth", 60):
            for name, df in frames.items():
                if len(frames) > 1:
                    click.echo(f"== {name} ({len(df)} rows)")
                click.echo(_flat(df).to_string(index=False, max_rows=60) if len(df) else "(nothing)")
        return
    written = []
    if isinstance(result, dict) or out.suffix == "":
        suffix = ".csv"
        with atomic_dir(out) as tmp:
            for name, df in frames.items():
                (tmp / f"{name}{suffix}").write_bytes(_bytes(df, suffix))
        written = [out / f"{name}{suffix}" for name in frames]
    else:
        atomic_write_bytes(out, _bytes(result, out.suffix.lower()))
        written = [out]
    ledger_path = ledger_path or (Path(run_dir) / LEDGER_FILE if run_dir is not None else None)
    if ledger_path is not None:
        for p in written:
            log_report(ledger_path, p, what, view.role, extra={"role": view.role, "identified": view.identified})
    click.echo(f"wrote {', '.join(str(p) for p in written)} for role {view.role}"
               f" ({'identified' if view.identified else 'de-identified'})")


def _group(main: click.Group, name: str, help_text: str) -> click.Group:
    """Reuse a group of that name if another room already made one, else add ours."""
    existing = main.commands.get(name)
    if isinstance(existing, click.Group):
        return existing
    grp = click.Group(name, help=help_text)
    main.add_command(grp)
    return grp


def register(main: click.Group) -> None:
    """Add the linkage commands to the ``riskmodel`` group."""
    archive = _group(main, "archive", "The case archive (电子档案): search and statistics.")
    export = _group(main, "export", "Role-checked exports (education officers and leadership get de-identified columns only).")
    education = _group(main, "education", "Targeted education (即查即教), recommendations, learning analytics.")
    profile = _group(main, "profile", "Integrity profiles (廉政档案) and tiers.")
    deid = _group(main, "deid", "De-identification: the pseudonym key and the leak scan.")
    ledger = _group(main, "ledger", "The tamper-evident record (hash-chained JSON lines).")

    # -- archive -----------------------------------------------------------------------------------------
    @archive.command("search")
    @click.argument("query")
    @_role_option
    @_data_option
    @click.option("--type", "case_type", multiple=True, help="Case type(s), e.g. 虚假报销.")
    @click.option("--department", multiple=True, help="Department id(s) (identified roles only).")
    @click.option("--year", type=int, multiple=True, help="Year(s) the case opened.")
    @click.option("--person", multiple=True, help="Employee id or name (identified roles only).")
    @click.option("--limit", type=int, default=50, show_default=True)
    @_out_option
    @_key_option
    @_settings_option
    def archive_search(query, role, data_dir, case_type, department, year, person, limit, out, key_file, settings_path):
        """Full-text search of cases, interview records and the rectification ledger (e.g. 虚开发票 finds 虚开增值税发票)."""
        v = _view(role, data_dir, None, settings_path, key_file)
        hits = v.archive_search(query, case_type=list(case_type) or None, department=list(department) or None,
                                year=list(year) or None, person=list(person) or None, limit=limit)
        _emit(hits, out, v, "archive_search")

    @archive.command("stats")
    @_role_option
    @_data_option
    @click.option("--as-of", default=None, help="Date the statistics are for (default: the data's last day).")
    @_out_option
    @_key_option
    @_settings_option
    def archive_stats(role, data_dir, as_of, out, key_file, settings_path):
        """Cases by type × year × department, rectification completion, time to close."""
        v = _view(role, data_dir, None, settings_path, key_file)
        _emit(v.archive_statistics(as_of), out, v, "archive_statistics")

    # -- export ------------------------------------------------------------------------------------------
    @export.command("alerts")
    @_role_option
    @_run_option(required=True)
    @_data_option
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File (.csv, .parquet, .json, .jsonl).")
    @_ledger_option
    @_key_option
    @_settings_option
    def export_alerts(role, run_dir, data_dir, out, ledger_path, key_file, settings_path):
        """The review queue as ROLE may see it (education officers, leadership, model reviewers: de-identified)."""
        v = _view(role, data_dir, run_dir, settings_path, key_file)
        _emit(v.alerts(run_dir), out, v, "alerts", ledger_path, run_dir)

    @export.command("digests")
    @_role_option
    @_data_option
    @_run_option()
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
    @_ledger_option
    @_key_option
    @_settings_option
    def export_digests(role, data_dir, run_dir, out, ledger_path, key_file, settings_path):
        """Warning-case digests (警示案例) from closed cases (and, with --run, confirmed alerts), de-identified."""
        v = _view(role, data_dir, run_dir, settings_path, key_file)
        _emit(v.digests(run_dir), out, v, "digests", ledger_path, run_dir)

    # -- education ---------------------------------------------------------------------------------------
    @education.command("plan")
    @_role_option
    @_data_option
    @_run_option()
    @click.option("--as-of", default=None, help="Plan date (default: the data's last day).")
    @_out_option
    @_ledger_option
    @_key_option
    @_settings_option
    def education_plan_cmd(role, data_dir, run_dir, as_of, out, ledger_path, key_file, settings_path):
        """Targeted education plans for the posts where confirmed findings or alerts concentrate."""
        v = _view(role, data_dir, run_dir, settings_path, key_file)
        _emit(v.education_plan(run_dir, as_of), out, v, "education_plan", ledger_path, run_dir)

    @education.command("recommend")
    @_role_option
    @_data_option
    @_run_option()
    @click.option("--employee", multiple=True, help="Employee id (identified roles) or pseudonym (others); default everyone.")
    @click.option("-n", "n", type=int, default=5, show_default=True)
    @_out_option
    @_key_option
    @_settings_option
    def education_recommend(role, data_dir, run_dir, employee, n, out, key_file, settings_path):
        """Personal recommendations by post, risk flags and learning history (never a completed material)."""
        v = _view(role, data_dir, run_dir, settings_path, key_file)
        _emit(v.recommendations(run_dir, list(employee) or None, n), out, v, "recommendations")

    @education.command("progress")
    @_role_option
    @_data_option
    @click.option("--year", type=int, default=None, help="Year (default: the data's last year).")
    @click.option("-n", "n", type=int, default=10, show_default=True, help="Leaderboard length.")
    @_out_option
    @_key_option
    @_settings_option
    def education_progress(role, data_dir, year, n, out, key_file, settings_path):
        """Learning progress vs required credits, active and lagging learners by department and post, leaderboards."""
        v = _view(role, data_dir, None, settings_path, key_file)
        _emit(v.learning(year, n=n), out, v, "learning")

    @education.command("effect")
    @_role_option
    @_data_option
    @_run_option(required=True)
    @click.option("--plans", "plans_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
                  help="CSV with department_id, position_id, plan_date (e.g. the plans table of an identified 'education plan').")
    @click.option("--window", type=int, default=4, show_default=True, help="Quarters before and after.")
    @_settings_option
    def education_effect_cmd(role, data_dir, run_dir, plans_file, window, settings_path):
        """Did flags fall in educated posts more than in the same posts elsewhere? (difference-in-differences)"""
        import pandas as pd

        from riskmodel.linkage.education import education_effect, flag_panel
        from riskmodel.linkage.roles import require

        v = _view(role, data_dir, run_dir, settings_path, None)
        require(v.role, "education_plan")
        flags = pd.read_parquet(Path(run_dir) / "flags.parquet")
        plans = pd.read_csv(plans_file, dtype=str)
        r = education_effect(flag_panel(v.data, flags), plans, window)
        click.echo(r.summary())
        if v.identified:
            click.echo(r.per_unit.to_string(index=False))

    # -- profiles ----------------------------------------------------------------------------------------
    @profile.command("list")
    @_role_option
    @_data_option
    @_run_option()
    @click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="The ledger holding tier changes.")
    @click.option("--pending", is_flag=True, help="Only people whose suggested tier differs from their recorded one.")
    @_out_option
    @_key_option
    @_settings_option
    def profile_list(role, data_dir, run_dir, ledger_path, pending, out, key_file, settings_path):
        """Everyone's integrity profile and tier."""
        v = _view(role, data_dir, run_dir, settings_path, key_file)
        p = v.profiles(run_dir, ledger_path)
        if pending:
            p = p[p.suggested_tier != p.tier].reset_index(drop=True)
        _emit(p, out, v, "profiles")

    @profile.command("show")
    @click.argument("employee")
    @_role_option
    @_data_option
    @_run_option()
    @click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
    @_key_option
    @_settings_option
    def profile_show(employee, role, data_dir, run_dir, ledger_path, key_file, settings_path):
        """One person's integrity profile (an employee id; de-identified roles give a pseudonym)."""
        v = _view(role, data_dir, run_dir, settings_path, key_file)
        p = v.profiles(run_dir, ledger_path, employee=employee)
        row = _flat(p).iloc[0]
        for k, val in row.items():
            click.echo(f"{k:20s} {val}")

    @profile.command("set-tier")
    @click.argument("employee")
    @click.argument("tier", type=click.Choice(["green", "yellow", "red"]))
    @click.option("--reason", required=True, help="Why (recorded in the ledger).")
    @click.option("--actor", required=True, help="Who decides (your name or id).")
    @_role_option
    @_data_option
    @_run_option()
    @click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
    @_settings_option
    def profile_set_tier(employee, tier, reason, actor, role, data_dir, run_dir, ledger_path, settings_path):
        """Record a tier change (supervisors only): reason, who and when go into the ledger."""
        v = _view(role, data_dir, run_dir, settings_path, None)
        e = v.set_tier(ledger_path, employee, tier, reason, actor, run_dir)
        click.echo(f"recorded tier change #{e['seq']}: {employee} {e['payload']['from_tier']} -> {tier}")

    # -- de-identification -------------------------------------------------------------------------------
    @deid.command("keygen")
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
                  help="Where to keep the key: outside the repository, e.g. ~/.config/riskmodel/pseudonym.key")
    @click.option("--force", is_flag=True, help="Replace an existing key (every pseudonym changes).")
    def deid_keygen(out, force):
        """Create a pseudonym key (32 random bytes, hex, readable by you only)."""
        from riskmodel.linkage.deid import KEY_FILE_ENV, create_key

        p = create_key(out, force)
        click.echo(f"wrote a new pseudonym key to {p}; use it with: export {KEY_FILE_ENV}={p}")

    @deid.command("scan")
    @click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
    @_role_option
    @_data_option
    def deid_scan(paths, role, data_dir):
        """Scan files or folders for identifiers of the dataset; exit 1 when any is found."""
        from riskmodel.linkage.deid import find_leaks
        from riskmodel.linkage.roles import require, resolve_role

        role = resolve_role(role)
        require(role, "leak_scan")  # the scan says where identifiers are: a supervision-office task
        leaks = find_leaks({str(p): p for p in paths}, data_dir or config.DEMO_DATA_DIR)
        if leaks.empty:
            click.echo(f"no identifiers found in {len(paths)} path(s)")
            return
        click.echo(leaks.to_string(index=False, max_rows=40))
        click.secho(f"{len(leaks)} identifier(s) found", fg="red", err=True)
        sys.exit(1)

    @deid.command("resolve")
    @click.argument("refs", nargs=-1, required=True)
    @_role_option
    @_data_option
    @_out_option
    @_key_option
    @_settings_option
    def deid_resolve(refs, role, data_dir, out, key_file, settings_path):
        """What pseudonyms (EMP-…, PO-…, CLM-…, FP-… as de-identified outputs name people and documents) stand for,
        under the same key (identified roles only); exit 1 when one is not found."""
        v = _view(role, data_dir, None, settings_path, key_file)
        r = v.resolve(list(refs))
        _emit(r, out, v, "resolved_pseudonyms")
        missing = r.ref[r.value.isna()].tolist()
        if missing:
            click.secho(f"{len(missing)} pseudonym(s) not found in {v.data.source or 'the dataset'} "
                        f"under this key: {', '.join(missing[:5])}; check the key and the dataset (--data), and that "
                        f"they are person or document pseudonyms", fg="red", err=True)
            sys.exit(1)

    # -- the ledger --------------------------------------------------------------------------------------
    @ledger.command("verify")
    @click.argument("path", type=click.Path(path_type=Path))
    @click.option("--key-env", default="RISKMODEL_LEDGER_KEY", show_default=True,
                  help="Environment variable holding the signing key (checked when set).")
    @click.option("--anchor", default=None, help="SEQ:HASH recorded earlier with 'riskmodel ledger head' (detects removed tails).")
    def ledger_verify(path, key_env, anchor):
        """Check the hash chain; exit 1 and name the first bad entry when anything was edited, deleted, inserted or moved."""
        import os

        from riskmodel.ledger import verify

        anc = None
        if anchor:
            seq, _, h = anchor.partition(":")
            anc = (int(seq), h)
        r = verify(path, key=os.environ.get(key_env) or None, anchor=anc)
        if r.ok:
            click.echo(r.message())
        else:
            click.secho(r.message(), fg="red")
            sys.exit(1)

    @ledger.command("head")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def ledger_head(path):
        """Print SEQ:HASH of the last entry (keep it elsewhere; 'verify --anchor' checks against it)."""
        from riskmodel.ledger import head

        seq, h = head(path)
        click.echo(f"{seq}:{h}")

    @ledger.command("show")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @_role_option
    @click.option("--kind", default=None, help="Only entries of this kind (alert, decision, model, report, tier_change).")
    @click.option("--last", type=int, default=20, show_default=True)
    def ledger_show(path, role, kind, last):
        """The last entries (identified roles only)."""
        from riskmodel.linkage.roles import require, resolve_role
        from riskmodel.ledger import read_entries

        role = resolve_role(role)
        require(role, "ledger")
        for e in read_entries(path, kind)[-last:]:
            click.echo(f"#{e['seq']} {e['ts']} {e['kind']} {e['actor_role']} {e.get('actor') or ''} "
                       f"{json.dumps(e['payload'], ensure_ascii=False)[:160]}")

    @ledger.command("log-alerts")
    @_role_option
    @_run_option(required=True)
    def ledger_log_alerts(role, run_dir):
        """Record a run's model, threshold and alerts in RUN/ledger.jsonl (each once)."""
        from riskmodel.ledger import LEDGER_FILE, log_alerts
        from riskmodel.linkage.roles import require, resolve_role

        role = resolve_role(role)
        require(role, "ledger")
        n = log_alerts(run_dir, actor_role=role)
        click.echo(f"appended {n} entr{'y' if n == 1 else 'ies'} to {Path(run_dir) / LEDGER_FILE}")
