"""Customer lifetime value from a purchase model and a spend model, and value by group."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopbook.analysis.clv.base import _finite
from shopbook.analysis.clv.gamma_gamma import GammaGammaFit


def customer_value(
    transactions_fit,
    spend_fit: GammaGammaFit,
    summary: pd.DataFrame,
    horizon: float,
    margin: float = 1.0,
    annual_discount_rate: float = 0.1,
    periods_per_year: float = 365.0,
    steps: int | None = None,
) -> pd.DataFrame:
    """Expected purchases, P(alive) and discounted CLV per customer.

    CLV = Σ_k (E[Y(t_k)] − E[Y(t_{k−1})]) · E(M) · margin / (1 + d)^{t_k / year}, over
    ``steps`` equal steps up to ``horizon`` (the discrete approximation lifetimes uses,
    with monthly steps by default).

    Parameters
    ----------
    transactions_fit
        :class:`BGNBDFit` or :class:`ParetoNBDFit`.
    spend_fit
        :class:`GammaGammaFit` fitted on the same customers' ``monetary_value``.
    summary
        ``customer_id`` (optional), ``frequency``, ``recency``, ``T``, ``monetary_value``.
    horizon
        How far ahead, in the model's time unit.
    margin
        Share of spend that is profit (0–1].
    annual_discount_rate
        Yearly discount rate, e.g. 0.1.
    periods_per_year
        Model time units per year (365 for days, 365/7 for weeks).
    steps
        Discounting steps; default one per month of the horizon.

    Returns
    -------
    pandas.DataFrame
        ``summary``'s columns plus ``p_alive``, ``expected_purchases``,
        ``expected_spend`` (per purchase) and ``clv``.
    """
    if horizon <= 0:
        raise ValueError(f"horizon must be positive, got {horizon}")
    if not 0 < margin <= 1:
        raise ValueError(f"margin must be in (0, 1], got {margin}")
    if annual_discount_rate < 0:
        raise ValueError(f"annual_discount_rate must be ≥ 0, got {annual_discount_rate}")
    x, tx, T = summary["frequency"], summary["recency"], summary["T"]
    if steps is None:
        steps = max(1, int(round(horizon / (periods_per_year / 12))))
    grid = np.linspace(0, horizon, steps + 1)
    spend = _finite(
        spend_fit.expected_spend(x, summary["monetary_value"]), spend_fit, "the expected spend"
    )
    clv = np.zeros(len(summary))
    prev = np.zeros(len(summary))
    for tk in grid[1:]:
        cur = _finite(
            transactions_fit.expected_purchases(tk, x, tx, T),
            transactions_fit,
            "the expected purchases",
        )
        clv += (cur - prev) * spend * margin / (1 + annual_discount_rate) ** (tk / periods_per_year)
        prev = cur
    out = summary.copy()
    out["p_alive"] = _finite(transactions_fit.p_alive(x, tx, T), transactions_fit, "P(alive)")
    out["expected_purchases"] = prev
    out["expected_spend"] = spend
    out["clv"] = clv
    return out


def value_by_group(values: pd.DataFrame, by: str, value: str = "clv") -> pd.DataFrame:
    """Customers, mean and total value, and mean P(alive) per group.

    Parameters
    ----------
    values
        :func:`customer_value` output joined with a group column ``by``.
    by
        Group column (e.g. ``segment`` or ``cohort``).
    value
        Value column.

    Returns
    -------
    pandas.DataFrame
        Index ``by``; ``customers``, ``mean_clv``, ``total_clv``, ``share_of_value``,
        ``mean_p_alive``; sorted by total value.
    """
    g = values.groupby(by, observed=True)
    out = pd.DataFrame(
        {
            "customers": g.size(),
            "mean_clv": g[value].mean(),
            "total_clv": g[value].sum(),
            "mean_p_alive": g["p_alive"].mean(),
        }
    )
    total = out["total_clv"].sum()
    out.insert(3, "share_of_value", out["total_clv"] / total if total > 0 else np.nan)
    return out.sort_values("total_clv", ascending=False)


def top_share(values: pd.Series, fraction: float = 0.1) -> float:
    """Share of the total held by the top ``fraction`` of customers.

    Parameters
    ----------
    values
        One value per customer (e.g. the ``clv`` column of :func:`customer_value`).
    fraction
        The top share of customers, in (0, 1]; the top is ``floor(n · fraction)``
        customers, at least one.

    Returns
    -------
    float
        Σ top values / Σ all values.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    n = max(1, int(len(values) * fraction + 1e-9))
    return values.nlargest(n).sum() / values.sum()


def value_totals(
    values: pd.DataFrame, top_fraction: float = 0.1, alive_above: float = 0.5
) -> pd.Series:
    """The figures a CLV section reports about a customer base.

    Parameters
    ----------
    values
        :func:`customer_value` output (``clv``, ``expected_purchases``, ``p_alive``).
    top_fraction
        The top share of customers whose share of value is reported.
    alive_above
        P(alive) above which a customer counts as probably still active.

    Returns
    -------
    pandas.Series
        ``customers``, ``mean_clv``, ``total_clv``, ``expected_purchases`` (sum),
        ``share_alive`` (share with P(alive) > ``alive_above``) and ``top_share``
        (:func:`top_share` of ``clv``).
    """
    return pd.Series(
        {
            "customers": len(values),
            "mean_clv": values["clv"].mean(),
            "total_clv": values["clv"].sum(),
            "expected_purchases": values["expected_purchases"].sum(),
            "share_alive": (values["p_alive"] > alive_above).mean(),
            "top_share": top_share(values["clv"], top_fraction),
        }
    )
