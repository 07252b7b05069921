"""Where the next yuan should go: the split of a monthly budget that maximises the expected
value of new customers on the fitted curves, and the plan's simple ROI rule beside it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from shopbook.analysis.budget.model import ResponseFit
from shopbook.analysis.result import Result
from shopbook.i18n import _, translate

__all__ = [
    "DAYS_PER_MONTH",
    "Allocation",
    "customer_values",
    "reallocate",
    "simple_rule",
    "split_gain",
]

#: Days in the planned month.
DAYS_PER_MONTH = 30


def customer_values(
    days: pd.DataFrame,
    monthly: pd.DataFrame | None = None,
    value_per_customer: float | None = None,
) -> tuple[pd.Series, str]:
    """The value of one new customer per channel, and what it is.

    Parameters
    ----------
    days
        :func:`shopbook.features.budget.channel_days` output (``channel``,
        ``new_customers``, ``first_revenue``).
    monthly
        :func:`shopbook.features.budget.monthly_economics` output with ``gross_profit``
        and ``revenue_costed`` (optional): turns first-order revenue into gross profit at
        the channel's gross margin.
    value_per_customer
        One value for every channel (e.g. the mean CLV of 03's model), overriding both.

    Returns
    -------
    (pandas.Series, str)
        Value per new customer by channel (CNY) and its basis, a phrase for the reader.
    """
    per = days.groupby("channel")[["new_customers", "first_revenue"]].sum()
    if value_per_customer is not None and value_per_customer > 0:
        return pd.Series(float(value_per_customer), index=per.index), _(
            "the value per new customer given ({v:,.0f})"
        ).format(v=value_per_customer)
    first = per["first_revenue"] / per["new_customers"].where(per["new_customers"] > 0)
    if monthly is not None and "gross_profit" in monthly and monthly["uncosted_share"].le(0).all():
        g = monthly.groupby("channel")[["gross_profit", "revenue_costed"]].sum()
        margin = g["gross_profit"] / g["revenue_costed"].where(g["revenue_costed"] > 0)
        return (first * margin.reindex(first.index)).fillna(0.0), _("first-order gross profit")
    return first.fillna(0.0), _("first-order revenue (no unit costs: not profit)")


@dataclass(kw_only=True)
class Allocation(Result):
    """A split of the monthly budget and its expected gain over the current split.

    ``table``: one row per paid channel — ``channel``, ``current`` and ``recommended``
    (CNY per month), ``change`` (share), ``low`` and ``high`` (the bounds), ``at_bound``
    (``"low"``, ``"high"`` or ``""``), ``value_per_customer``, ``marginal_roas`` (value of
    the new customers an extra yuan brings, at the current spend). ``gain``, ``gain_low``,
    ``gain_high``: expected extra value of new customers per month (CNY), with its interval.
    """

    gain: float = np.nan
    gain_low: float = np.nan
    gain_high: float = np.nan
    customers: float = np.nan
    customers_low: float = np.nan
    customers_high: float = np.nan
    budget: float = np.nan


def _set_gain(r: Allocation, fit: ResponseFit, gain: np.ndarray, extra: np.ndarray) -> None:
    """Put a split's gain and extra customers (element 0: the estimate) with intervals on r."""
    r.gain, r.customers = float(gain[0]), float(extra[0])
    r.gain_low, r.gain_high = fit.interval(gain)
    # money to the cent: the optimiser's last digits vary with the BLAS threads, run to run
    r.gain, r.gain_low, r.gain_high = (
        round(float(v), 2) for v in (r.gain, r.gain_low, r.gain_high)
    )
    r.customers_low, r.customers_high = fit.interval(extra)


def split_gain(
    fit: ResponseFit,
    values: pd.Series,
    split: pd.Series,
    reference: pd.Series,
    days: int = DAYS_PER_MONTH,
) -> tuple[np.ndarray, np.ndarray]:
    """Extra value and extra new customers per month of ``split`` over ``reference``.

    Both are CNY per day per paid channel; the result holds one value per draw (element
    0: the estimate), at the demand of the fit's last ``recent_days``.
    """
    a = fit.paid_draws(split)
    b = fit.paid_draws(reference)
    v = values.reindex(a.columns).fillna(0.0)
    extra = (a - b) * days
    return (extra * v).sum(axis=1).to_numpy(), extra.sum(axis=1).to_numpy()


def _bounds(fit: ResponseFit, reference: pd.Series, bound: float) -> tuple[pd.Series, pd.Series]:
    seen = fit.spend_range()
    lo = np.maximum(reference * (1.0 - bound), seen["low"].reindex(reference.index))
    hi = np.minimum(reference * (1.0 + bound), seen["high"].reindex(reference.index))
    return lo.clip(lower=0.0), np.maximum(hi, lo)


def reallocate(
    fit: ResponseFit,
    values: pd.Series,
    budget: float | None = None,
    bound: float = 0.30,
    days: int = DAYS_PER_MONTH,
) -> Allocation:
    """The split of a monthly budget that maximises the expected value of new customers.

    Parameters
    ----------
    fit
        The response model.
    values
        Value per new customer by channel (:func:`customer_values`).
    budget
        Total monthly budget of the paid channels (CNY); default: the current spend
        (mean of the fit's last ``recent_days``) × ``days``.
    bound
        Each channel moves at most this share from its current spend (scaled to the
        budget), and never outside the 7-day mean spend seen in the data.
    days
        Days in the month.

    Returns
    -------
    Allocation
        Skipped when the bounds cannot hold the budget.
    """
    current = fit.current_spend()
    total_now = float(current.sum())
    daily = total_now if budget is None else float(budget) / days
    r = Allocation(budget=daily * days)
    if not total_now > 0:
        return r.skip(_("no spend in the last {n} days").format(n=fit.recent_days))
    reference = current * daily / total_now
    lo, hi = _bounds(fit, reference, bound)
    if lo.sum() > daily + 1e-6 or hi.sum() < daily - 1e-6:
        return r.skip(
            _(
                "the budget ({b:,.0f} a month) cannot be split within ±{p:.0%} of the current "
                "spend and the spend range seen in the data ({lo:,.0f}–{hi:,.0f} a month)"
            ).format(b=daily * days, p=bound, lo=lo.sum() * days, hi=hi.sum() * days)
        )
    params = fit.parameters()
    a = fit.demand_draws["recent"][0]
    v = values.reindex(current.index).fillna(0.0).to_numpy()
    beta = np.array([params[c][0] for c in current.index]) * a
    K = np.array([params[c][1] for c in current.index])

    def neg(x: np.ndarray) -> tuple[float, np.ndarray]:
        f = v * beta * x / (x + K)
        g = v * beta * K / (x + K) ** 2
        return -float(f.sum()), -g

    x0 = np.clip(reference.to_numpy(), lo.to_numpy(), hi.to_numpy())
    x0 = x0 + (daily - x0.sum()) * (hi - lo).to_numpy() / max(float((hi - lo).sum()), 1e-12)
    res = optimize.minimize(
        neg,
        x0,
        jac=True,
        method="SLSQP",
        bounds=list(zip(lo.to_numpy(), hi.to_numpy(), strict=True)),
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - daily, "jac": np.ones_like}],
    )
    best = pd.Series(res.x, index=current.index)
    gain, extra = split_gain(fit, values, best, reference, days)
    _set_gain(r, fit, gain, extra)
    tol = 1e-3 * max(daily, 1.0)
    at = np.where(best <= lo + tol, "low", np.where(best >= hi - tol, "high", ""))
    marg = fit.table.set_index("channel")["marginal_per_kcny"].reindex(current.index) / 1000.0
    r.table = pd.DataFrame(
        {
            "channel": current.index,
            "current": (reference * days).to_numpy(),
            "recommended": (best * days).to_numpy(),
            "change": (best / reference.where(reference > 0) - 1.0).to_numpy(),
            "low": (lo * days).to_numpy(),
            "high": (hi * days).to_numpy(),
            "at_bound": at,
            "value_per_customer": v,
            "marginal_roas": (marg.to_numpy() * v),
        }
    )
    bounded = r.table[r.table["at_bound"] != ""]
    if len(bounded):
        r.note(
            _(
                "The optimum sits on a bound for {channels}: the curves would move more "
                "than ±{p:.0%} or beyond the spend seen in the data, which they cannot vouch for."
            ).format(
                channels=", ".join(
                    f"{translate(c)} ({translate(b)})"
                    for c, b in zip(bounded["channel"], bounded["at_bound"], strict=True)
                ),
                p=bound,
            )
        )
    if not res.success:
        r.note(_("the optimiser stopped early: {why}").format(why=res.message))
    return r


def simple_rule(
    fit: ResponseFit,
    values: pd.Series,
    roi_by_channel: pd.Series,
    budget: float | None = None,
    target: float = 0.5,
    floor: float = 0.0,
    step: float = 0.30,
    days: int = DAYS_PER_MONTH,
) -> Allocation:
    """The plan's rule: raise channels whose ROI beats ``target``, cut those under ``floor``.

    Raised channels get ``+step``, cut ones ``-step`` of their current spend, then every
    channel is scaled so the split spends the budget. Its expected gain over the current
    split is read off the same fitted curves as :func:`reallocate`'s.

    Parameters
    ----------
    roi_by_channel
        ROI per channel (the KPI brief's, e.g. the last month's); a channel without one
        is kept.

    Returns
    -------
    Allocation
        ``table``: ``channel``, ``roi``, ``action`` (``raise``, ``cut``, ``keep``),
        ``current``, ``recommended``, ``change``; the gain with its interval.
    """
    current = fit.current_spend()
    total_now = float(current.sum())
    daily = total_now if budget is None else float(budget) / days
    r = Allocation(budget=daily * days)
    if not total_now > 0:
        return r.skip(_("no spend in the last {n} days").format(n=fit.recent_days))
    reference = current * daily / total_now
    roi = roi_by_channel.reindex(current.index)
    if not roi.notna().any():
        return r.skip(
            _("no channel has an ROI (gross profit unknown): the simple rule has nothing to go by")
        )
    action = np.where(roi > target, "raise", np.where(roi < floor, "cut", "keep"))
    factor = np.where(action == "raise", 1.0 + step, np.where(action == "cut", 1.0 - step, 1.0))
    split = reference * factor
    split = split * daily / float(split.sum())
    gain, extra = split_gain(fit, values, split, reference, days)
    _set_gain(r, fit, gain, extra)
    r.table = pd.DataFrame(
        {
            "channel": current.index,
            "roi": roi.to_numpy(),
            "action": action,
            "current": (reference * days).to_numpy(),
            "recommended": (split * days).to_numpy(),
            "change": (split / reference.where(reference > 0) - 1.0).to_numpy(),
        }
    )
    return r
