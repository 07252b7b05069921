"""The tier-upgrade regression discontinuity: the feature's windows by hand, the estimate
equal to rdrobust's conventional one, no jump when no effect is planted, and the planted
effect recovered (the coverage over seeds is in test_loyalty_planted.py)."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from shopbook.analysis import loyalty as loy
from shopbook.data.synthetic import generate
from shopbook.data.synthetic.parameters import LOYALTY
from shopbook.features import loyalty as fl


def test_review_purchases_windows_by_hand():
    ts = [
        "2024-03-31 23:00",
        "2024-04-01 00:00",
        "2024-04-30 23:59",
        "2024-05-01 00:00",
        "2024-02-10 12:00",
    ]
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(5)],
            "customer_id": ["a", "b", "c", "d", "e"],
            "order_ts": pd.to_datetime(ts),
            "status": "paid",
            "net_amount": 10.0,
        }
    )
    reviews = [pd.Timestamp("2023-12-31"), pd.Timestamp("2024-03-31")]
    got = fl.review_purchases(orders, reviews, days=30).set_index(["customer_id", "review"])
    r = pd.Timestamp("2024-03-31")
    # the review day itself belongs to the period before it; the 30 days after start on the
    # next day: 1 Apr 00:00 … 30 Apr 23:59 (1 May is out)
    assert got.loc[("a", r)].tolist() == [True, False]
    assert got.loc[("b", r)].tolist() == [False, True]
    assert got.loc[("c", r)].tolist() == [False, True]
    assert ("d", r) not in got.index
    assert got.loc[("e", r)].tolist() == [True, False]


def test_the_generator_uses_the_shipped_tier_rules():
    rules = loy.load_tier_rules()
    planted = pd.DataFrame(LOYALTY["tiers"]["rules"], columns=["tier", "up", "keep"])
    assert list(planted["tier"]) == list(rules["tier"])
    assert np.allclose(planted["up"], rules["upgrade_spend"])
    assert np.allclose(planted["keep"], rules["keep_spend"])


def test_the_generator_moves_up_whom_the_rules_move_up(synthetic_shop):
    shop = synthetic_shop(customers=8000, seed=0)
    o = ibis.memtable(shop.tables["orders"])
    paths = loy.tier_paths(fl.monthly_spend(o), loy.load_tier_rules())
    ups = paths.table[paths.table["move"] == "up"].groupby("review").size()
    planted = shop.truth["loyalty"]["tiers"]["upgrades_per_review"]
    assert planted and all(ups[pd.Timestamp(d)] == n for d, n in planted.items() if n)


def test_one_threshold_one_review_equals_rdrobust():
    rdrobust = pytest.importorskip("rdrobust").rdrobust
    rng = np.random.default_rng(3)
    n = 3000
    x = rng.uniform(-0.3, 0.3, n)
    p = 0.2 + 0.3 * x + 0.1 * (x >= 0)
    y = rng.random(n) < p
    rules = loy.load_tier_rules()
    r1, r2 = pd.Timestamp("2024-03-31"), pd.Timestamp("2024-06-30")
    ids = [f"c{i}" for i in range(n)]
    spend = (1 + x) * 300.0
    table = pd.concat(
        [
            pd.DataFrame({"customer_id": ids, "review": r1, "spend_12m": 100.0, "rank": 0}),
            pd.DataFrame({"customer_id": ids, "review": r2, "spend_12m": spend, "rank": 0}),
        ],
        ignore_index=True,
    )
    paths = loy.TierPaths(table=table, reviews=[r1, r2])
    pur = pd.DataFrame({"customer_id": ids, "review": r2, "bought_before": True, "bought_after": y})
    r = loy.upgrade_effect(paths, pur, rules, "2024-12-31", days=30, band=0.3)
    assert r.ok(), r.why()
    ours = r.table.set_index("tier").loc["silver"]
    peer = rdrobust(y.astype(float), x, c=0.0, h=0.3, p=1, kernel="triangular")
    assert ours["effect"] == pytest.approx(float(peer.coef.iloc[0, 0]), abs=1e-9)
    assert r.table.iloc[0]["effect"] == pytest.approx(ours["effect"], abs=1e-12)


def test_no_jump_when_no_upgrade_effect_is_planted(monkeypatch, tier_upgrade_effect):
    monkeypatch.setitem(LOYALTY["tiers"], "lift", 0.0)
    shop = generate(customers=20000, seed=0)
    assert shop.truth["loyalty"]["tiers"]["realised"]["near"]["uplift_pp"] == 0
    r = tier_upgrade_effect(shop)
    row = r.table.iloc[0]
    # members above a threshold all bought since the last review: compared with all
    # members below, they would show a jump with no effect; among recent buyers, none
    assert row.tier == "all" and row.ci_low <= 0 <= row.ci_high


def test_the_planted_upgrade_effect_is_recovered(synthetic_shop, tier_upgrade_effect):
    shop = synthetic_shop(customers=20000, seed=0)
    r = tier_upgrade_effect(shop)
    row = r.table.iloc[0]
    want = shop.truth["loyalty"]["tiers"]["realised"]["near"]["uplift_pp"] / 100
    assert want > 0.05  # a real effect: the upgrade doubles the add-to-cart rate for 30 days
    assert row.ci_low <= want <= row.ci_high
    assert row.ci_low > 0
    assert "Regression discontinuity" in r.notes[0]


def test_too_little_data_is_skipped_with_the_reason(synthetic_shop):
    shop = synthetic_shop(customers=8000, seed=0)
    o = ibis.memtable(shop.tables["orders"])
    rules = loy.load_tier_rules()
    paths = loy.tier_paths(fl.monthly_spend(o), rules)
    pur = fl.review_purchases(o, paths.reviews, 30)
    r = loy.upgrade_effect(paths, pur, rules, paths.reviews[1], 30)
    assert not r.ok() and "two reviews" in r.why()
    r = loy.upgrade_effect(loy.TierPaths.skipped("no purchases"), pur, rules, "2024-12-31")
    assert r.why() == "no purchases"


def test_on_cdnow_the_tiers_run_and_the_upgrade_effect_is_skipped_plainly(cdnow):
    """CDNOW: 18 months of orders, so two reviews, the second at the data's end — tiers and
    moves run, the upgrade effect says why it cannot."""
    o = ibis.memtable(cdnow)
    rules = loy.load_tier_rules()
    paths = loy.tier_paths(fl.monthly_spend(o), rules)
    assert paths.ok() and len(paths.reviews) == 2
    assert loy.tier_migration(paths, rules).ok()
    pur = fl.review_purchases(o, paths.reviews, 30)
    r = loy.upgrade_effect(paths, pur, rules, cdnow["order_ts"].max(), 30)
    assert not r.ok()
    assert r.why() == "the upgrade effect needs two reviews with 30 days of data after the second"
