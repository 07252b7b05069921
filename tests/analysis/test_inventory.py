"""shopbook.analysis.inventory: ABC/XYZ, roles, safety stock, warnings (+ figures); stock-out
episodes of shopbook.features.stock."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from shopbook.analysis import inventory as I
from shopbook.features import stock
from shopbook.viz.theme import title_of

# ------------------------------------------------------------------------- ABC / XYZ


def _skus() -> pd.DataFrame:
    # positive total 100: shares above are s1 0, s2/s3 0.5 (tied), s4/s5 0.9 (tied), s6 1.0
    return pd.DataFrame(
        {
            "sku": ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"],
            "revenue": [50.0, 20.0, 20.0, 5.0, 5.0, 0.0, np.nan, -10.0],
            "weekly_mean": [10.0, 10.0, 4.0, 2.0, 0.0, 0.0, 1.0, 3.0],
            "weekly_sd": [5.0, 10.0, 6.0, 1.0, 0.0, 0.0, 0.5, 1.0],
            "weeks": [52, 52, 52, 52, 52, 52, 52, 1],
        }
    )


def test_abc_by_hand_with_ties_zero_and_negative_values():
    c = I.abc_xyz(_skus()).set_index("sku")
    np.testing.assert_allclose(
        c.loc[["s1", "s2", "s3", "s4", "s5", "s6"], "share_above"], [0, 0.5, 0.5, 0.9, 0.9, 1.0]
    )
    assert c.loc[["s1", "s2", "s3", "s4", "s5", "s6", "s8"], "abc"].tolist() == list("AAABBCC")
    assert c.loc["s7", "abc"] is None and c.loc["s7", "class"] is None  # no value, no class
    np.testing.assert_allclose(c.loc["s1", "share"], 0.5)  # of the positive total 100, not 90
    # a cut-off exactly at the tied group's share above: both tied SKUs move together
    c2 = I.abc_xyz(_skus(), abc=(0.5, 0.9)).set_index("sku")
    assert c2.loc[["s1", "s2", "s3", "s4", "s5"], "abc"].tolist() == ["A", "B", "B", "C", "C"]


def test_xyz_by_hand_thresholds_zero_demand_and_short_history():
    c = I.abc_xyz(_skus()).set_index("sku")
    np.testing.assert_allclose(c.loc[["s1", "s2", "s3", "s4"], "cv"], [0.5, 1.0, 1.5, 0.5])
    # on a threshold: the steadier class; no demand or one week only: Z with no CV
    assert c.loc[["s1", "s2", "s3", "s4", "s5", "s8"], "xyz"].tolist() == [
        "X",
        "Y",
        "Z",
        "X",
        "Z",
        "Z",
    ]
    assert np.isnan(c.loc["s5", "cv"]) and np.isnan(c.loc["s8", "cv"])
    assert c.loc["s1", "class"] == "AX" and c.loc["s3", "class"] == "AZ"
    m = I.abc_xyz_matrix(c.reset_index())
    assert (
        m.shape == (3, 3)
        and m.to_numpy().sum() == 7
        and m.loc["A", "X"] == 1
        and m.loc["C", "Z"] == 2
    )


def test_abc_xyz_bad_input():
    with pytest.raises(ValueError, match="missing: weekly_sd"):
        I.abc_xyz(_skus().drop(columns="weekly_sd"))
    with pytest.raises(ValueError, match="abc cut-offs"):
        I.abc_xyz(_skus(), abc=(0.95, 0.8))
    zero = _skus().assign(revenue=0.0)
    assert (I.abc_xyz(zero)["abc"] == "C").all()  # nothing sold: everything is C


# ------------------------------------------------------------------------------ roles


def test_product_roles_by_hand_and_editable_rules():
    skus = pd.DataFrame(
        {
            "sku": [f"p{i}" for i in range(10)],
            "units": [1000, 900, 50, 40, 30, 20, 10, 5, 5, 0],
            "revenue": [5000.0, 4000, 3000, 500, 400, 300, 200, 100, 100, 0],
            "gross_profit": [500.0, 2000, 1500, 200, 150, 100, 80, 30, np.nan, np.nan],
            "margin": [0.10, 0.50, 0.50, 0.40, 0.38, 0.33, 0.40, 0.30, np.nan, np.nan],
        }
    )
    r = I.product_roles(skus).set_index("sku")
    # top 10 % by units = p0 only, whose margin (10 %) is too thin: no hot product
    assert not r["hot"].any()
    # gross profit 4560: p1 (2000, share above 0) and p2 (1500, share above 0.44)
    # make the first 50 %
    assert r.index[r["profit"]].tolist() == ["p1", "p2"]
    # revenue 13600; the smallest up to 20 %: p3..p9 hold 1600 (11.8 %); adding p2 would pass 20 %
    assert r.index[r["long_tail"]].tolist() == ["p3", "p4", "p5", "p6", "p7", "p8", "p9"]
    assert (
        r.loc["p0", "role"] == "core"
        and r.loc["p1", "role"] == "profit"
        and r.loc["p9", "role"] == "long tail"
    )
    r2 = I.product_roles(skus, rules={"hot_top_share": 0.2, "hot_min_margin": 0.3}).set_index("sku")
    assert r2.index[r2["hot"]].tolist() == ["p1"] and r2.loc["p1", "role"] == "hot"
    assert set(I.role_rules()["rule"]) == set(I.ROLE_RULES)
    with pytest.raises(ValueError, match="unknown role rules"):
        I.product_roles(skus, rules={"hot_share": 0.2})


# ---------------------------------------------------------------------- safety stock


def test_safety_stock_is_the_textbook_formula_with_scipy_z():
    z = norm.ppf(0.95)
    assert I.service_z(0.95) == pytest.approx(z) == pytest.approx(1.6448536, abs=1e-7)
    ss = I.safety_stock(10, 3, 9, 0.95, lead_time_sd=2)
    assert (
        ss
        == pytest.approx(z * np.sqrt(9 * 3**2 + 10**2 * 2**2))
        == pytest.approx(36.0744, abs=1e-3)
    )
    assert I.safety_stock(10, 3, 9) == pytest.approx(z * 3 * 3)  # no lead-time spread: z σd √L
    assert I.reorder_point(10, 3, 9, 0.95, 2) == pytest.approx(90 + ss)
    arr = I.safety_stock(np.array([1.0, 2.0]), np.array([1.0, 0.0]), np.array([4.0, 4.0]), 0.99)
    np.testing.assert_allclose(arr, [norm.ppf(0.99) * 2, 0.0])


def test_reorder_point_covers_lead_time_demand_at_the_service_level():
    rng = np.random.default_rng(11)
    n = 200_000
    lt = rng.normal(9, 2, n)
    # demand over a normal lead time: sum of L daily N(10, 3²) draws ~ N(10 L, 9 L)
    demand = rng.normal(10 * lt, 3 * np.sqrt(np.clip(lt, 0, None)))
    rop = I.reorder_point(10, 3, 9, 0.90, lead_time_sd=2)
    assert np.mean(demand <= rop) == pytest.approx(0.90, abs=0.005)


def test_safety_stock_bad_input():
    with pytest.raises(ValueError, match="service_level"):
        I.safety_stock(1, 1, 1, service_level=95)
    with pytest.raises(ValueError, match="sd_daily must not be negative"):
        I.safety_stock(1, -1, 1)


# -------------------------------------------------------------------------- warnings


def _stock() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": ["out", "low", "order", "fine", "fat", "norec", "nolead"],
            "mean_daily": [2.0, 2.0, 2.0, 2.0, 0.1, 2.0, 2.0],
            "sd_daily": [1.0] * 7,
            "lead_time_days": [4.0, 4.0, 4.0, 4.0, 4.0, 4.0, np.nan],
            "on_hand": pd.array([0, 2, 5, 20, 50, None, 20], dtype="Int64"),
            "on_order": pd.array([10, 0, 0, 0, 0, 0, 0], dtype="Int64"),
        }
    )


def test_stock_warnings_levels_and_reasons():
    w = I.stock_warnings(_stock(), service_level=0.95, overstock_days=100).set_index("sku")
    ss = norm.ppf(0.95) * 2.0  # z σd √L = 3.29
    np.testing.assert_allclose(w.loc["low", "safety_stock"], ss)
    np.testing.assert_allclose(w.loc["low", "reorder_point"], 8 + ss)
    assert w["level"].to_dict() == {
        "out": "red",
        "low": "red",
        "order": "amber",
        "fine": "green",
        "fat": "green",
        "norec": "unknown",
        "nolead": "unknown",
    }
    assert (
        w.loc["out", "reason"].startswith("stocked out") and "10 on order" in w.loc["out", "reason"]
    )
    assert "below the safety stock" in w.loc["low", "reason"]
    assert "reorder point" in w.loc["order", "reason"] and "order now" in w.loc["order", "reason"]
    assert w.loc["fat", "overstock"] and "500 days of cover" in w.loc["fat", "reason"]
    assert not w.loc["fine", "overstock"] and not w.loc["norec", "overstock"]
    w2 = I.stock_warnings(_stock(), lead_time_days=4).set_index("sku")  # a default lead time
    assert w2.loc["nolead", "level"] == "green"
    counts = I.warning_counts(w)
    assert counts.set_index("level")["skus"].to_dict() == {
        "red": 2,
        "amber": 1,
        "green": 2,
        "unknown": 2,
    }
    assert counts["overstock"].sum() == 1


# ------------------------------------------------------------------------- stockouts


def _inventory() -> pd.DataFrame:
    days = pd.date_range("2024-01-01", "2024-01-10").date
    hand = {"a": [5, 0, 0, 0, 3, 3, 0, 2, 2, 2], "b": [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]}
    rows = [(d, s, h[i]) for s, h in hand.items() for i, d in enumerate(days)]
    rows += [
        (pd.Timestamp(d).date(), "c", v) for d, v in (("2024-01-01", 0), ("2024-01-03", 0))
    ]  # 01-02 missing
    return pd.DataFrame(rows, columns=["date", "sku", "on_hand"])


def test_stockouts_episodes_in_pandas_and_in_the_engine():
    inv = _inventory()
    expected = pd.DataFrame(
        {
            "sku": ["c", "a", "c", "a", "b"],
            "start": pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-07", "2024-01-08"]
            ),
            "end": pd.to_datetime(
                ["2024-01-01", "2024-01-04", "2024-01-03", "2024-01-07", "2024-01-10"]
            ),
            "days": [1, 3, 1, 1, 3],
            "ongoing": [False, False, True, False, True],
        }
    )
    got = stock.stockouts(inv)
    pd.testing.assert_frame_equal(got.astype({"sku": object}), expected)
    engine = stock.stockouts(ibis.memtable(inv.astype({"sku": "string"})))
    pd.testing.assert_frame_equal(engine.astype({"sku": object}), expected)
    assert stock.stockouts(inv, min_days=2)["days"].tolist() == [3, 3]
    cut = stock.stockouts(
        inv, end="2024-01-08"
    )  # b's episode is then one day long and still ongoing
    assert cut["days"].tolist() == [1, 3, 1, 1, 1] and cut["ongoing"].tolist() == [
        False,
        False,
        True,
        False,
        True,
    ]


def test_stockouts_of_an_empty_inventory():
    empty = _inventory().iloc[:0]
    out = stock.stockouts(empty)
    assert out.empty and list(out.columns) == ["sku", "start", "end", "days", "ongoing"]
    with pytest.raises(ValueError, match="on_hand"):
        stock.stockouts(empty.drop(columns="on_hand"))


# ------------------------------------------------------------- planted truth (synthetic)


@pytest.fixture(scope="module")
def synthetic():
    from shopbook.data.synthetic import generate
    from shopbook.data.validation import validate

    shop = generate(customers=2000, seed=5)
    report = validate(shop.tables, tables=("orders", "order_items", "products", "inventory"))
    return shop, report


def test_planted_stockouts_are_found(synthetic):
    shop, report = synthetic
    truth = shop.truth["inventory"]
    assert truth["stockouts"], "the synthetic shop plants stock-outs"
    found = stock.stockouts(report.kept("inventory"))
    got = {
        (r.sku, r.start.date().isoformat(), r.end.date().isoformat()) for r in found.itertuples()
    }
    planted = {(s["sku"], s["first_day"], s["last_day"]) for s in truth["stockouts"]}
    natural = {(s["sku"], s["first_day"], s["last_day"]) for s in truth["natural_stockouts"]}
    # every planted hold is an episode of its own, and nothing else is found than the natural ones
    assert planted <= got
    assert got - planted <= natural
    assert len(found) == len(planted) + len(natural)


def test_planted_stockouts_are_flagged_red(synthetic):
    from shopbook.features.products import sku_features

    shop, report = synthetic
    for s in shop.truth["inventory"]["stockouts"]:
        end = pd.Timestamp(s["first_day"]) + pd.Timedelta(days=1)  # the second day of the hold
        f = sku_features(
            report.kept("orders"),
            report.kept("order_items"),
            report.kept("products"),
            report.kept("inventory"),
            end=end,
        )
        w = I.stock_warnings(f).set_index("sku")
        assert w.loc[s["sku"], "level"] == "red", (s, w.loc[s["sku"], "reason"])
        assert w.loc[s["sku"], "reason"].startswith("stocked out")
        # the lead time used is the planted product's
        lead = shop.tables["products"].set_index("sku").loc[s["sku"], "lead_time_days"]
        assert w.loc[s["sku"], "lead_time_used"] == lead


# --------------------------------------------------------------------------- figures


def test_figures_return_titled_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shopbook.viz import inventory as V

    c = I.abc_xyz(_skus())
    ax = V.abc_xyz_heatmap(I.abc_xyz_matrix(c))
    assert "ABC" in title_of(ax) and ax.get_ylabel().startswith("ABC")
    ax = V.pareto(c)
    line = ax.get_lines()[0]
    assert line.get_ydata()[-1] == pytest.approx(100) and "%" in ax.get_ylabel()
    ax = V.warning_bars(I.warning_counts(I.stock_warnings(_stock())))
    assert title_of(ax) == "Stock warnings" and len(ax.patches) == 8
    plt.close("all")


def test_role_summary_shares_add_up():
    skus = pd.DataFrame(
        {
            "sku": list("abcd"),
            "units": [10, 5, 1, 0],
            "revenue": [100.0, 50, 10, 0],
            "gross_profit": [40.0, 10, np.nan, np.nan],
            "margin": [0.4, 0.2, np.nan, np.nan],
        }
    )
    s = I.role_summary(I.product_roles(skus, rules={"hot_top_share": 0.25})).set_index("role")
    assert list(s.index) == list(I.ROLES) and s["skus"].sum() == 4
    np.testing.assert_allclose(s[["units_share", "revenue_share", "profit_share"]].sum(), [1, 1, 1])
    assert s.loc["hot", "skus"] == 1 and s.loc["hot", "revenue_share"] == pytest.approx(100 / 160)


# ------------------------------------------------------------- notebook picks


def test_picks_of_the_inventory_report():
    episodes = stock.stockouts(_inventory())
    s = I.stockout_summary(episodes)
    assert (s["episodes"], s["skus"], s["sku_days"], s["ongoing"]) == (5, 3, 9, 2)
    assert s["longest"]["sku"] == "a" and s["longest"]["days"] == 3  # a and b: 3 days, a first
    none = I.stockout_summary(episodes.iloc[:0])
    assert none["episodes"] == 0 and none["longest"] is None
    w = I.stock_warnings(_stock(), service_level=0.95, overstock_days=100)
    assert set(I.urgent(w)["level"]) <= {"red", "amber"}
    assert len(I.urgent(w)) == int(w["level"].isin(["red", "amber"]).sum())
    over = I.overstocked(w.assign(days_of_cover=np.arange(len(w), dtype="float64")))
    assert over["overstock"].all() and len(over) == int(w["overstock"].sum())
    assert over["days_of_cover"].is_monotonic_decreasing
    roles = pd.DataFrame(
        {"sku": list("abcd"), "role": ["core", "profit", "hot", "long tail"], "units": range(4)}
    )
    key = I.key_products(roles)
    assert key["sku"].tolist() == ["b", "c"]
    assert set(key["role"]) <= {"hot", "profit"} and key.index.is_monotonic_increasing
    assert len(key) == int(roles["role"].isin(["hot", "profit"]).sum())
