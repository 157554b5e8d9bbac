"""The review history: alerts the company's existing platform (and the public) raised, and what reviewers decided.

The paper's platform already warns and a person checks every warning; their decisions are labels
(confirmed / dismissed / needs information).  The old platform is cruder than riskmodel: it alerts on
people involved in real schemes only sometimes, on benign look-alikes about as often (they look odd), and on
a few people at random; reviewers mostly get it right, after a delay.
"""

from __future__ import annotations

import pandas as pd

from riskmodel.data.synthetic.base import Context

P_SCHEME, P_LOOKALIKE, P_RANDOM = 0.35, 0.30, 0.004
P_CONFIRM_TRUE, P_DISMISS_FALSE = 0.85, 0.92


def build(ctx: Context, employees: pd.DataFrame, truth: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rng = ctx.rng("reviews")
    quarters = pd.period_range(ctx.start, ctx.end, freq="Q")
    se = truth["scheme_entities"].query("entity_type == 'employee'").merge(truth["schemes"], on="scheme_id")
    la = truth["lookalike_entities"].query("entity_type == 'employee'").entity_id.unique()
    rows = []
    for q in quarters:
        lo, hi = q.start_time, q.end_time.normalize()
        active = se[(se.start_date <= hi) & (se.end_date >= lo)].entity_id.unique()
        picks = [(e, True) for e in active if rng.random() < P_SCHEME]
        picks += [(e, False) for e in la if e not in set(active) and rng.random() < P_LOOKALIKE]
        rand = employees.employee_id.to_numpy()[rng.random(len(employees)) < P_RANDOM]
        picks += [(e, e in set(active)) for e in rand if e not in {p for p, _ in picks}]
        for e, real in picks:
            u = rng.random()
            if real:
                decision = "confirmed" if u < P_CONFIRM_TRUE else "needs_information"
            else:
                decision = "dismissed" if u < P_DISMISS_FALSE else ("needs_information" if u < 0.98 else "confirmed")
            decided = hi + pd.Timedelta(days=int(rng.integers(20, 150)))
            rows.append((e, lo, "public_report" if rng.random() < 0.1 else "legacy_platform", decision, decided))
    df = pd.DataFrame(rows, columns=["entity_id", "period", "source", "decision", "decided_at"])
    df = df[df.decided_at <= ctx.end].sort_values(["decided_at", "entity_id"], ignore_index=True)
    df.insert(0, "review_id", ctx.ids("RV", len(df), 6))
    df.insert(1, "entity_type", "employee")
    df["reviewer_role"] = "supervisor"
    return df
