"""The synthetic shop: contract-valid, reproducible, and the planted truths are in the data.

Tolerances are sampling errors (4 standard errors unless said otherwise), computed from
the data, never fixed numbers: a failure means the data disagree with the truth by far
more than chance allows.
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from shopbook.data.contract import TABLES
from shopbook.data.synthetic import clock_days, generate, read_truth, write_shop
from shopbook.data.synthetic.marketing import geometric_adstock
from shopbook.data.validation import validate

Z = 4.0  # tolerance in standard errors


@pytest.fixture(scope="module")
def shop():
    return generate(customers=4000, start="2023-01-01", end="2024-12-31", seed=11)


@pytest.fixture(scope="module")
def report(shop):
    return validate(shop.tables)


@pytest.fixture(scope="module")
def big_year():
    """A larger one-year shop: enough units for the experiment checks."""
    return generate(customers=36_000, start="2024-01-01", end="2024-12-31", seed=7)


def _days(shop, ts) -> np.ndarray:
    return (pd.to_datetime(ts) - pd.Timestamp(shop.truth["generator"]["start"])).dt.days.to_numpy()


# --------------------------------------------------------------------------- contract
_PANDAS_DTYPES = {
    "int64": "int64",
    "float64": "float64",
    "bool": "bool",
    "timestamp": "datetime64[ns]",
}


def test_tables_follow_the_contract(shop):
    assert list(shop.tables) == list(TABLES)
    for name, contract in TABLES.items():
        df = shop.tables[name]
        assert list(df.columns) == contract.usual_column_names, name
        assert len(df) > 0, name
        for col in (c for c in contract.columns if c.name in df.columns):
            s = df[col.name]
            if col.dtype == "string":
                assert pd.api.types.is_string_dtype(s.dtype), (name, col.name, s.dtype)
            elif col.dtype == "date":
                assert str(s.dtype) == "date32[day][pyarrow]", (name, col.name, s.dtype)
            else:
                assert str(s.dtype) == _PANDAS_DTYPES[col.dtype], (name, col.name, s.dtype)
            if not col.nullable:
                assert s.notna().all(), (name, col.name)
        assert not df.duplicated(list(contract.primary_key)).any(), name
    assert set(shop.tables["orders"]["status"]) == {"paid"}
    assert set(shop.tables["orders"]["currency"]) == {"CNY"}
    assert set(shop.tables["orders"]["channel"]) == {"tmall", "jd", "douyin", "wechat", "site"}


def test_clean_shop_has_zero_rejects(report):
    health = report.health_table()
    assert (health["rejected"] == 0).all(), health[health["rejected"] > 0]
    assert (health["read"] == health["kept"]).all()
    assert not report.warnings


def test_truth_is_json_and_sizes_match(shop):
    text = json.dumps(shop.truth)
    assert json.loads(text) == shop.truth
    assert shop.truth["sizes"] == {k: len(v) for k, v in shop.tables.items()}
    assert shop.truth["bgnbd"]["time_unit"] == "day"
    assert shop.truth["currency"] == "CNY"
    assert len(shop.truth["purchase_clock"]["daily_multiplier"]) == 731


# --------------------------------------------------------------------------- reproducibility
def _small(seed: int, dirty: bool = False):
    return generate(customers=400, start="2024-01-01", end="2024-06-30", seed=seed, dirty=dirty)


def test_same_seed_same_shop_other_seed_other_shop():
    a, b, c = _small(3), _small(3), _small(4)
    for name in TABLES:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert json.dumps(a.truth) == json.dumps(b.truth)
    assert not a.tables["orders"].equals(c.tables["orders"])
    assert not a.tables["sessions"]["session_ts"].equals(c.tables["sessions"]["session_ts"])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="past"):
        generate(customers=100, start="2024-01-01", end="2099-12-31")
    with pytest.raises(ValueError, match="at least"):
        generate(customers=100, start="2024-01-01", end="2024-02-01")
    with pytest.raises(ValueError, match="customers"):
        generate(customers=10)


# --------------------------------------------------------------------------- mess
def test_dirty_shop_rejects_exactly_the_planted_mess():
    dirty, clean = _small(5, dirty=True), _small(5)
    planted = dirty.truth["dirty"]
    rep = validate(dirty.tables)
    for name in TABLES:
        want = planted["expected_rejects"].get(name, {})
        assert rep.tables[name].reasons == want, name
    orders = dirty.tables["orders"]
    assert orders["status"].value_counts().to_dict() == {
        "paid": len(orders)
        - planted["counts"]["refunded_orders"]
        - planted["counts"]["cancelled_orders"],
        **planted["statuses"],
    }
    # the kept paid orders and their lines are exactly the clean shop
    kept = rep.kept("orders").execute()
    kept = kept[kept["status"] == "paid"].sort_values("order_id").reset_index(drop=True)
    want = clean.tables["orders"].sort_values("order_id").reset_index(drop=True)
    assert kept["order_id"].tolist() == want["order_id"].astype(str).tolist()
    np.testing.assert_allclose(kept["net_amount"], want["net_amount"])
    items = rep.kept("order_items").execute()
    items = items[items["order_id"].isin(set(kept["order_id"]))]
    assert len(items) == len(clean.tables["order_items"])
    assert items["quantity"].sum() == clean.tables["order_items"]["quantity"].sum()


# --------------------------------------------------------------------------- internal consistency
def test_orders_items_sessions_agree(shop):
    o, it, s = shop.tables["orders"], shop.tables["order_items"], shop.tables["sessions"]
    np.testing.assert_allclose(o["gross_amount"] - o["discount_amount"], o["net_amount"], atol=1e-6)
    assert (o["discount_amount"] >= 0).all()
    line = (it["unit_price"] * it["quantity"]).groupby(it["order_id"]).sum()
    np.testing.assert_allclose(
        o.set_index("order_id")["gross_amount"].loc[line.index], line, atol=1e-6
    )
    assert (it["unit_price"] <= it["list_price"]).all()
    # one price per SKU and day
    day = it.merge(o[["order_id", "order_ts"]], on="order_id")
    assert day.groupby([day["sku"], day["order_ts"].dt.date])["unit_price"].nunique().max() == 1
    # every order has exactly one session, of the same customer and channel, just before it
    buy = s[s["order_id"].notna()].merge(o, on="order_id", suffixes=("", "_o"))
    assert len(buy) == len(o) and buy["order_id"].is_unique
    assert (buy["customer_id"] == buy["customer_id_o"]).all()
    assert (buy["channel"] == buy["channel_o"]).all()
    assert (buy["session_ts"] <= buy["order_ts"]).all()
    assert (buy["added_to_cart"] & buy["reached_checkout"] & (buy["product_views"] > 0)).all()
    assert (s["added_to_cart"] <= (s["product_views"] > 0)).all()
    assert (s["reached_checkout"] <= s["added_to_cart"]).all()
    # visitors are their customer's device; anonymous sessions exist
    known = s["customer_id"].notna()
    assert (s.loc[known, "visitor_id"].str[1:] == s.loc[known, "customer_id"].str[1:]).all()
    assert 0 < (~known).mean() < 0.5


# --------------------------------------------------------------------------- BG/NBD and Gamma-Gamma
def _expected_repeat(t: np.ndarray, r: float, alpha: float, a: float, b: float) -> np.ndarray:
    """BG/NBD E[X(t)] = E_p[(1 − (α/(α + p t))^r) / p], p ~ Beta(a, b).

    Gauss–Jacobi quadrature: its weight (1 − x)^(b−1) (1 + x)^(a−1) is the Beta density in
    p = (1 + x)/2 up to a constant, so the remaining integrand is smooth.
    """
    x, w = special.roots_jacobi(80, b - 1, a - 1)
    p = (1 + x) / 2
    t = np.asarray(t, dtype=float)[:, None]
    return ((1 - (alpha / (alpha + p * t)) ** r) / p * (w / w.sum())).sum(axis=1)


def test_repeat_purchases_follow_the_planted_bgnbd(shop):
    tr = shop.truth
    bg = tr["bgnbd"]
    o = shop.tables["orders"]
    g = o.groupby("customer_id")["order_ts"]
    first, x = g.min(), (g.size() - 1).to_numpy()
    end = pd.Timestamp(tr["generator"]["end"]) + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    T = clock_days(tr, pd.Series([end]))[0] - clock_days(tr, first)
    # pdp_v2's treated units ran (1 + lift) faster inside its window after assignment
    exp = tr["experiments"]["pdp_v2"]
    a = shop.tables["assignments"]
    a = a[(a["experiment_id"] == "pdp_v2") & (a["variant"] == "treatment")]
    w_end = pd.Timestamp(exp["end"]) + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    extra = exp["relative_lift"] * (
        clock_days(tr, pd.Series([w_end]))[0] - clock_days(tr, a["assigned_ts"])
    )
    cust_of = pd.Series(extra, index=("C" + a["unit_id"].str[1:]).to_numpy())
    T = T + cust_of.reindex(first.index, fill_value=0.0).to_numpy()
    checks = {
        "mean repeat purchases": (x, _expected_repeat(T, bg["r"], bg["alpha"], bg["a"], bg["b"])),
        "share without repeat": (
            (x == 0).astype(float),
            (bg["alpha"] / (bg["alpha"] + T)) ** bg["r"],
        ),
    }
    for what, (obs, want) in checks.items():
        d = obs - want
        z = d.mean() / (d.std(ddof=1) / np.sqrt(len(d)))
        assert abs(z) < Z, (what, obs.mean(), want.mean(), z)


def test_order_values_follow_the_planted_gamma_gamma(shop):
    gg = shop.truth["gamma_gamma"]
    o = shop.tables["orders"]
    per = o.groupby("customer_id")["net_amount"].agg(["sum", "size"])
    mean = per["sum"].sum() / per["size"].sum()
    # ratio estimator with customers as clusters
    resid = per["sum"] - mean * per["size"]
    se = np.sqrt((resid**2).sum()) / per["size"].sum()
    assert abs(mean - gg["mean_order_value"]) < Z * se, (mean, gg["mean_order_value"], se)
    # within a customer, net amounts are Gamma(p, ν): the squared coefficient of variation is 1/p
    rep = o.groupby("customer_id")["net_amount"]
    m, v, n = rep.mean(), rep.var(ddof=1), rep.size()
    cv2 = (v / m**2)[n >= 5]
    assert abs(cv2.mean() - 1 / gg["p"]) < Z * cv2.std(ddof=1) / np.sqrt(len(cv2))


# --------------------------------------------------------------------------- festivals
def test_festival_uplift_is_visible_in_daily_orders(shop):
    tr = shop.truth
    start = pd.Timestamp(tr["generator"]["start"])
    m = np.asarray(tr["purchase_clock"]["daily_multiplier"])
    daily = shop.tables["orders"].groupby(_days(shop, shop.tables["orders"]["order_ts"])).size()
    daily = daily.reindex(np.arange(len(m)), fill_value=0).to_numpy()
    obs_total = with_total = without_total = var_total = 0.0
    events = [e for f in ("618", "double11") for e in tr["festivals"][f]]
    assert len(events) == 4
    for ev in events:
        days = (pd.to_datetime(list(ev["uplift_pct_by_day"])) - start).days.to_numpy()
        up = np.asarray(list(ev["uplift_pct_by_day"].values())) / 100
        pre = np.arange(days[0] - 21, days[0])
        # orders per unit of no-festival intensity in the three weeks before
        rate = daily[pre].sum() / m[pre].sum()
        obs = daily[days].sum()
        with_f = rate * m[days].sum()
        without = rate * (m[days] / (1 + up)).sum()
        var = obs + (m[days].sum() / m[pre].sum()) ** 2 * daily[pre].sum()
        assert abs(obs - with_f) < Z * np.sqrt(var), (ev["year"], ev["start"], obs, with_f, without)
        obs_total, with_total, without_total, var_total = (
            obs_total + obs,
            with_total + with_f,
            without_total + without,
            var_total + var,
        )
        # the peak day itself
        peak = (pd.Timestamp(ev["peak"]) - start).days
        pv = daily[peak] + (m[peak] / m[pre].sum()) ** 2 * daily[pre].sum()
        assert abs(daily[peak] - rate * m[peak]) < Z * np.sqrt(pv)
    assert obs_total - without_total > Z * np.sqrt(var_total)  # plainly visible
    # and the Chinese New Year dip
    for ev in tr["festivals"]["cny_dip"]:
        days = (pd.to_datetime(list(ev["uplift_pct_by_day"])) - start).days.to_numpy()
        assert all(v < 0 for v in ev["uplift_pct_by_day"].values())
        assert (m[days] < m[days - 14]).all()


def test_spring_festival_dip_lies_on_the_calendars_days(shop):
    from shopbook.calendars import spring_festival_event

    dips = shop.truth["festivals"]["cny_dip"]
    assert [d["year"] for d in dips] == [2023, 2024]
    for dip in dips:
        ev = spring_festival_event(dip["year"])
        assert (dip["start"], dip["end"]) == (ev["start"], ev["end"])
        assert dip["days_off"] == [ev["peak"], ev["end"]]
        want = 100 * shop.truth["festivals"]["shape"]["cny_dip"]["uplift"]
        assert set(dip["uplift_pct_by_day"].values()) == {want}


def test_member_day_lift_is_visible_in_daily_orders(shop):
    tr = shop.truth
    md = tr["festivals"]["member_day"]
    start = pd.Timestamp(tr["generator"]["start"])
    days = ((pd.to_datetime(md["days"]) - start).days).to_numpy()
    assert (pd.to_datetime(md["days"]).dayofweek == md["weekday_number"]).all()
    assert (np.diff(days) == 7).all() and md["since"] == md["days"][0] and len(days) >= 15
    m = np.asarray(tr["purchase_clock"]["daily_multiplier"])
    # the week before the first member day: the same weekday without it (no festival then)
    assert m[days[0]] / m[days[0] - 7] == pytest.approx(1 + md["uplift_pct"] / 100, rel=0.01)
    daily = shop.tables["orders"].groupby(_days(shop, shop.tables["orders"]["order_ts"])).size()
    daily = daily.reindex(np.arange(len(m)), fill_value=0).to_numpy()
    # orders per unit of intensity on member days and on the other days of their weeks
    other = np.concatenate([days + k for k in (-3, -2, -1, 1, 2, 3) if (days + k < len(m)).all()])
    rate_md, rate_other = daily[days].sum() / m[days].sum(), daily[other].sum() / m[other].sum()
    se = rate_other * np.sqrt(1 / daily[days].sum() + 1 / daily[other].sum())
    assert abs(rate_md - rate_other) < Z * se  # the intensity m carries the whole lift


# --------------------------------------------------------------------------- funnel & traffic
def test_funnel_rates_match_the_planted_rates(shop):
    s = shop.tables["sessions"]
    viewed = s["product_views"] > 0
    stages = {
        "product_view": (viewed, np.ones(len(s), bool)),
        "add_to_cart": (s["added_to_cart"], viewed),
        "checkout": (s["reached_checkout"], s["added_to_cart"]),
        "order": (s["order_id"].notna(), s["reached_checkout"]),
    }
    rates = shop.truth["funnel"]["rates"]
    checked = 0
    for (ch, dev), idx in s.groupby(["channel", "device"]).groups.items():
        for stage, (hit, base) in stages.items():
            b = np.asarray(base)[s.index.get_indexer(idx)]
            n = int(b.sum())
            if n < 200:
                continue
            rate = float(np.asarray(hit)[s.index.get_indexer(idx)][b].mean())
            want = rates[ch][dev][stage]
            assert abs(rate - want) < Z * np.sqrt(want * (1 - want) / n), (
                ch,
                dev,
                stage,
                rate,
                want,
                n,
            )
            checked += 1
    assert checked >= 40
    conv = s.groupby("channel")["order_id"].count() / s.groupby("channel").size()
    assert conv.idxmax() in ("jd", "tmall") and conv.idxmin() == "site"


def test_traffic_drop_is_visible_and_of_the_planted_size(shop):
    td = shop.truth["traffic_drop"]
    s = shop.tables["sessions"]
    day = _days(shop, s["session_ts"])
    d0 = (pd.Timestamp(td["date"]) - pd.Timestamp(shop.truth["generator"]["start"])).days
    on = (s["channel"] == td["channel"]).to_numpy()
    # exact: of the channel's sessions from the date on, `fraction` were moved away
    remaining = int((on & (day >= d0)).sum())
    moved = td["moved_sessions"]["total"]
    n = moved + remaining
    f = td["fraction"]
    assert abs(moved / n - f) < Z * np.sqrt(f * (1 - f) / n)
    # visible: the channel's share of sessions, 8 weeks after vs 8 weeks before
    before, after = (day >= d0 - 56) & (day < d0), (day >= d0) & (day < d0 + 56)
    ratio = (on & after).sum() / after.sum() / ((on & before).sum() / before.sum())
    se = ratio * np.sqrt(1 / (on & after).sum() + 1 / (on & before).sum())
    assert abs(ratio - (1 - f)) < Z * se, (ratio, se)
    assert ratio + Z * se < 1


# --------------------------------------------------------------------------- experiments
def _unit_outcomes(shop, experiment: str) -> pd.DataFrame:
    ex = shop.truth["experiments"][experiment]
    a = shop.tables["assignments"]
    a = a[a["experiment_id"] == experiment]
    s = shop.tables["sessions"].merge(
        a[["unit_id", "variant", "assigned_ts"]], left_on="visitor_id", right_on="unit_id"
    )
    end = pd.Timestamp(ex["end"]) + pd.Timedelta(days=1)
    s = s[(s["session_ts"] >= s["assigned_ts"] - pd.Timedelta(hours=1)) & (s["session_ts"] < end)]
    s = s.merge(shop.tables["orders"][["order_id", "net_amount"]], on="order_id", how="left")
    return (
        s.groupby(["unit_id", "variant"])
        .agg(
            sessions=("session_id", "size"),
            orders=("order_id", "count"),
            revenue=("net_amount", "sum"),
        )
        .reset_index()
    )


def _ratio_lift(u: pd.DataFrame, num: str, den: str) -> tuple[float, float]:
    """Relative lift of sum(num)/sum(den), treatment vs control, delta-method SE (units as
    clusters)."""
    out = {}
    for v, g in u.groupby("variant"):
        r = g[num].sum() / g[den].sum()
        var = ((g[num] - r * g[den]) ** 2).sum() / g[den].sum() ** 2
        out[v] = (r, var)
    (rc, vc), (rt, vt) = out["control"], out["treatment"]
    lift = rt / rc - 1
    return lift, (rt / rc) * np.sqrt(vt / rt**2 + vc / rc**2)


def test_experiment_assignments_are_clean(shop):
    a = shop.tables["assignments"]
    assert set(a["experiment_id"]) == {"pdp_v2", "aa_check", "checkout_srm"}
    assert a.groupby(["experiment_id", "unit_id"])["variant"].nunique().max() == 1
    signup = shop.tables["customers"].set_index("customer_id")["signup_ts"]
    for name, ex in shop.truth["experiments"].items():
        x = a[a["experiment_id"] == name]
        assert x["assigned_ts"].min() >= pd.Timestamp(ex["start"])
        assert x["assigned_ts"].max() < pd.Timestamp(ex["end"]) + pd.Timedelta(days=1)
        assert (signup.loc["C" + x["unit_id"].str[1:]].to_numpy() < pd.Timestamp(ex["start"])).all()
        assert x["variant"].value_counts().to_dict() == ex["units"]
    # each assignment is the unit's first session in the window
    s = shop.tables["sessions"]
    first = a.merge(s, left_on=["unit_id", "assigned_ts"], right_on=["visitor_id", "session_ts"])
    assert first[["experiment_id", "unit_id"]].drop_duplicates().shape[0] == len(a)


def test_srm_split_is_visible(big_year):
    ex = big_year.truth["experiments"]["checkout_srm"]
    units = (
        big_year.tables["assignments"]
        .query("experiment_id == 'checkout_srm'")["variant"]
        .value_counts()
    )
    n = units.sum()
    share = units["treatment"] / n
    p_true = ex["variants"]["treatment"]
    assert abs(share - p_true) < Z * np.sqrt(p_true * (1 - p_true) / n)
    # visible: below an even split by more than two standard errors (this shop has enough
    # units that a 2-point imbalance is > 4 SE in expectation)
    se_half = np.sqrt(0.25 / n)
    assert (0.5 - p_true) / se_half > 4
    assert share < 0.5 - 2 * se_half
    assert stats.chisquare(units.to_numpy()).pvalue < 0.05
    # the A/A test's split is fine
    aa = (
        big_year.tables["assignments"]
        .query("experiment_id == 'aa_check'")["variant"]
        .value_counts()
    )
    assert abs(aa["treatment"] / aa.sum() - 0.5) < Z * np.sqrt(0.25 / aa.sum())


def test_pdp_v2_lifts_conversion_not_order_value(big_year):
    ex = big_year.truth["experiments"]["pdp_v2"]
    u = _unit_outcomes(big_year, "pdp_v2")
    lift, se = _ratio_lift(u, "orders", "sessions")
    assert abs(lift - ex["relative_lift"]) < Z * se, (lift, se)
    assert lift > 0
    aov, se_aov = _ratio_lift(u[u["orders"] > 0], "revenue", "orders")
    assert abs(aov - ex["aov_relative_lift"]) < Z * se_aov
    visits, se_v = _ratio_lift(u.assign(one=1), "sessions", "one")
    assert abs(visits) < Z * se_v
    # the in-sample effect: treated units' orders vs the same units had they been in control
    real = ex["realised"]
    assert real["orders"] > real["orders_if_control"]
    sd = np.sqrt(real["orders_if_control"])
    assert abs(real["orders"] - (1 + ex["relative_lift"]) * real["orders_if_control"]) < Z * sd
    # the A/A test shows nothing
    aa_lift, aa_se = _ratio_lift(_unit_outcomes(big_year, "aa_check"), "orders", "sessions")
    assert abs(aa_lift) < Z * aa_se


def test_units_have_pre_period_history(big_year):
    a = big_year.tables["assignments"].query("experiment_id == 'pdp_v2'")
    s = big_year.tables["sessions"][["visitor_id", "session_ts"]]
    first = s.groupby("visitor_id")["session_ts"].min()
    assert (first.loc[a["unit_id"]].to_numpy() < a["assigned_ts"].to_numpy()).all()


# ------------------------------------------------------------------ products, prices, inventory
def test_planted_stockouts_are_in_the_inventory(shop):
    inv, it, o = shop.tables["inventory"], shop.tables["order_items"], shop.tables["orders"]
    inv = inv.assign(date=pd.to_datetime(inv["date"].astype(str)))
    sold = it.merge(o[["order_id", "order_ts"]], on="order_id")
    sold_days = set(zip(sold["sku"], sold["order_ts"].dt.normalize(), strict=True))
    planted = shop.truth["inventory"]["stockouts"]
    assert len(planted) >= 4
    hand = inv.set_index(["sku", "date"])["on_hand"]
    for h in planted:
        days = pd.date_range(h["first_day"], h["last_day"])
        assert len(days) == h["days"]
        assert (hand.loc[[(h["sku"], d) for d in days]] == 0).all(), h
        assert not any((h["sku"], d) for d in days if (h["sku"], d) in sold_days), h
        before = pd.Timestamp(h["first_day"]) - pd.Timedelta(days=1)
        assert hand.loc[(h["sku"], before)] > 0, h
        after = pd.Timestamp(h["last_day"]) + pd.Timedelta(days=1)
        if (h["sku"], after) in hand.index:
            assert hand.loc[(h["sku"], after)] > 0, h
    zero = int((inv["on_hand"] == 0).sum())
    assert (
        zero
        == sum(h["days"] for h in planted) + shop.truth["inventory"]["natural_stockout_sku_days"]
    )


def test_prices_move_and_promotions_raise_units(shop):
    it, o = shop.tables["order_items"], shop.tables["orders"]
    tr = shop.truth["products"]
    cats = tr["categories"]
    assert len(cats) == 8 and tr["n_skus"] == len(shop.tables["products"]) == 200
    assert all(-3 <= c["own_price_elasticity"] <= -0.8 for c in cats.values())
    d = it.merge(o[["order_id", "order_ts"]], on="order_id")
    d["day"] = d["order_ts"].dt.normalize()
    sku_day = d.groupby(["sku", "day"]).agg(
        units=("quantity", "sum"), price=("unit_price", "first"), list_price=("list_price", "first")
    )
    assert sku_day.groupby("sku")["list_price"].nunique().gt(1).mean() > 0.5  # list prices change
    promo = sku_day["price"] < sku_day["list_price"]
    depth = 1 - sku_day["price"] / sku_day["list_price"]
    assert 0.2 < promo.mean() < 0.6 and depth.max() <= 0.41
    # within a SKU, units on promotion days exceed units on other days
    gap = (
        np.log(sku_day["units"])
        .groupby([sku_day.index.get_level_values("sku"), promo])
        .mean()
        .unstack()
    )
    diff = (gap[True] - gap[False]).dropna()
    assert diff.mean() > Z * diff.std(ddof=1) / np.sqrt(len(diff))
    assert tr["confounding"]["corr_log_discount_vs_shock"] < 0  # promotions land on demand peaks
    pair = tr["substitutes"]["skus"]
    prods = shop.tables["products"].set_index("sku")
    assert prods.loc[pair[0], "category"] == prods.loc[pair[1], "category"]


def test_new_customers_follow_the_marketing_curve(shop):
    tr = shop.truth
    mk, td = tr["marketing"], tr["traffic_drop"]
    start = pd.Timestamp(tr["generator"]["start"])
    m = np.asarray(tr["purchase_clock"]["daily_multiplier"])
    n = len(m)
    growth = (1 + mk["growth_per_year"]) ** (np.arange(n) / 365.25)
    spend = shop.tables["marketing_spend"].pivot(index="date", columns="channel", values="spend")
    d0 = (pd.Timestamp(td["date"]) - start).days
    after = np.arange(n) >= d0
    base = {}
    for c, p in mk["channels"].items():
        # intake follows the carried-over spend (normalised geometric adstock, decay planted)
        s = geometric_adstock(spend[c].to_numpy()[:, None], np.array([p["decay"]]))[:, 0]
        paid = (
            p["max_paid_per_day"]
            * s ** p["shape"]
            / (s ** p["shape"] + p["half_saturation_cny_per_day"] ** p["shape"])
        )
        base[c] = m * growth * (p["organic_per_day"] + paid)
    expected = {c: v.copy() for c, v in base.items()}
    lost = base[td["channel"]] * td["fraction"] * after
    expected[td["channel"]] -= lost
    for c, w in td["acquisitions_moved_to"].items():
        expected[c] += lost * w
    cust = shop.tables["customers"]
    day = _days(shop, cust["signup_ts"])
    # new customers by channel and by spend quartile: the curve (and its saturation) fits
    for c, e in expected.items():
        got = np.bincount(day[(cust["acquisition_channel"] == c).to_numpy()], minlength=n)
        q = pd.qcut(spend[c].rank(method="first").to_numpy(), 4, labels=False)
        for k in range(4):
            obs, want = got[q == k].sum(), e[q == k].sum()
            assert abs(obs - want) < Z * np.sqrt(want), (c, k, obs, want)
    assert abs(sum(e.sum() for e in expected.values()) - len(cust)) < 1e-6 * len(cust)


# --------------------------------------------------------------------------- writing
def test_write_and_read_back(shop, tmp_path):
    db = write_shop(shop, tmp_path / "shop.duckdb")
    con = duckdb.connect(str(db), read_only=True)
    try:
        for name, df in shop.tables.items():
            assert con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == len(df)
        assert con.execute("SELECT typeof(date) FROM inventory LIMIT 1").fetchone()[0] == "DATE"
        assert con.execute("SELECT count(*) FROM shop_truth").fetchone()[0] == 1
    finally:
        con.close()
    assert read_truth(db) == shop.truth
    assert json.loads((tmp_path / "shop.duckdb.truth.json").read_text()) == shop.truth
    folder = write_shop(shop, tmp_path / "parquet")
    assert sorted(p.stem for p in folder.glob("*.parquet")) == sorted(TABLES)
    assert read_truth(folder) == shop.truth
    back = pd.read_parquet(folder / "orders.parquet")
    assert len(back) == len(shop.tables["orders"])


def test_cli_sample_writes_duckdb_and_parquet(tmp_path):
    from typer.testing import CliRunner

    from shopbook.cli import app

    runner = CliRunner()
    args = ["--customers", "300", "--start", "2024-01-01", "--end", "2024-06-30"]
    res = runner.invoke(app, ["sample", *args, "--out", str(tmp_path / "x.duckdb")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "x.duckdb").exists() and (tmp_path / "x.duckdb.truth.json").exists()
    res = runner.invoke(app, ["sample", *args, "--out", str(tmp_path / "folder")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "folder" / "orders.parquet").exists()
    assert read_truth(tmp_path / "folder")["generator"]["customers"] == 300
    res = runner.invoke(app, ["sample", "--end", "2099-01-01", "--out", str(tmp_path / "y.duckdb")])
    assert res.exit_code != 0 and "past" in res.output


def test_read_truth_falls_back_to_the_file_beside_a_duckdb_without_it(shop, tmp_path):
    db = write_shop(shop, tmp_path / "shop.duckdb")
    con = duckdb.connect(str(db))
    try:
        con.execute("DROP TABLE shop_truth")
    finally:
        con.close()
    assert read_truth(db) == shop.truth
    (tmp_path / "shop.duckdb.truth.json").unlink()
    with pytest.raises(FileNotFoundError, match="no shop truth"):
        read_truth(db)


# --------------------------------------------------------------------------- the subpackage
def test_the_subpackage_keeps_the_public_names():
    import shopbook.data.synthetic as sy

    for name in sy.__all__:
        assert hasattr(sy, name), name
    assert sy.BGNBD == {"r": 0.6, "alpha": 70.0, "a": 0.8, "b": 2.6}
    assert sy.generate is generate and sy.write_shop is write_shop
    assert sy.Shop.__module__ == "shopbook.data.synthetic.shop"


def test_quality_holds_are_on_distinct_launched_non_substitute_skus():
    from shopbook.data.synthetic.catalogue import _quality_holds
    from shopbook.data.synthetic.clock import _Calendar

    cal = _Calendar.make("2024-01-01", "2024-06-30")
    rng = np.random.default_rng(0)
    base = rng.lognormal(0, 0.8, 40)
    launch = np.where(np.arange(40) % 5 == 0, 150, -100)  # every fifth SKU launches late
    holds = _quality_holds(cal, launch, base, (0, 1), rng)
    skus = [s for s, _, _ in holds]
    assert len(holds) == 6 and len(set(skus)) == 6 and not {0, 1} & set(skus)
    for s, first, days in holds:
        assert launch[s] < first - 30  # launched a month before the hold
        assert 1 <= days <= 21 and first + days <= cal.n
    # the most popular eligible SKU gets the first hold
    eligible = [s for s in np.argsort(-base) if s not in (0, 1) and launch[s] < holds[0][1] - 30]
    assert holds[0][0] == eligible[0]
