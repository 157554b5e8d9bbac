"""Reading bid files, the errors a bad file gets, and the mapping from riskmodel's own tables."""

from __future__ import annotations

import pandas as pd
import pytest

from riskmodel.collusion.bids import (BID_COLUMNS, BidsFileError, from_ohio_milk_bidders, from_tables, load_bids,
                                     read_bids)
from riskmodel.errors import RiskModelError
from riskmodel.indicators.screens import compute_screens

GOOD = """dataset,tender_id,bid_idx,bid,collusive_tender
demo,7,0,100.0,1
demo,7,1,110.0,1
demo,7,2,111,1
demo,8,0,50,0
"""


def test_reads_a_good_file(write_csv):
    df = read_bids(write_csv(GOOD))
    assert list(df.columns) == list(BID_COLUMNS)
    assert df.tender_id.tolist() == ["7", "7", "7", "8"]          # ids kept as text
    assert df.bid.dtype == float and df.bid_idx.dtype == "int64"
    assert df.collusive_tender.tolist() == [1, 1, 1, 0]


def test_optional_columns_default(write_csv):
    df = read_bids(write_csv("tender_id,bid\nA,3\nA,4\nB,5\n", name="company_x.csv"))
    assert set(df.dataset) == {"company_x"}                      # dataset from the file name
    assert df.bid_idx.tolist() == [0, 1, 0]                      # order within the tender
    assert df.collusive_tender.isna().all()                      # unlabelled


def test_bad_bid_names_file_column_and_lines(write_csv):
    path = write_csv(GOOD.replace("demo,7,1,110.0,1", "demo,7,1,abc,1").replace("demo,8,0,50,0", "demo,8,0,-5,0"))
    with pytest.raises(BidsFileError) as exc:
        read_bids(path)
    msg = str(exc.value)
    assert str(path) in msg and "'bid'" in msg and "lines 3, 5" in msg and "'abc'" in msg
    assert isinstance(exc.value, RiskModelError)


@pytest.mark.parametrize("text, fragment", [
    ("tender,price\n1,2\n", "missing column(s) ['tender_id', 'bid']"),
    ("tender_id,bid\n", "no bids"),
    ("tender_id,bid,collusive_tender\n1,10,1\n1,11,0\n", "differs between bids of tender(s) 1 (lines 2, 3)"),
    ("tender_id,bid,collusive_tender\n1,10,2\n", "must be 0 (competitive), 1 (collusive)"),
    ("tender_id,bid_idx,bid\n1,0,10\n1,0,11\n", "must be unique; lines 2, 3"),
    ("tender_id,bid\n,10\n", "'tender_id' is empty on lines 2"),
])
def test_rules_broken(write_csv, text, fragment):
    with pytest.raises(BidsFileError) as exc:
        read_bids(write_csv(text))
    assert fragment in str(exc.value)


def test_missing_file_and_clashing_datasets(write_csv, tmp_path):
    with pytest.raises(BidsFileError, match="no such file"):
        read_bids(tmp_path / "nope.csv")
    a, b = write_csv(GOOD, "a.csv"), write_csv(GOOD, "b.csv")
    with pytest.raises(BidsFileError, match="dataset 'demo' also comes from"):
        load_bids([a, b])
    both = load_bids([a, write_csv(GOOD.replace("demo", "other"), "c.csv")])
    assert both.groupby("dataset").size().to_dict() == {"demo": 4, "other": 4}


TENDERS = pd.DataFrame({"tender_id": ["T1", "T2", "T3"], "estimated_amount": [1e6, 5e5, 2e5],
                        "category_id": ["C1", "C2", "C1"], "method": ["open", "open", "single_source"]})
BIDS = pd.DataFrame({"bid_id": ["B3", "B1", "B2", "B4", "B5"], "tender_id": ["T1", "T1", "T1", "T2", "T2"],
                     "supplier_id": ["S3", "S1", "S2", "S1", "S4"],
                     "bid_amount": [1.12e6, 1.0e6, 1.10e6, 4.8e5, 5.1e5], "is_winner": [False, True, False, True, False]})


def test_from_tables_maps_our_tables():
    df = from_tables(TENDERS, BIDS, collusive=["T1"])
    t1 = df[df.tender_id == "T1"]
    assert t1.bid_id.tolist() == ["B1", "B2", "B3"] and t1.bid_idx.tolist() == [0, 1, 2]
    assert set(df.dataset) == {"riskmodel"}
    assert df.groupby("tender_id").collusive_tender.first().to_dict() == {"T1": 1, "T2": 0}
    assert {"supplier_id", "is_winner", "estimated_amount", "category_id"} <= set(df.columns)
    assert "T3" not in set(df.tender_id)  # no bids: nothing to screen
    # the same screens as on an external file with the same bids
    s = compute_screens(df).loc["T1"]
    assert s.diffp == pytest.approx(0.10) and s.n_bids == 3
    assert from_tables(TENDERS, BIDS).collusive_tender.isna().all()  # no labels given: unknown


def test_from_tables_rejects_orphans_and_zero_bids():
    with pytest.raises(BidsFileError, match="missing from 'tenders' \\(T9\\)"):
        from_tables(TENDERS, pd.concat([BIDS, BIDS.head(1).assign(bid_id="B9", tender_id="T9")]))
    with pytest.raises(BidsFileError, match="bid\\(s\\) 'B5' hold 0.0"):
        from_tables(TENDERS, BIDS.assign(bid_amount=BIDS.bid_amount.where(BIDS.bid_id != "B5", 0.0)))


def test_from_tables_on_the_synthetic_company(small_tables):
    df = from_tables(small_tables["tenders"], small_tables["bids"][small_tables["bids"].bid_amount > 0])
    assert df.tender_id.nunique() == small_tables["bids"].query("bid_amount > 0").tender_id.nunique()
    screens = compute_screens(df)
    multi = screens[screens.n_bids >= 3]
    assert len(multi) > 0 and multi.cv.notna().all() and (multi.cv > 0).all()


IDENT = """tender_id,bid,bidder,period,market,is_winner
1,10,X,2020,m,0
1,9,Y,2020,m,1
2,12,X,2021-03-01,m,true
"""


def test_identity_columns_read_and_checked(write_csv):
    df = read_bids(write_csv(IDENT.replace("2021-03-01", "2021")))
    assert df.bidder.tolist() == ["X", "Y", "X"] and df.period.tolist() == [2020, 2020, 2021]
    assert df.is_winner.tolist() == [False, True, True] and df.market.tolist() == ["m"] * 3
    dated = read_bids(write_csv(IDENT.replace("2020", "2020-06-30")))
    assert str(dated.period.dtype).startswith("datetime64")


@pytest.mark.parametrize("old, new, fragment", [
    ("1,9,Y,", "1,9,X,", "a bidder bids twice in one tender on lines 2, 3"),
    ("1,9,Y,", "1,9,,", "column 'bidder' is empty on lines 3"),
    ("1,9,Y,2020", "1,9,Y,2019", "column 'period' describes the tender but differs between bids of tender(s) 1"),
    ("1,9,Y,2020,m", "1,9,Y,2020,n", "column 'market' describes the tender"),
    ("1,10,X,2020,m,0", "1,10,X,2020,m,1", "more than one winning bid in a tender on lines 2, 3"),
    ("1,10,X,2020,m,0", "1,10,X,2020,m,yes", "'is_winner' must be 0/1 or true/false; lines 2 hold 'yes'"),
    ("2021-03-01", "soon", "'period' must be a year, a number or a date; lines 4 hold 'soon'"),
])
def test_identity_rules_broken(write_csv, old, new, fragment):
    with pytest.raises(BidsFileError) as exc:
        read_bids(write_csv(IDENT.replace(old, new)))
    assert fragment in str(exc.value)


OHIO = """,contract_id,year,firm,bid,winning_bid,inflation_adjusted_bid,inflation_raw_milk_price_adjusted_bid,is_cartel_firm,only_cartels_bidding_on_contract,number_of_bidders_on_contract
0,80_0461,1980,A,0.14,1,0.14,0.07,0,0,2
1,80_0461,1980,B,0.15,0,0.15,0.08,1,0,2
2,81_0461,1981,A,0.123,1,0.1117,0.035,0,0,1
3,81_0777,1981,B,0.130,1,0.1181,0.040,1,1,3
"""


def test_ohio_bidders_layout_is_recognised_and_its_labels_kept_out(write_csv):
    df = read_bids(write_csv(OHIO, name="ohio_school_milk_bidders.csv"))
    assert set(df.dataset) == {"usa_ohio_milk"}
    per = df.groupby("tender_id").agg(y=("collusive_tender", "first"), m=("market", "first"), p=("period", "first"))
    assert per.y.to_dict() == {"80_0461": 1, "81_0461": 0, "81_0777": 1}  # 1 where a cartel firm bid
    assert per.m.to_dict() == {"80_0461": "0461", "81_0461": "0461", "81_0777": "0777"}
    assert df.bid.tolist() == [0.14, 0.15, 0.1117, 0.1181]             # the inflation-adjusted bids
    assert not {"is_cartel_firm", "only_cartels_bidding_on_contract", "number_of_bidders_on_contract",
                "winning_bid", "firm"} & set(df.columns)
    bad = pd.read_csv(write_csv(OHIO.replace("81_0777", "79_0777")), index_col=0)
    with pytest.raises(BidsFileError, match="YY_DISTRICT"):
        from_ohio_milk_bidders(bad, "ohio.csv")
    with pytest.raises(BidsFileError, match="missing column"):
        from_ohio_milk_bidders(bad.drop(columns="firm"), "ohio.csv")


def test_from_tables_carries_the_identities(small_tables):
    df = from_tables(small_tables["tenders"], small_tables["bids"])
    bids = small_tables["bids"].set_index("bid_id")
    assert (df.bidder == df.bid_id.map(bids.supplier_id)).all()
    tenders = small_tables["tenders"].set_index("tender_id")
    assert (df.market == df.tender_id.map(tenders.category_id)).all()
    assert (pd.to_datetime(df.period) == pd.to_datetime(df.tender_id.map(tenders.close_date))).all()
