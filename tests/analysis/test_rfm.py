"""RFM scores, segments, clusters, migration and CRM export (shopbook.analysis.rfm).

The per-customer aggregate comes from the engine (shopbook.features.rfm), as in notebook 04.
"""

from __future__ import annotations

import warnings

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopbook.analysis import rfm as R
from shopbook.data.samples import CDNOW_CUSTOMERS, cdnow
from shopbook.errors import ContractError
from shopbook.features import rfm as F
from shopbook.viz.theme import title_of
from tests.builders import orders_frame

# --------------------------------------------------------------------------------------
# A hand-computed example with ties. asof = 2024-01-11 (orders before midnight count).
#
#   customer  paid orders (day: amount)           R   F   M    | r f m  fm | segment
#   A         10: 50, 08: 30, 01: 20               1   3   100  | 5 5 4  5  | Champions
#   B         10: 10  (+ a cancelled 999 on 10)    1   1   10   | 5 1 1  1  | New
#   C         05: 100, 06: 100                     5   2   200  | 2 4 5  5  | Can't Lose Them
#   D         02: 10  (+ a refunded 70 on 04)      9   1   10   | 1 1 1  1  | Lost
#   E         02: 5   (+ 11: 40, on asof: not counted) 9 1  5    | 1 1 1  1  | Lost
#   F         09: 40, 03: 40                       2   2   80   | 4 4 3  4  | Champions
#   G         01: 500                              10  1   500  | 1 1 5  3  | At Risk
#   H         07: 10                               4   1   10   | 3 1 1  1  | About to Sleep
#   I         08: 60, 08: 10, 04: 30, 03: 20       3   4   120  | 4 5 4  5  | Champions
#   J         06: 15                               5   1   15   | 2 1 3  2  | Hibernating
#
# Scores by hand with score = 1 + floor(5 * (#customers strictly worse) / 10):
#   R: recency 1 (A, B) beats 8 → 5; 2 (F) beats 7 → 4; 3 (I) beats 6 → 4; 4 (H) beats 5 → 3;
#      5 (C, J) beat 3 → 2; 9 (D, E) beat 1 → 1; 10 (G) beats 0 → 1.
#   F: six one-time buyers beat nobody → 1; 2 (C, F) beats 6 → 4; 3 (A) beats 8 → 5; 4 (I) → 5.
#      (Scores 2 and 3 are empty: the tie rule never splits the six identical customers.)
#   M: 5 (E) → 1; 10 (B, D, H) beat 1 → 1; 15 (J) beats 4 → 3; 80 (F) beats 5 → 3;
#      100 (A) beats 6 → 4; 120 (I) beats 7 → 4; 200 (C) beats 8 → 5; 500 (G) beats 9 → 5.
#   fm = ceil((f + m) / 2).
# --------------------------------------------------------------------------------------

ASOF = "2024-01-11"
HAND_ORDERS = [
    # customer, day, amount, status
    ("A", 10, 50.0, "paid"),
    ("A", 8, 30.0, "paid"),
    ("A", 1, 20.0, "paid"),
    ("B", 10, 10.0, "paid"),
    ("B", 10, 999.0, "cancelled"),
    ("C", 5, 100.0, "paid"),
    ("C", 6, 100.0, "paid"),
    ("D", 2, 10.0, "paid"),
    ("D", 4, 70.0, "refunded"),
    ("E", 2, 5.0, "paid"),
    ("E", 11, 40.0, "paid"),
    ("F", 9, 40.0, "paid"),
    ("F", 3, 40.0, "paid"),
    ("G", 1, 500.0, "paid"),
    ("H", 7, 10.0, "paid"),
    ("I", 8, 60.0, "paid"),
    ("I", 8, 10.0, "paid"),
    ("I", 4, 30.0, "paid"),
    ("I", 3, 20.0, "paid"),
    ("J", 6, 15.0, "paid"),
]
EXPECTED = pd.DataFrame(
    [
        ("A", 1, 3, 100.0, 5, 5, 4, 5, "Champions", "High value · active"),
        ("B", 1, 1, 10.0, 5, 1, 1, 1, "New", "Low value · active"),
        ("C", 5, 2, 200.0, 2, 4, 5, 5, "Can't Lose Them", "High value · lapsing"),
        ("D", 9, 1, 10.0, 1, 1, 1, 1, "Lost", "Low value · lapsing"),
        ("E", 9, 1, 5.0, 1, 1, 1, 1, "Lost", "Low value · lapsing"),
        ("F", 2, 2, 80.0, 4, 4, 3, 4, "Champions", "High value · active"),
        ("G", 10, 1, 500.0, 1, 1, 5, 3, "At Risk", "High value · lapsing"),
        ("H", 4, 1, 10.0, 3, 1, 1, 1, "About to Sleep", "Low value · active"),
        ("I", 3, 4, 120.0, 4, 5, 4, 5, "Champions", "High value · active"),
        ("J", 5, 1, 15.0, 2, 1, 3, 2, "Hibernating", "Low value · lapsing"),
    ],
    columns=[
        "customer_id",
        "recency",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "fm_score",
        "segment",
        "layer",
    ],
)


def make_orders(rows, year=2024, month=1) -> pd.DataFrame:
    """Contract orders from (customer, day, amount, status) tuples; order times at 15:00."""
    return orders_frame(
        [
            (str(c), pd.Timestamp(year, month, day, 15), float(amount), status)
            for c, day, amount, status in rows
        ],
        ts_unit="us",
    )


def rfm_of(orders, asof=None, *, rules=None, **window) -> pd.DataFrame:
    """Score ``orders`` as notebook 04 does: the engine aggregate, then the analysis."""
    return R.rfm_table(F.customer_rfm(orders, asof, **window), rules=rules)


def migrate(orders, asof_from, asof_to, *, lookback_days=None, **kwargs) -> R.Migration:
    """Migration between two dates from the two engine aggregates."""
    return R.migration(
        F.customer_rfm(orders, asof_from, lookback_days=lookback_days),
        F.customer_rfm(orders, asof_to, lookback_days=lookback_days),
        **kwargs,
    )


@pytest.fixture(scope="module")
def hand_orders() -> pd.DataFrame:
    return make_orders(HAND_ORDERS)


@pytest.fixture(scope="module")
def cdnow_orders() -> pd.DataFrame:
    return cdnow()


@pytest.fixture(scope="module")
def cdnow_rfm(cdnow_orders) -> pd.DataFrame:
    return rfm_of(cdnow_orders)


# ------------------------------------------------------------------ hand example


def test_scores_and_segments_match_the_hand_computed_example(hand_orders):
    got = rfm_of(hand_orders, asof=ASOF)
    cols = list(EXPECTED.columns)
    got_cmp = got[cols].assign(segment=got["segment"].astype(str), layer=got["layer"].astype(str))
    pd.testing.assert_frame_equal(got_cmp.reset_index(drop=True), EXPECTED, check_dtype=False)
    assert got.attrs["asof"] == pd.Timestamp(ASOF)
    assert list(got.columns[: len(R.RFM_COLUMNS)]) == list(R.RFM_COLUMNS)


def test_default_asof_is_the_day_after_the_last_order(hand_orders):
    got = rfm_of(hand_orders)
    assert got.attrs["asof"] == pd.Timestamp("2024-01-12")  # last order: E on the 11th
    e = got.set_index("customer_id").loc["E"]
    assert (e["recency"], e["frequency"], e["monetary"]) == (1, 2, 45.0)


def test_same_result_from_an_ibis_table_in_duckdb(hand_orders, tmp_path):
    from shopbook.data.samples import write_tables
    from shopbook.data.sources import open_source

    src = open_source(write_tables({"orders": hand_orders}, tmp_path / "hand.duckdb"))
    try:
        t = src.table("orders")
        assert isinstance(t, ibis.Table)
        a = rfm_of(t, asof=ASOF)
    finally:
        src.close()
    b = rfm_of(hand_orders, asof=ASOF)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_lookback_window_counts_only_recent_orders(hand_orders):
    got = rfm_of(hand_orders, asof=ASOF, lookback_days=5).set_index("customer_id")
    # window [2024-01-06, 2024-01-11): A has 2 orders (10th, 8th); C only the 6th; D, E, G out
    assert set(got.index) == {"A", "B", "C", "F", "H", "I", "J"}
    assert got.loc["A", ["frequency", "monetary"]].tolist() == [2, 80.0]
    assert got.loc["C", ["frequency", "monetary", "recency"]].tolist() == [1, 100.0, 5]
    assert got.attrs["window_start"] == pd.Timestamp("2024-01-06")


def test_statuses_parameter(hand_orders):
    got = rfm_of(hand_orders, asof=ASOF, statuses=("paid", "refunded")).set_index("customer_id")
    assert got.loc["D", ["frequency", "monetary", "recency"]].tolist() == [2, 80.0, 7]


# ------------------------------------------------------------------------ tie rule


def test_tie_rule_is_documented_rank_min_formula():
    rng = np.random.default_rng(1)
    for n in (2, 3, 7, 10, 101):
        x = rng.integers(0, 6, size=n).astype(float)
        rank_min = pd.Series(x).rank(method="min").to_numpy()
        expected = 1 + (5 * (rank_min - 1).astype(int)) // n
        np.testing.assert_array_equal(R.quintile_scores(x), expected)
        # recency: lower is better
        rank_min_r = pd.Series(x).rank(method="min", ascending=False).to_numpy()
        expected_r = 1 + (5 * (rank_min_r - 1).astype(int)) // n
        np.testing.assert_array_equal(R.quintile_scores(x, higher_is_better=False), expected_r)


def test_without_ties_scores_are_exact_quintiles():
    x = np.random.default_rng(2).permutation(100).astype(float)
    s = R.quintile_scores(x)
    assert np.bincount(s)[1:].tolist() == [20] * 5
    assert (s[np.argsort(x)] == np.repeat([1, 2, 3, 4, 5], 20)).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 8), min_size=1, max_size=60))
def test_tie_rule_properties(values):
    x = np.array(values, dtype=float)
    s = R.quintile_scores(x)
    assert s.min() >= 1 and s.max() <= 5
    assert s.min() == 1  # the worst customer beats nobody
    for v in np.unique(x):  # equal values, equal scores
        assert len(set(s[x == v])) == 1
    order = np.argsort(x, kind="stable")  # monotone in the value
    assert (np.diff(s[order]) >= 0).all()
    # a score means "beats at least (score-1)/5 of customers"
    beats = np.array([(x < v).mean() for v in x])
    assert (beats >= (s - 1) / 5 - 1e-12).all() and (beats < s / 5 + 1e-12).all()


def test_scoring_against_a_reference_is_capped():
    ref = np.array([1.0, 2, 3, 4, 5])
    np.testing.assert_array_equal(R.quintile_scores([0, 3, 9], ref), [1, 3, 5])
    np.testing.assert_array_equal(
        R.quintile_scores([0, 3, 9], ref, higher_is_better=False), [5, 3, 1]
    )


def test_fm_score_rounds_half_up():
    assert R.fm_scores([1, 1, 2, 5, 4], [1, 2, 2, 4, 5]).tolist() == [1, 2, 2, 5, 5]


# --------------------------------------------------------------------------- rules


def test_shipped_rules_partition_the_grid_into_11_segments_and_4_layers():
    rules = R.load_rules()
    segs = R.rule_table(rules, "segment")
    assert segs["name"].tolist() == [
        "Champions",
        "Loyal",
        "Potential Loyalist",
        "Can't Lose Them",
        "New",
        "Need Attention",
        "Promising",
        "At Risk",
        "About to Sleep",
        "Hibernating",
        "Lost",
    ]
    assert segs["action"].str.len().gt(10).all()
    layers = R.rule_table(rules, "layer")
    assert len(layers) == 4 and set(layers["community"]) == {"loyal", "potential", "dormant"}
    r, fm = np.meshgrid(np.arange(1, 6), np.arange(1, 6))
    names = R.assign(r.ravel(), fm.ravel(), rules)
    assert pd.Series(names).notna().all() and set(names) == set(segs["name"])


def test_rules_with_a_gap_or_an_overlap_are_refused(tmp_path):
    rules = pd.read_csv(R.default_rules_path(), dtype=str, keep_default_na=False)
    gap = rules[rules["name"] != "New"]
    with pytest.raises(ValueError, match=r"no rule covers r_score=5, fm_score=1"):
        R.load_rules(gap)
    overlap = rules.copy()
    overlap.loc[overlap["name"] == "Loyal", "r_min"] = "2"
    with pytest.raises(ValueError, match=r"covered by both"):
        R.load_rules(overlap)
    bad = rules.copy()
    bad.loc[0, "r_max"] = "6"
    with pytest.raises(ValueError, match="scores run from 1 to 5"):
        R.load_rules(bad)
    with pytest.raises(ValueError, match="missing column"):
        R.load_rules(rules.drop(columns="action"))


def test_edited_rules_file_changes_segments(hand_orders, tmp_path):
    rules = pd.read_csv(R.default_rules_path(), dtype=str, keep_default_na=False)
    rules.loc[rules["name"] == "New", "name"] = "Newcomers"
    path = tmp_path / "my_rules.csv"
    rules.to_csv(path, index=False)
    got = rfm_of(hand_orders, asof=ASOF, rules=path).set_index("customer_id")
    assert got.loc["B", "segment"] == "Newcomers"
    assert "Newcomers" in got["segment"].cat.categories


# ----------------------------------------------------------------- bad input


def test_empty_window_has_a_clear_message(hand_orders):
    with pytest.raises(ContractError, match=r"orders run from 2024-01-01 to 2024-01-11") as e:
        rfm_of(hand_orders, asof="2023-06-01")
    assert e.value.table == "orders" and "Fix:" in str(e.value)


def test_one_customer_has_a_clear_message(hand_orders):
    with pytest.raises(ContractError, match=r"at least 2 customers.*found 1 customer"):
        rfm_of(hand_orders[hand_orders["customer_id"] == "A"], asof=ASOF)


def test_all_identical_customers_have_a_clear_message():
    rows = [(c, 3, 20.0, "paid") for c in "PQRST"]
    with pytest.raises(ContractError, match=r"all 5 customers identical"):
        rfm_of(make_orders(rows), asof=ASOF)


def test_one_constant_dimension_warns_but_scores():
    rows = [(c, d, a, "paid") for c, d, a in [("P", 1, 5.0), ("Q", 2, 9.0), ("R", 3, 1.0)]]
    with pytest.warns(UserWarning, match="same frequency"):
        got = rfm_of(make_orders(rows), asof=ASOF)
    assert (got["f_score"] == 1).all() and got["m_score"].nunique() == 3


def test_missing_or_untyped_columns(hand_orders):
    with pytest.raises(ContractError, match="net_amount") as e:
        rfm_of(hand_orders.drop(columns="net_amount"), asof=ASOF)
    assert e.value.column == "net_amount"
    with pytest.raises(ContractError, match="expected a timestamp"):
        rfm_of(hand_orders.assign(order_ts=hand_orders["order_ts"].astype(str)), asof=ASOF)
    with pytest.raises(TypeError, match="ibis table or a pandas DataFrame"):
        rfm_of([1, 2, 3])


# ------------------------------------------------------------------------ CDNOW


def test_cdnow_invariants(cdnow_orders, cdnow_rfm):
    t = cdnow_rfm
    assert len(t) == CDNOW_CUSTOMERS and t["customer_id"].is_unique
    assert t.attrs["asof"] == pd.Timestamp("1998-07-01")
    assert t["frequency"].sum() == len(cdnow_orders)
    assert t["monetary"].sum() == pytest.approx(cdnow_orders["net_amount"].sum(), abs=0.5)
    # every customer in exactly one segment and one layer
    assert t["segment"].notna().all() and t["layer"].notna().all()
    segments = R.segment_table(t)
    assert segments["customers"].sum() == CDNOW_CUSTOMERS
    assert segments["customer_share"].sum() == pytest.approx(1.0)
    assert segments["revenue_share"].sum() == pytest.approx(1.0)
    assert R.segment_table(t, by="layer")["customers"].sum() == CDNOW_CUSTOMERS
    assert int(R.score_grid(t).to_numpy().sum()) == CDNOW_CUSTOMERS
    # the tie rule on CDNOW: about half bought once; all of them f_score 1, score 2 unused
    once = t["frequency"] == 1
    assert 0.45 < once.mean() < 0.55
    assert (t.loc[once, "f_score"] == 1).all() and (t.loc[~once, "f_score"] >= 3).all()
    assert (t["f_score"] == 2).sum() == 0
    # a closed Q1-1997 cohort seen in mid-1998 has no New or Promising customers
    assert segments.set_index("segment").loc[["New", "Promising"], "customers"].sum() == 0


def test_score_thresholds_show_what_scores_mean(cdnow_rfm):
    th = R.score_thresholds(cdnow_rfm)
    assert th.loc[1, "F range"] == "1" and th.loc[2, "F customers"] == 0
    assert th[["R customers", "F customers", "M customers"]].sum().tolist() == [CDNOW_CUSTOMERS] * 3


# ------------------------------------------------------------------ clustering


@pytest.fixture(scope="module")
def cdnow_subset(cdnow_rfm) -> pd.DataFrame:
    return cdnow_rfm.sample(3000, random_state=0).sort_values("customer_id").reset_index(drop=True)


def test_cluster_is_deterministic_by_seed_and_numbered_by_value(cdnow_subset):
    a = R.cluster(cdnow_subset, k_range=range(2, 6), seed=0)
    b = R.cluster(cdnow_subset, k_range=range(2, 6), seed=0)
    pd.testing.assert_series_equal(a.labels, b.labels)
    pd.testing.assert_series_equal(a.silhouette, b.silhouette)
    assert list(a.silhouette.index) == [2, 3, 4, 5]
    assert a.k == int(a.silhouette.idxmax())
    assert a.silhouette.between(-1, 1).all()
    assert sorted(a.labels.unique()) == list(range(1, a.k + 1))
    assert list(a.labels.index) == cdnow_subset["customer_id"].tolist()
    prof = R.cluster_profiles(cdnow_subset, a)
    assert prof["customers"].sum() == len(cdnow_subset)
    # cluster 1 is the most valuable: most recent and highest spend medians
    assert prof["median_monetary"].iloc[0] == prof["median_monetary"].max()
    assert prof["median_recency"].iloc[0] == prof["median_recency"].min()
    assert prof["profile"].str.contains(",").all()
    xt = R.cluster_vs_segment(cdnow_subset, a)
    assert xt.to_numpy().sum() == len(cdnow_subset)


def test_cluster_gmm_and_boxcox(cdnow_subset):
    g = R.cluster(cdnow_subset, k_range=[2, 3, 4], seed=3, method="gmm", transform="boxcox")
    g2 = R.cluster(cdnow_subset, k_range=[2, 3, 4], seed=3, method="gmm", transform="boxcox")
    pd.testing.assert_series_equal(g.labels, g2.labels)
    assert g.bic is not None and list(g.bic.index) == [2, 3, 4]
    assert set(g.lambdas) == {"recency", "frequency", "monetary"}


def test_cluster_finds_planted_groups():
    """Three well-separated groups of customers are recovered exactly with k=3."""
    rng = np.random.default_rng(0)
    groups = []
    for i, (rec, freq, mon) in enumerate([(5, 20, 2000), (60, 5, 300), (400, 1, 20)]):
        n = 200
        groups.append(
            pd.DataFrame(
                {
                    "customer_id": [f"g{i}_{j:03d}" for j in range(n)],
                    "recency": np.maximum(1, rng.normal(rec, rec * 0.1, n)).round(),
                    "frequency": np.maximum(1, rng.normal(freq, freq * 0.1, n)).round(),
                    "monetary": np.maximum(1, rng.normal(mon, mon * 0.1, n)).round(2),
                    "truth": i + 1,
                }
            )
        )
    df = pd.concat(groups, ignore_index=True)
    res = R.cluster(df, k_range=range(2, 7), seed=0)
    assert res.k == 3
    assert (res.labels.to_numpy() == df["truth"].to_numpy()).all()  # numbered by value


def test_cluster_bad_input():
    df = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "recency": [1, 1, 1],
            "frequency": [1, 1, 1],
            "monetary": [5.0, 5.0, 5.0],
        }
    )
    # data that cannot be clustered gives a skipped result that says why
    flat = R.cluster(df)
    assert not flat.ok() and "all constant" in flat.why()
    few = R.cluster(df.assign(monetary=[1.0, 2.0, 3.0]), k_range=[5, 6])
    assert not few.ok() and "no usable k" in few.why()
    with pytest.raises(ValueError, match="skipped"):
        R.cluster_profiles(df.assign(segment="Lost"), few)
    with pytest.raises(ValueError, match="method"):
        R.cluster(df.assign(monetary=[1.0, 2.0, 3.0]), method="dbscan")


# --------------------------------------------------------------------- migration


def test_migration_counts_and_directions(hand_orders):
    mig = migrate(hand_orders, "2024-01-06", ASOF)
    before = rfm_of(hand_orders, asof="2024-01-06")
    after_ids = set(rfm_of(hand_orders, asof=ASOF)["customer_id"])
    assert int(mig.counts.to_numpy().sum()) == len(after_ids)
    assert mig.counts.index[-1] == R.NOT_YET
    new = set(mig.customers.loc[mig.customers["direction"] == "new", "customer_id"])
    assert (
        new == after_ids - set(before["customer_id"]) == {"B", "H", "J"}
    )  # first bought on/after the 6th
    assert mig.counts.loc[R.NOT_YET].sum() == 3
    assert R.LEFT_WINDOW not in mig.counts.columns  # no lookback: nobody leaves
    # row sums of the matrix are the segment sizes at asof_from
    sizes = before["segment"].value_counts()
    for seg, n in sizes.items():
        assert mig.counts.loc[seg].sum() == n
    directions = mig.table.set_index("direction")
    assert directions["customers"].sum() == len(after_ids)


def test_migration_on_a_fixed_scale_never_promotes_idle_customers(cdnow_orders):
    mig = migrate(cdnow_orders, "1997-10-01", "1997-12-30")
    idle_ids = set(
        cdnow_orders.loc[
            (cdnow_orders["order_ts"] >= "1997-10-01") & (cdnow_orders["order_ts"] < "1997-12-30"),
            "customer_id",
        ]
    )
    c = mig.customers.set_index("customer_id")
    idle = c.loc[~c.index.isin(idle_ids)]
    assert (idle["direction"].isin(["stayed", "slipped"])).all()
    assert (idle["direction"] == "slipped").sum() > 1000  # recency grows: many slip
    assert (c["direction"] == "new").sum() == 0  # the cohort all bought in Q1 1997
    assert int(mig.counts.to_numpy().sum()) == CDNOW_CUSTOMERS
    # recomputed quintiles: the same matrix shape, but scores are relative to each date
    each = migrate(cdnow_orders, "1997-10-01", "1997-12-30", scale="each")
    assert int(each.counts.to_numpy().sum()) == CDNOW_CUSTOMERS
    assert (each.customers["direction"] == "slipped").sum() < (c["direction"] == "slipped").sum()


def test_migration_with_lookback_has_a_left_window_column(hand_orders):
    mig = migrate(hand_orders, "2024-01-06", ASOF, lookback_days=5)
    assert R.LEFT_WINDOW in mig.counts.columns
    left = set(mig.customers.loc[mig.customers["direction"] == "left window", "customer_id"])
    assert left == {"D", "E", "G"}  # bought only before the 6th


def test_migration_bad_dates_skip_with_the_reason(hand_orders):
    mig = migrate(hand_orders, ASOF, "2024-01-06")
    assert not mig.ok()
    assert "must be before" in mig.why() and mig.why().startswith("no comparison with")


# ------------------------------------------------------------------------ export


def test_export_round_trips_csv_and_excel(tmp_path):
    rows = [
        (c, d, a, "paid")
        for c, d, a in [
            ("007", 1, 5.0),
            ('=HYPERLINK("x")', 2, 9.0),
            ("客户3", 3, 1.0),
            ("0012", 9, 100.0),
            ("a,b", 10, 50.0),
            ("Z", 10, 70.0),
            ("Z", 4, 30.0),
        ]
    ]
    t = rfm_of(make_orders(rows), asof=ASOF)
    manifest = R.export_segments(t, tmp_path, excel=True)
    assert manifest["customers"].sum() == len(t)
    assert len(manifest) == 11 and manifest["file"].is_unique
    assert "customer_id" not in manifest.columns
    back = []
    for f in manifest["file"]:
        df = pd.read_csv(tmp_path / f, dtype={"customer_id": str}, encoding="utf-8-sig")
        if len(df):
            back.append(df)
    back = pd.concat(back).sort_values("customer_id").reset_index(drop=True)
    assert back["customer_id"].tolist() == sorted(t["customer_id"])  # real ids, leading zeros kept
    want = t.sort_values("customer_id").reset_index(drop=True)
    assert back["segment"].tolist() == want["segment"].astype(str).tolist()
    np.testing.assert_allclose(back["monetary"], want["monetary"])
    assert (back["r_score"].to_numpy() == want["r_score"].to_numpy()).all()
    xl = pd.read_excel(tmp_path / "rfm_segments.xlsx", sheet_name=None, dtype={"customer_id": str})
    assert list(xl)[0] == "Summary" and len(xl) == 12
    ids = pd.concat([d for name, d in xl.items() if name != "Summary"])["customer_id"]
    assert sorted(ids) == sorted(t["customer_id"])  # the formula-looking id stays text
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "rfm_segments.xlsx")
    assert all(c.data_type != "f" for ws in wb.worksheets for row in ws.iter_rows() for c in row)
    assert not list(tmp_path.glob("*.tmp"))


def test_export_layers(tmp_path, hand_orders):
    t = rfm_of(hand_orders, asof=ASOF)
    manifest = R.export_segments(t, tmp_path, by="layer")
    assert manifest["layer"].tolist()[0] == "High value · active"
    assert manifest["customers"].tolist() == [3, 2, 2, 3]
    df = pd.read_csv(tmp_path / manifest["file"].iloc[0], dtype={"customer_id": str})
    assert sorted(df["customer_id"]) == ["A", "F", "I"]
    assert df["action"].iloc[0].startswith("Exclusive benefits")


def test_export_without_a_folder_writes_nothing(tmp_path, hand_orders, monkeypatch):
    monkeypatch.chdir(tmp_path)
    t = rfm_of(hand_orders, asof=ASOF)
    manifest = R.export_segments(t, "", excel=True)
    assert not manifest["written"].any() and manifest["customers"].sum() == len(t)
    assert list(tmp_path.iterdir()) == []


def test_slug():
    assert R.slug("Can't Lose Them") == "cant_lose_them"
    assert R.slug("High value · active") == "high_value_active"


def test_no_warning_on_normal_data(cdnow_orders):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rfm_of(cdnow_orders.head(5000))


# --------------------------------------------------------------------------- figures


def test_figures_draw_on_given_axes_and_are_labelled(cdnow_rfm, cdnow_subset, hand_orders):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shopbook.viz import rfm as V

    res = R.cluster(cdnow_subset, k_range=[2, 3], seed=0)
    mig = migrate(hand_orders, "2024-01-06", ASOF)
    fig, axes = plt.subplots(2, 3)
    drawn = [
        V.segment_bars(R.segment_table(cdnow_rfm), ax=axes[0, 0]),
        V.score_grid(R.score_grid(cdnow_rfm), R.segment_grid(), ax=axes[0, 1]),
        V.silhouette_curve(res.silhouette, res.k, ax=axes[0, 2]),
        V.cluster_snake(R.cluster_centers(cdnow_subset, res), ax=axes[1, 0]),
        V.migration_heatmap(mig.counts, ax=axes[1, 1]),
    ]
    try:
        for ax, want in zip(drawn, axes.ravel(), strict=False):
            assert ax is want and title_of(ax)
        grid_texts = {t.get_text() for t in axes[0, 1].texts}
        assert any("Champions" in t for t in grid_texts)
        centers = R.cluster_centers(cdnow_subset, res)
        assert centers.loc[1, "recency"] < centers.loc[2, "recency"]  # cluster 1 is more recent
    finally:
        plt.close(fig)


# ------------------------------------------------------- synthetic shop, planted groups


@pytest.fixture(scope="module")
def planted_shop():
    """The synthetic shop (3,000 customers, 2023–2024) with four planted groups of customers.

    Each group has 40 customers whose behaviour is set by construction:
    ``champ``   an order every 10 days for the last 6 months, 3× the shop's mean order value;
    ``lapsed``  the same pattern, but from March to September 2023 (long gone, high value);
    ``new``     one small order in the last week;
    ``lost``    one small order in February 2023.
    """
    from shopbook.data.synthetic import generate

    shop = generate(customers=3000, seed=1)
    orders = shop.tables["orders"]
    aov = float(orders.loc[orders["status"] == "paid", "net_amount"].mean())
    rows = []
    plans = {
        "champ": (pd.date_range("2024-07-01", "2024-12-28", freq="10D"), 3.0),
        "lapsed": (pd.date_range("2023-03-01", "2023-09-01", freq="10D"), 3.0),
        "new": (pd.DatetimeIndex(["2024-12-26"]), 0.5),
        "lost": (pd.DatetimeIndex(["2023-02-10"]), 0.5),
    }
    for group, (days, factor) in plans.items():
        for i in range(40):
            for j, day in enumerate(days):
                ts = day + pd.Timedelta(hours=10 + (i % 8))
                rows.append(
                    (
                        f"planted-{group}-{i:02d}-{j:02d}",
                        f"planted-{group}-{i:02d}",
                        ts,
                        round(aov * factor * (0.9 + 0.005 * i), 2),
                    )
                )
    planted = pd.DataFrame(
        rows, columns=["order_id", "customer_id", "order_ts", "net_amount"]
    ).assign(
        channel="site",
        status="paid",
        gross_amount=lambda d: d["net_amount"],
        discount_amount=0.0,
        currency=orders["currency"].iloc[0],
    )[list(orders.columns)]
    both = pd.concat(
        [
            orders.astype({c: object for c in orders.columns if str(orders[c].dtype) == "string"}),
            planted,
        ],
        ignore_index=True,
    )
    return both, shop.truth


def test_planted_groups_land_in_their_segments(planted_shop):
    from shopbook.data.validation import validate

    orders, truth = planted_shop
    report = validate({"orders": orders}, require=("orders",))
    assert report.health_table()["rejected"].sum() == 0
    t = rfm_of(report.kept("orders"), asof="2025-01-01")
    assert len(t) == truth["sizes"]["customers"] + 160
    t["group"] = t["customer_id"].str.extract(r"^planted-(\w+)-")[0]
    share = t.groupby("group")["segment"].apply(
        lambda s: s.astype(str).value_counts(normalize=True)
    )
    assert share["champ"].get("Champions", 0) >= 0.9
    assert share["lapsed"].reindex(["At Risk", "Can't Lose Them"]).fillna(0).sum() >= 0.9
    assert share["new"].get("New", 0) >= 0.9
    assert share["lost"].get("Lost", 0) >= 0.9
    layers = t.groupby("group")["layer"].agg(lambda s: s.astype(str).value_counts().index[0])
    assert layers.to_dict() == {
        "champ": "High value · active",
        "lapsed": "High value · lapsing",
        "new": "Low value · active",
        "lost": "Low value · lapsing",
    }
    # the same answer from a pandas frame (embedded DuckDB) as from the validated engine table
    paid = orders[orders["status"] == "paid"]
    t2 = rfm_of(paid, asof="2025-01-01")
    assert (t2["segment"].to_numpy() == t["segment"].to_numpy()).all()


def test_planted_champions_are_in_the_top_cluster(planted_shop):
    orders, _ = planted_shop
    t = rfm_of(orders, asof="2025-01-01")
    res = R.cluster(t, k_range=range(2, 6), seed=0)
    champs = res.labels[res.labels.index.str.startswith("planted-champ")]
    assert (champs == 1).mean() >= 0.9  # cluster 1 = the most valuable


# ------------------------------------------------------------- picks of notebook 04


def test_wake_up_layer_follows_the_rules_table(tmp_path):
    assert R.wake_up_layer() == "High value · lapsing"
    rules = pd.read_csv(R.default_rules_path(), dtype=str, keep_default_na=False)
    renamed = rules.copy()
    renamed.loc[renamed["name"] == "High value · lapsing", "name"] = "Win back"
    assert R.wake_up_layer(R.load_rules(renamed)) == "Win back"
    with pytest.raises(ValueError, match="no 'layer' scheme"):
        R.wake_up_layer(R.load_rules(rules[rules["scheme"] == "segment"]))


def test_top_segment_is_the_best_ranked_row_even_when_empty(hand_orders):
    t = rfm_of(hand_orders, ASOF)
    segments = R.segment_table(t)
    assert R.top_segment(segments)["segment"] == "Champions"
    no_champions = R.segment_table(t[t["segment"] != "Champions"])
    top = R.top_segment(no_champions)
    assert top["segment"] == "Champions" and top["customers"] == 0
    with pytest.raises(ValueError, match="empty"):
        R.top_segment(segments.iloc[:0])


def test_table_facts_state_the_window_the_one_time_share_and_unused_scores(hand_orders):
    t = rfm_of(hand_orders, ASOF)
    facts = R.table_facts(t)
    # six one-time buyers of ten; F scores 2 and 3 empty (see the hand example)
    assert facts == {
        "n": 10,
        "window": "the whole history up to 2024-01-10",
        "once": 0.6,
        "empty": "2, 3",
    }
    assert R.unused_scores(t, "F") == [2, 3] and R.unused_scores(t, "R") == []
    recent = rfm_of(hand_orders, ASOF, lookback_days=5)
    assert R.window_text(recent) == "the 5 days up to 2024-01-10"
    all_used = t.assign(f_score=[1, 2, 3, 4, 5] * 2)
    assert R.table_facts(all_used)["empty"] == "none"


def test_cluster_agreement(cdnow_subset):
    km = R.cluster(cdnow_subset, k_range=[2, 3], seed=0)
    assert R.cluster_agreement(km, km) == 1.0
    gmm = R.cluster(cdnow_subset, k_range=[2, 3], seed=0, method="gmm")
    agree = pd.crosstab(km.labels, gmm.labels.reindex(km.labels.index))
    assert R.cluster_agreement(km, gmm) == agree.max(axis=1).sum() / len(cdnow_subset)
    assert 0.5 <= R.cluster_agreement(km, gmm) <= 1.0
    assert km.ok() and list(km.table.columns) == ["k", "silhouette"]
    assert list(gmm.table.columns) == ["k", "silhouette", "bic"]


def test_written_files_counts_csv_files_and_the_workbook(tmp_path, hand_orders):
    t = rfm_of(hand_orders, ASOF)
    assert R.written_files(R.export_segments(t, "")) == 0
    assert R.written_files(R.export_segments(t, tmp_path)) == 11
    assert R.written_files(R.export_segments(t, tmp_path / "x", excel=True)) == 12
    assert len(list((tmp_path / "x").iterdir())) == 12


def test_migration_without_earlier_customers_is_skipped_with_the_reason(hand_orders):
    mig = migrate(hand_orders, "2023-06-01", ASOF)
    assert not mig.ok()
    assert mig.why().startswith("no comparison with 2023-06-01: orders.order_ts: expected paid")
    assert "the orders run from 2024-01-01 to 2024-01-11" in mig.why()
    without_a = hand_orders[hand_orders["customer_id"] != "A"]
    one = migrate(without_a, "2024-01-02", ASOF)  # then only G bought on the 1st
    assert not one.ok() and "found 1 customer" in one.why()
    with pytest.raises(ValueError, match="customer_rfm"):
        R.migration(pd.DataFrame(), F.customer_rfm(hand_orders, ASOF))


def test_direction_table_is_the_migration_table(hand_orders):
    mig = migrate(hand_orders, "2024-01-06", ASOF)
    assert mig.ok()
    pd.testing.assert_frame_equal(mig.table, R.direction_table(mig.customers))
    assert mig.table["direction"].tolist() == list(R.DIRECTIONS)
    assert np.isnan(mig.table.set_index("direction").loc["new", "earlier_customers_share"])


# ------------------------------------------------------------------ relevance (issue 16)


def _freq_frame(freqs):
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(freqs))], "frequency": freqs})


def test_relevance_follows_the_tie_rule_not_the_count_of_distinct_frequencies():
    # F > 1 needs more orders than a fifth of the customers (w ≥ n/5)
    assert R.f_step(10) == 2 and R.f_step(11) == 3
    everyone_once = R.relevance(_freq_frame([1] * 50))
    assert not everyone_once.ok() and "100% one-time buyers" in everyone_once.why()
    assert "(here 10)" in everyone_once.why()
    # two distinct frequencies, but the one-time buyers are fewer than a fifth: F is 1 for all
    few_below = R.relevance(_freq_frame([1] * 9 + [2] * 91))
    assert not few_below.ok() and few_below.f_scores == (1,)
    assert "only 9 of the 100 customers" in few_below.why()
    # exactly a fifth below the top: F separates
    fifth = R.relevance(_freq_frame([1] * 20 + [2] * 80))
    assert fifth.ok() and fifth.f_scores == (1, 2) and fifth.notes == []
    # one repeat buyer among one-time buyers separates, with a note that F is binary
    one = R.relevance(_freq_frame([1] * 99 + [3]))
    assert one.ok() and one.separated == 1 and one.repeat_buyers == 1
    assert "only tells repeat buyers from one-time buyers" in one.notes[0]
    # the check agrees with the scores rfm_table gives
    for freqs in ([1] * 9 + [2] * 91, [1] * 20 + [2] * 80, [1, 1, 2, 5, 5]):
        f = R.quintile_scores(freqs)
        assert R.relevance(_freq_frame(freqs)).ok() == (len(set(f)) > 1)


def test_relevance_without_customers_says_so():
    empty = _freq_frame([])
    empty.attrs["asof"] = pd.Timestamp("2024-01-11")
    assert "no customer made a counted (paid) order up to 2024-01-10" in R.relevance(empty).why()
    assert "only 1 customer" in R.relevance(_freq_frame([3])).why()


def test_hand_example_passes_relevance_and_cdnow_does_too(hand_orders, cdnow):
    assert R.relevance(F.customer_rfm(hand_orders, ASOF)).ok()
    fit = R.relevance(F.customer_rfm(cdnow))
    assert fit.ok() and fit.notes == [] and round(fit.one_time_share, 2) == 0.51
