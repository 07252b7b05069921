"""Coupon and campaign uplift on repurchase within N days of the send.

Two designs, chosen by what the offers log holds:

* **randomised** — the log has a held-out ``control`` arm: the uplift is the difference
  of the arms' repurchase rates with a Newcombe (score) interval and a score test
  (statsmodels);
* **observational** — no control arm: the offered customers are compared with the
  recent buyers who were not offered, weighted to look like the offered ones (ATT
  weights ``e / (1 − e)`` from a logistic propensity on log recency, frequency and spend
  before the send), with a customer bootstrap interval. It is labelled so: the weights
  balance what was measured, not why the shop chose whom to send to.

The input is :func:`shopbook.features.loyalty.offer_outcomes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

from shopbook.analysis.result import Result
from shopbook.i18n import _

RANDOMISED, OBSERVATIONAL = "randomised", "observational"
_COVARIATES = ("recency_days", "frequency", "monetary")


@dataclass(kw_only=True)
class Uplift(Result):
    """A campaign's uplift.

    Attributes
    ----------
    table
        One row: ``design``, ``treated``, ``comparison`` (customers), ``treated_rate``,
        ``comparison_rate``, ``uplift`` (difference, share points as a fraction),
        ``ci_low``, ``ci_high``, ``p_value`` (randomised only), ``days``.
    balance
        Observational: standardised mean differences of the covariates before and after
        weighting.
    """

    balance: pd.DataFrame = field(default_factory=pd.DataFrame)
    design: str = ""


def _covariates(df: pd.DataFrame) -> np.ndarray:
    rec = df["recency_days"].fillna(df["recency_days"].max()).to_numpy(float)
    x = np.column_stack(
        [
            np.log1p(np.maximum(rec, 0)),
            np.log1p(df["frequency"].to_numpy(float)),
            np.log1p(df["monetary"].to_numpy(float)),
        ]
    )
    return x


def _smd(x: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
    def wm(a: np.ndarray, ww: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = np.average(a, axis=0, weights=ww)
        v = np.average((a - m) ** 2, axis=0, weights=ww)
        return m, v

    m1, v1 = wm(x[t], w[t])
    m0, v0 = wm(x[~t], w[~t])
    return (m1 - m0) / np.sqrt(np.maximum((v1 + v0) / 2, 1e-12))


def _att_weights(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """ATT weights by entropy balancing (Hainmueller 2012): the comparison customers'
    weights closest to uniform (in entropy) whose weighted means of the covariates and
    their squares equal the treated customers' — balance by construction, where a
    logistic propensity score balances only as far as its form fits the targeting rule.
    Falls back to the logistic propensity odds when the means cannot be matched (no
    overlap). Treated rows get weight 1; comparison weights sum to the treated count.

    Written here (a convex dual of a few variables, ``scipy.optimize``) rather than a
    package: the Python ports of entropy balancing are unmaintained."""
    z = np.column_stack([x, x**2])
    sd = z.std(axis=0)
    z = (z - z[t].mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    z0 = z[~t]

    def dual(lam: np.ndarray) -> tuple[float, np.ndarray]:
        a = z0 @ lam
        m = a.max()
        e = np.exp(a - m)
        return float(m + np.log(e.sum())), (e / e.sum()) @ z0

    fit = optimize.minimize(dual, np.zeros(z.shape[1]), jac=True, method="BFGS")
    a = z0 @ fit.x
    w0 = np.exp(a - a.max())
    w0 /= w0.sum()
    if not fit.success or np.abs(w0 @ z0).max() > 1e-3:
        design = sm.add_constant(x, has_constant="add")
        lr = sm.Logit(t.astype(float), design).fit(disp=0, maxiter=100)
        e = np.clip(lr.predict(design), 1e-4, 1 - 1e-4)
        return np.where(t, 1.0, e / (1 - e))
    w = np.ones(len(t))
    w[~t] = w0 * t.sum()
    return w


def offer_uplift(
    outcomes: pd.DataFrame,
    days: int,
    n_boot: int = 300,
    seed: int = 0,
    level: float = 0.95,
    min_group: int = 30,
) -> Uplift:
    """The uplift of an offer on repurchase within ``days`` of the send.

    Parameters
    ----------
    outcomes
        :func:`shopbook.features.loyalty.offer_outcomes`: ``group`` (``treatment``,
        ``control``, ``not offered``), ``bought`` and the covariates.
    days
        The outcome window (for the table).
    n_boot, seed
        Bootstrap of the observational design.
    min_group
        Fewest customers per group.
    """
    g = outcomes["group"].astype(str)
    t_rows = outcomes[g == "treatment"]
    if len(t_rows) < min_group:
        return Uplift.skipped(_("fewer than {n} customers were sent the offer").format(n=min_group))
    a = (1 - level) / 2
    if int((g == "control").sum()) >= min_group:
        c_rows = outcomes[g == "control"]
        k1, n1 = int(t_rows["bought"].sum()), len(t_rows)
        k0, n0 = int(c_rows["bought"].sum()), len(c_rows)
        lo, hi = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", alpha=1 - level)
        p = float(test_proportions_2indep(k1, n1, k0, n0, method="score").pvalue)
        res = Uplift(design=RANDOMISED)
        row = {
            "design": RANDOMISED,
            "treated": n1,
            "comparison": n0,
            "treated_rate": k1 / n1,
            "comparison_rate": k0 / n0,
            "uplift": k1 / n1 - k0 / n0,
            "ci_low": float(lo),
            "ci_high": float(hi),
            "p_value": p,
            "days": int(days),
        }
        res.table = pd.DataFrame([row])
        res.note(_("Randomised: the control arm was held out at random and not sent the offer."))
        return res
    pool = outcomes[g.isin(["treatment", "not offered"])].reset_index(drop=True)
    t = (pool["group"].astype(str) == "treatment").to_numpy()
    if int((~t).sum()) < min_group:
        return Uplift.skipped(
            _(
                "no held-out control and fewer than {n} recent buyers without the offer "
                "to compare with"
            ).format(n=min_group)
        )
    x = _covariates(pool)
    y = pool["bought"].to_numpy(float)

    def estimate(idx: np.ndarray) -> float:
        tt, xx, yy = t[idx], x[idx], y[idx]
        if tt.all() or not tt.any():
            return float("nan")
        w = _att_weights(xx, tt)
        return float(np.average(yy[tt], weights=w[tt]) - np.average(yy[~tt], weights=w[~tt]))

    every = np.arange(len(pool))
    w = _att_weights(x, t)
    est = estimate(every)
    rng = np.random.default_rng(seed)
    boots = np.array([estimate(rng.choice(every, len(every))) for _ in range(n_boot)])
    lo, hi = np.nanquantile(boots, [a, 1 - a])
    balance = pd.DataFrame(
        {
            "covariate": list(_COVARIATES),
            "smd_before": _smd(x, t, np.ones(len(t))),
            "smd_after": _smd(x, t, w),
        }
    )
    row = {
        "design": OBSERVATIONAL,
        "treated": int(t.sum()),
        "comparison": int((~t).sum()),
        "treated_rate": float(y[t].mean()),
        "comparison_rate": float(np.average(y[~t], weights=w[~t])),
        "uplift": est,
        "ci_low": float(lo),
        "ci_high": float(hi),
        "p_value": float("nan"),
        "days": int(days),
    }
    res = Uplift(table=pd.DataFrame([row]), balance=balance, design=OBSERVATIONAL)
    res.note(
        _(
            "Observational: no held-out control, so the offered customers are compared with "
            "recent buyers who were not offered, weighted so that their recency, frequency "
            "and spend match the offered customers' (entropy balancing); choices the shop "
            "made on anything else are not corrected for."
        )
    )
    return res
