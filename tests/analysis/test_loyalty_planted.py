"""The loyalty estimators recover what generator v3/v4 planted: the coupon's uplift, the
ladder's bunching mass, the member-day lift and the tier upgrade's effect, within their
intervals, over seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopbook.analysis import loyalty as loy
from shopbook.analysis.trend import event_list
from shopbook.features import loyalty as fl
from shopbook.features.sales import kpis

SEEDS = (0, 1, 2)
CUSTOMERS = 8000


@pytest.fixture(scope="module")
def shops(synthetic_shop):
    return {s: synthetic_shop(customers=CUSTOMERS, seed=s) for s in SEEDS}


def _coupon(shop):
    t = shop.tables
    out = fl.offer_outcomes(t["orders"], t["offers"], "repurchase_coupon", days=7)
    truth = shop.truth["loyalty"]["coupon"]["realised"]["within_7d"]
    return loy.offer_uplift(out, 7), truth


def _bunching(shop):
    t = shop.tables
    lw = fl.ladder_windows(t["promotions"])
    hist = fl.basket_histogram(t["orders"], list(zip(lw["start"], lw["end"], strict=True)))
    return loy.ladder_bunching(hist, lw, n_boot=150), shop.truth["loyalty"]["ladder"]


def _member_day(shop):
    t = shop.tables
    wd, since = fl.member_day_programme(t["promotions"])
    daily = kpis(t["orders"], "day")
    events = event_list(daily["period"].min(), daily["period"].max())
    return loy.member_day_lift(daily, wd, since, events), shop.truth["festivals"]["member_day"]


def test_the_coupon_experiment_recovers_the_realised_uplift(shops):
    r, truth = _coupon(shops[0])
    row = r.table.iloc[0]
    assert r.design == loy.RANDOMISED
    want = truth["uplift_pp"] / 100
    assert row.ci_low <= want <= row.ci_high
    assert want > 0.02  # a real effect: the coupon multiplies purchase intensity by 1.8
    assert row.comparison_rate == pytest.approx(truth["control_rate"])


def test_the_observational_path_on_the_same_campaign_is_labelled_and_close(shops):
    shop = shops[0]
    t = shop.tables
    sent = t["offers"][t["offers"]["variant"] == "treatment"].drop(columns="variant")
    out = fl.offer_outcomes(t["orders"], sent, "repurchase_coupon", days=7, lookback_days=60)
    r = loy.offer_uplift(out, 7, n_boot=150)
    assert r.design == loy.OBSERVATIONAL and "Observational" in r.notes[0]
    want = shop.truth["loyalty"]["coupon"]["realised"]["within_7d"]["uplift_pp"] / 100
    assert r.table.iloc[0].ci_low <= want <= r.table.iloc[0].ci_high


def test_the_ladder_bunching_mass_is_recovered_at_the_first_threshold(shops):
    b, truth = _bunching(shops[0])
    assert b.ok()
    assert list(b.table["threshold"]) == [s["threshold"] for s in truth["steps"]]
    row, step = b.table.iloc[0], truth["steps"][0]
    assert row.missing_low <= step["moved_orders"] <= row.missing_high
    assert row.share_low <= step["moved_share"] <= row.share_high
    # the higher step (fewer orders, a steeper density) is in the coverage count below
    assert (b.table["missing_orders"] > 0).all()


def test_the_member_day_lift_is_recovered(shops):
    r, truth = _member_day(shops[0])
    row = r.table.iloc[0]
    assert row.weekday == truth["weekday"] and str(row.since) == truth["since"]
    assert row.ci_low <= truth["uplift_pct"] / 100 <= row.ci_high


def test_intervals_cover_the_planted_truths_over_seeds(shops, tier_upgrade_effect):
    hits, total = 0, 0
    for s in SEEDS:
        c, ct = _coupon(shops[s])
        hits += c.table.iloc[0].ci_low <= ct["uplift_pp"] / 100 <= c.table.iloc[0].ci_high
        b, bt = _bunching(shops[s])
        for row, step in zip(b.table.itertuples(), bt["steps"], strict=True):
            hits += row.missing_low <= step["moved_orders"] <= row.missing_high
        m, mt = _member_day(shops[s])
        hits += m.table.iloc[0].ci_low <= mt["uplift_pct"] / 100 <= m.table.iloc[0].ci_high
        u = tier_upgrade_effect(shops[s])
        ut = shops[s].truth["loyalty"]["tiers"]["realised"]["near"]
        hits += u.table.iloc[0].ci_low <= ut["uplift_pp"] / 100 <= u.table.iloc[0].ci_high
        total += 5
    # 15 intervals at 95 %: 13 or more cover with probability 0.96
    assert hits >= 13, f"{hits} of {total} intervals cover the planted truth"


def test_tiers_follow_the_rules_on_the_synthetic_shop(shops):
    shop = shops[0]
    rules = loy.load_tier_rules()
    paths = loy.tier_paths(fl.monthly_spend(shop.tables["orders"]), rules)
    last = paths.table[paths.table["review"] == paths.reviews[-1]]
    up_at = dict(zip(rules["tier"], rules["upgrade_spend"], strict=True))
    keep_at = dict(zip(rules["tier"], rules["keep_spend"], strict=True))
    # no member holds a tier whose keep spend they miss unless they just came down to it
    held = last[last["move"] == "kept"]
    assert (held["spend_12m"] >= held["tier"].map(keep_at)).all()
    ups = last[last["move"] == "up"]
    assert (ups["spend_12m"] >= ups["tier"].map(up_at)).all()
    summary = loy.tier_summary(paths, rules).table
    assert summary["members"].sum() == len(last)
    assert summary.set_index("tier")["repurchase_rate"].is_monotonic_increasing
    assert isinstance(summary, pd.DataFrame)


def test_a_targeted_campaign_read_observationally_matches_the_experimental_benchmark(shops):
    """A campaign sent to a targeted subset (customers who bought in the last fortnight
    four times as likely to be picked), with no control logged: the weighted comparison with
    recent buyers not offered balances what the targeting unbalanced and its interval covers
    the experimental benchmark — the targeted customers' rate against the randomised control
    arm weighted by the same targeting probability (what the targeted would have done
    unsent)."""
    shop = shops[0]
    t = shop.tables
    pool = fl.offer_outcomes(t["orders"], t["offers"], "repurchase_coupon", days=7)
    p = np.where(pool["recency_days"] < 14, 0.8, 0.2)
    picked = np.random.default_rng(11).random(len(pool)) < p
    treat = pool[(pool["group"] == "treatment") & picked]
    control = pool["group"] == "control"
    benchmark = treat["bought"].mean() - np.average(pool["bought"][control], weights=p[control])
    sent = t["offers"][t["offers"]["customer_id"].isin(treat["customer_id"])]
    out = fl.offer_outcomes(
        t["orders"], sent.drop(columns="variant"), "repurchase_coupon", days=7, lookback_days=60
    )
    r = loy.offer_uplift(out, 7, n_boot=200)
    row = r.table.iloc[0]
    assert r.design == loy.OBSERVATIONAL
    assert row.ci_low <= benchmark <= row.ci_high
    assert (r.balance["smd_after"].abs() < 0.01).all()  # entropy balancing: exact means
    assert r.balance["smd_before"].abs().max() > 0.2  # the targeting made them differ
