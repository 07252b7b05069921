"""analysis.loyalty on small frames: tier rules, Kaplan–Meier (lifelines and by hand),
the share day, the hazard peak, the weighted uplift and the bunching estimator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from shopbook.analysis import loyalty as loy


def _spend(rows):
    return pd.DataFrame(rows, columns=["customer_id", "month", "orders", "spend"]).assign(
        month=lambda d: pd.to_datetime(d["month"])
    )


def test_tier_rules_are_checked():
    rules = loy.load_tier_rules()
    assert list(rules["tier"]) == ["regular", "silver", "gold", "platinum"]
    bad = rules.copy()
    bad.loc[2, "upgrade_spend"] = 100
    with pytest.raises(ValueError, match="upgrade_spend must rise"):
        loy.load_tier_rules(bad)
    bad = rules.copy()
    bad.loc[1, "keep_spend"] = 500
    with pytest.raises(ValueError, match="keep_spend"):
        loy.load_tier_rules(bad)


def test_tier_paths_upgrade_keep_and_downgrade_by_the_rules():
    rules = loy.load_tier_rules()
    months = pd.date_range("2023-01-01", periods=21, freq="MS")
    rows = [("x", m, 1, 10.0) for m in months]  # filler customer keeps the span
    rows += [("a", "2023-01-01", 1, 1200.0)]  # gold at the first review (2023-12 … 2024-03)
    rows += [("b", "2023-06-01", 1, 350.0), ("b", "2024-02-01", 1, 250.0)]
    paths = loy.tier_paths(_spend(rows), rules, review_months=3)
    t = paths.table.set_index(["customer_id", "review"])
    r = [d for d in paths.reviews]
    assert [d.date().isoformat() for d in r] == ["2024-03-31", "2024-06-30", "2024-09-30"]
    a = t.loc["a"]["tier"].tolist()
    # 12-month spend at 2024-03: the 1,200 of Jan 2023 has left the window (Apr 23 – Mar 24)
    assert a == ["regular", "regular", "regular"]
    b = t.loc["b"]
    assert b["spend_12m"].tolist() == [600.0, 250.0, 250.0]
    assert b["tier"].tolist() == ["silver", "silver", "silver"]  # 250 ≥ keep 200
    rows2 = rows + [("c", "2023-05-01", 1, 1000.0)]
    t2 = loy.tier_paths(_spend(rows2), rules).table.set_index(["customer_id", "review"])
    # 1,000 in May 2023: gold; nothing in the next 12 months: one tier down per review
    assert t2.loc["c"]["tier"].tolist() == ["gold", "silver", "regular"]
    assert t2.loc["c"]["move"].tolist() == ["new", "down", "down"]
    mig = loy.tier_migration(loy.tier_paths(_spend(rows2), rules), rules)
    assert mig.counts.loc["silver", "silver"] >= 1
    up = loy.upgrade_list(loy.tier_paths(_spend(rows2), rules), rules, within=0.2)
    assert up.ok() is False or (up.table["gap"] > 0).all()
    short = loy.tier_paths(_spend(rows[:5]), rules)
    assert not short.ok() and "months" in short.why()


def _times(seed=0, n=3000, end=400):
    rng = np.random.default_rng(seed)
    t = np.ceil(rng.gamma(2.0, 6.0, n))  # a hazard that rises, then falls
    repeat = rng.random(n) < 0.6
    cens = rng.integers(30, end, n)
    days = np.where(repeat & (t <= cens), t, cens).astype(int)
    ev = repeat & (t <= cens)
    seg = np.where(rng.random(n) < 0.5, "x", "y")
    df = pd.DataFrame({"days": days, "repeated": ev, "segment": seg})
    return (
        df.groupby(["days", "repeated", "segment"], as_index=False)
        .size()
        .rename(columns={"size": "customers"})
    )


def test_km_curves_equal_lifelines_and_a_hand_computation():
    times = _times()
    curves = loy.repurchase_curves(times)
    for seg in ("x", "y"):
        r = times[times.segment == seg]
        kmf = KaplanMeierFitter().fit(r.days, r.repeated, weights=r.customers)
        want = kmf.survival_function_.iloc[:, 0].reindex(range(0, 366), method="ffill")
        got = curves.table[curves.table.segment == seg].set_index("day")["survival"]
        np.testing.assert_allclose(got.to_numpy(), want.loc[got.index].to_numpy())
        own = loy.km_survival(r.days, r.repeated, r.customers).reindex(got.index, method="ffill")
        np.testing.assert_allclose(own.to_numpy(), got.to_numpy())
    # by hand: 4 customers, events at 2 and 5, one censored at 3, one at 6
    s = loy.km_survival([2, 3, 5, 6], [True, False, True, False], [1, 1, 1, 1])
    assert s.loc[2] == pytest.approx(3 / 4) and s.loc[5] == pytest.approx(3 / 4 * 1 / 2)
    assert s.loc[6] == pytest.approx(3 / 8)


def test_day_by_share_and_the_hazard_peak_find_the_planted_shape():
    whole = _times().groupby(["days", "repeated"], as_index=False)["customers"].sum()
    d = loy.day_by_share(whole, share=0.5, horizon=365, n_boot=100)
    # Gamma(2, scale 6) time to a second purchase: median 10.07 days, ceil → day 11
    assert d.table.loc[0, "ci_low"] <= 11 <= d.table.loc[0, "ci_high"]
    hp = loy.hazard_peak(whole, coupon_day=7, horizon=60)
    assert hp.ok() and hp.peak_low <= hp.peak_day <= hp.peak_high
    # Gamma(2, 6) times for 60 %, never for 40 %: the daily hazard (smoothed as the
    # estimator smooths it) peaks on day 9 and is down to half of it by day 30
    assert hp.peak_low <= 9 <= hp.peak_high and hp.peak_high < 30
    far = loy.hazard_peak(whole, coupon_day=40, horizon=60)
    assert not far.coupon_in_peak and far.coupon_ratio < 0.7


def test_weighted_uplift_removes_the_confounding_of_a_targeted_offer():
    rng = np.random.default_rng(3)
    n = 6000
    rec = rng.exponential(20, n)
    freq = rng.poisson(2, n) + 1
    mon = rng.gamma(3, 60, n) * freq
    p_send = 1 / (1 + np.exp(-(2.0 - 0.8 * np.log1p(rec))))  # the shop targets recent buyers
    sent = rng.random(n) < p_send
    base = 0.25 * np.exp(-rec / 25)
    bought = rng.random(n) < base + 0.05 * sent
    df = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "group": np.where(sent, "treatment", "not offered"),
            "recency_days": rec,
            "frequency": freq,
            "monetary": mon,
            "bought": bought,
        }
    )
    naive = df[sent].bought.mean() - df[~sent].bought.mean()
    u = loy.offer_uplift(df, 7, n_boot=100)
    assert u.design == loy.OBSERVATIONAL
    r = u.table.iloc[0]
    assert naive > 0.09  # confounded: recent buyers both got the offer and buy more
    assert r.ci_low <= 0.05 <= r.ci_high
    assert (u.balance["smd_after"].abs() < 0.1).all()


def test_bunching_recovers_mass_moved_above_a_threshold():
    rng = np.random.default_rng(5)
    x = rng.gamma(4.0, 50.0, 40_000)
    near = (x >= 160) & (x < 199) & (rng.random(x.size) < 0.5)
    x[near] = 199 + rng.uniform(0, 19, near.sum())
    hist = pd.DataFrame({"lower": np.floor(x / 5) * 5}).value_counts().sort_index()
    hist = hist.rename("orders").reset_index()
    steps = pd.DataFrame({"threshold": [199.0], "discount": [20.0]})
    b = loy.ladder_bunching(hist, steps, n_boot=100)
    r = b.table.iloc[0]
    assert r.missing_low <= near.sum() <= r.missing_high
    assert r.qualifying_orders == int((x >= 199).sum()) or r.qualifying_orders > 0
