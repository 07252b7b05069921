"""Customer lifetime value: "buy till you die" models fitted by maximum likelihood.

Models
------
* :func:`fit_bgnbd` — BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the
  easy way"): purchases follow a Poisson process with gamma(r, α) heterogeneity in the
  rate; after each purchase a customer drops out with probability p ~ beta(a, b).
* :func:`fit_pareto_nbd` — Pareto/NBD (Schmittlein, Morrison & Colombo 1987), the
  continuous-time dropout comparison: gamma(r, α) purchase rates, exponential lifetimes
  with gamma(s, β) dropout rates.
* :func:`fit_gamma_gamma` — Gamma-Gamma spend model (Fader, Hardie & Berger 2005;
  Colombo & Jiang 1999) for the mean repeat spend, parameters p, q, γ (called ``v``).
* :func:`fit_sbg` — shifted-beta-geometric contractual retention (Fader & Hardie 2007,
  "How to project customer retention").

Input conventions (lifetimes')
------------------------------
A *customer summary* has one row per customer with

* ``frequency`` — number of repeat purchase periods (distinct purchase days after the
  first one) in the calibration period,
* ``recency`` — age of the customer at the last purchase (0 when ``frequency == 0``),
* ``T`` — age of the customer at the end of the calibration period,
* ``monetary_value`` — mean value of the repeat purchases (Gamma-Gamma only),

all durations in one time unit (days or weeks). :func:`shopbook.features.customers.customer_summary`
builds it in the engine.

Why not lifetimes
-----------------
lifetimes (last release 2020) is unmaintained: it fits one row per customer with
autograd, so a fit at a million customers takes minutes; it optimises a penalised mean
log-likelihood; and it returns no warning when a fit ends on a boundary. Here the
likelihood is evaluated on the *distinct* (frequency, recency, T) patterns weighted by
their counts (Fader & Hardie's own device), with analytic gradients for BG/NBD and
Gamma-Gamma, log-parameterised L-BFGS-B, standard errors from the Hessian of the total
log-likelihood, and explicit errors or warnings for degenerate inputs. The test suite
checks the results against lifetimes and against the published numbers.

Modules
-------
* :mod:`~shopbook.analysis.clv.base` — errors, input checks, the fit result, patterns;
* :mod:`~shopbook.analysis.clv.bgnbd`, :mod:`~shopbook.analysis.clv.pareto_nbd`,
  :mod:`~shopbook.analysis.clv.gamma_gamma`, :mod:`~shopbook.analysis.clv.sbg` — the models;
* :mod:`~shopbook.analysis.clv.compare` — which purchase model fits better;
* :mod:`~shopbook.analysis.clv.holdout` — does it predict (holdout, errors, tracking);
* :mod:`~shopbook.analysis.clv.value` — customer lifetime value and value by group.
"""

from __future__ import annotations

from shopbook.analysis.clv.base import MIN_CUSTOMERS, FitError, FitWarning, patterns
from shopbook.analysis.clv.bgnbd import BGNBDFit, fit_bgnbd, simulate_bgnbd
from shopbook.analysis.clv.compare import aic_verdict, error_table, estimates_text, model_comparison
from shopbook.analysis.clv.gamma_gamma import (
    SPEND_CORRELATION_LIMIT,
    GammaGammaFit,
    fit_gamma_gamma,
    spend_frequency_check,
    spend_frequency_verdict,
)
from shopbook.analysis.clv.holdout import (
    holdout_comparison,
    prediction_error,
    split_dates,
    split_note,
    tracking,
)
from shopbook.analysis.clv.pareto_nbd import ParetoNBDFit, fit_pareto_nbd
from shopbook.analysis.clv.sbg import SBGFit, fit_sbg
from shopbook.analysis.clv.value import customer_value, top_share, value_by_group, value_totals

__all__ = [
    "MIN_CUSTOMERS",
    "FitError",
    "FitWarning",
    "BGNBDFit",
    "ParetoNBDFit",
    "GammaGammaFit",
    "SBGFit",
    "fit_bgnbd",
    "fit_pareto_nbd",
    "fit_gamma_gamma",
    "fit_sbg",
    "patterns",
    "model_comparison",
    "error_table",
    "estimates_text",
    "aic_verdict",
    "holdout_comparison",
    "prediction_error",
    "tracking",
    "customer_value",
    "value_by_group",
    "simulate_bgnbd",
    "spend_frequency_check",
    "spend_frequency_verdict",
    "SPEND_CORRELATION_LIMIT",
    "top_share",
    "value_totals",
    "split_dates",
    "split_note",
]
