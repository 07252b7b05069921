"""Price elasticity: how demand answers price, with confounding handled.

Everything here works on a small **panel** frame (one row per entity × period, e.g. the
SKU × week panel of :func:`shopbook.features.panels.sku_week_panel`), not only ours: the
column names are parameters. Each job has its module:

* :mod:`~.panel` — :func:`analysable` (is there anything to estimate, with the one skip
  reason every section shares; adds the demand history), :func:`pick_category`,
  :func:`top_skus`.
* :mod:`~.history` — :func:`demand_history` (each SKU's recent units and discounts as
  columns) and :func:`history_columns` (their names).
* :mod:`~.variation` — :func:`price_variation`, :func:`variation_by_group` and
  :func:`promo_calendar`: what price variation there is to learn from, per SKU.
* :mod:`~.loglog` — :func:`fit_loglog`: log-log regression of quantity on price with
  absorbed fixed effects (entity, time, or any column), standard errors clustered by
  entity. Pooled, or one row per group with ``by=``.
* :mod:`~.dml` — :func:`fit_dml`: double machine learning (partially linear model,
  cross-fitted residual-on-residual with scikit-learn learners) for when price moves
  with demand shocks the fixed effects do not absorb; repeated over several sample
  splits (median estimate, median-aggregated SE), with the nuisance models' out-of-fold
  R² and a ``fragile`` flag (fixed-effects estimate beside it) when the price model does
  not beat its mean or the splits disagree.
* :mod:`~.fit` — :class:`ElasticityFit`, the result of both, and :func:`compare_fits` /
  :func:`stack_fits` to set two fits side by side.
* :mod:`~.per_sku` — :func:`sku_elasticities` and :func:`shrink`: one elasticity per
  SKU, shrunk toward its category by empirical Bayes so thin SKUs are not wild.
* :mod:`~.cross` — :func:`cross_price`: the cross-price elasticity matrix of a few SKUs,
  with intervals (:class:`CrossPrice`).
* :mod:`~.pricing` — :func:`optimal_price`: revenue and gross-profit curves under
  constant elasticity and the profit-maximising price **inside the observed price
  support** (never beyond); :func:`recommend_price` for one SKU of a panel and
  :func:`pick_sku` to choose it (:class:`PriceRecommendation`).
* :mod:`~.promo` — :func:`promo_response`: demand uplift by discount depth and the
  post-promotion dip (:class:`PromoResponse`).

Every result follows :class:`shopbook.analysis.result.Result`: ``table``, ``notes`` and
``ok()`` / ``why()`` — a result that could not be estimated says why instead of raising.
Bad input is never dropped silently: rows with a quantity or price ≤ 0 (whose log is
undefined) or missing values, entities whose price never moves, single-period panels —
each is counted and described in the result's ``notes`` (and ``counts``).

Implementation notes
--------------------
Fixed effects are absorbed by the within transformation (``_fe``); that gives the same
coefficients and clustered standard errors as OLS with one dummy per level (a test
checks it against statsmodels with dummies) without building the dummies. linearmodels'
``PanelOLS`` does the same but would add a dependency (and formulaic, pyhdfe) for ~40
lines. DML is written on scikit-learn rather than DoubleML (see :mod:`~.dml`); a test checks it
against DoubleML's ``DoubleMLPLR`` on the same sample splits.
"""

from __future__ import annotations

from shopbook.analysis.elasticity._common import CONSTANT_PRICE_TOL
from shopbook.analysis.elasticity.cross import CrossPrice, cross_price
from shopbook.analysis.elasticity.dml import fit_dml
from shopbook.analysis.elasticity.fit import ElasticityFit, compare_fits, stack_fits
from shopbook.analysis.elasticity.history import demand_history, history_columns
from shopbook.analysis.elasticity.loglog import fit_loglog
from shopbook.analysis.elasticity.panel import (
    NO_CATEGORY,
    NO_ORDER_LINES,
    NO_SALES,
    PanelData,
    analysable,
    pick_category,
    top_skus,
)
from shopbook.analysis.elasticity.per_sku import shrink, sku_elasticities
from shopbook.analysis.elasticity.pricing import (
    PriceRecommendation,
    optimal_price,
    pick_sku,
    recommend_price,
)
from shopbook.analysis.elasticity.promo import (
    DEFAULT_DEPTH_BINS,
    PromoResponse,
    depth_bins,
    promo_response,
)
from shopbook.analysis.elasticity.variation import (
    price_variation,
    promo_calendar,
    variation_by_group,
)

__all__ = [
    "CONSTANT_PRICE_TOL",
    "DEFAULT_DEPTH_BINS",
    "NO_CATEGORY",
    "NO_ORDER_LINES",
    "NO_SALES",
    "CrossPrice",
    "ElasticityFit",
    "PanelData",
    "PriceRecommendation",
    "PromoResponse",
    "analysable",
    "compare_fits",
    "cross_price",
    "demand_history",
    "depth_bins",
    "fit_dml",
    "fit_loglog",
    "history_columns",
    "optimal_price",
    "pick_category",
    "pick_sku",
    "price_variation",
    "promo_calendar",
    "promo_response",
    "recommend_price",
    "shrink",
    "sku_elasticities",
    "stack_fits",
    "top_skus",
    "variation_by_group",
]
