"""On the generated small company, planted relationships are recovered and benign shared attributes stay quiet.

This test reads the ground truth on purpose (it evaluates the detectors, it is not one).
"""

from __future__ import annotations

import pandas as pd
import pytest

from riskmodel.data.dataset import Dataset
from riskmodel.graph import build_graph, conflict_links, graph_features

LINK_SCHEMES = ("kickback_related_supplier", "approver_self_dealing", "leaf_upgrading")


@pytest.fixture(scope="module")
def small(small_company):
    return Dataset.from_dir(small_company)


def test_planted_links_recovered_and_ranked_above_benign(small, small_truth):
    links = conflict_links(small)
    se = small_truth["scheme_entities"].merge(small_truth["schemes"], on="scheme_id")
    se = se[se.scheme_type.isin(LINK_SCHEMES)]
    emp = se[se.entity_type == "employee"][["scheme_id", "entity_id"]].rename(columns={"entity_id": "employee_id"})
    cp = se[se.entity_type.isin(["supplier", "grower"])][["scheme_id", "entity_id"]].rename(columns={"entity_id": "counterparty_id"})
    found = emp.merge(cp, on="scheme_id").merge(links, on=["employee_id", "counterparty_id"])
    assert found.scheme_id.nunique() == emp.scheme_id.nunique(), "every planted scheme's employee is linked to its counterparty"
    assert found.deals.all()
    la = small_truth["lookalike_entities"].merge(small_truth["lookalikes"], on="lookalike_id")
    benign = la[la.lookalike_type.isin(["shared_switchboard", "family_employees"])].entity_id
    benign_links = links[links.employee_id.isin(benign) | links.counterparty_id.isin(benign)]
    benign_links = benign_links[~benign_links.employee_id.isin(emp.employee_id)]
    assert benign_links.empty or benign_links.score.max() < found.score.min()


def test_graph_and_features_on_small(small):
    G = build_graph(small)
    assert G.number_of_nodes() > 1_000 and all("kind" in d and "label" in d for _, d in G.nodes(data=True))
    f = graph_features(small)
    assert not f.duplicated(["entity_type", "entity_id", "period"]).any()
    assert set(f.entity_type) == {"employee", "supplier", "grower"}
    assert pd.api.types.is_datetime64_any_dtype(f.period)


def test_graph_features_for_some_entity_types_equal_those_rows_of_all(small):
    full = graph_features(small, freq="quarter")
    emp = graph_features(small, freq="quarter", entity_types=("employee",))
    assert len(emp) and (emp.n_growers_graded > 0).any()
    pd.testing.assert_frame_equal(emp, full[full.entity_type == "employee"].reset_index(drop=True))
    with pytest.raises(ValueError, match="entity_types"):
        graph_features(small, entity_types=("tender",))
