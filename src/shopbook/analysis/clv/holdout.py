"""Does it predict? Calibration/holdout split, holdout comparison, errors and tracking."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopbook.analysis.clv.base import _finite, _wsum
from shopbook.features.periods import PERIOD_DAYS, end_note, normalise_period

#: The periods of a fixed length in days (what the tracking and the model's unit can be).
FIXED_PERIODS: tuple[str, ...] = tuple(PERIOD_DAYS)


def split_dates(
    first_day, last_day, calibration_end=None, holdout_end=None, holdout_fraction: float = 0.5
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Calibration and holdout end dates from parameters.

    Parameters
    ----------
    first_day, last_day
        First and last purchase day in the data.
    calibration_end
        Last day of the calibration period; empty/None → ``first_day`` + (1 −
        ``holdout_fraction``) of the span.
    holdout_end
        Last day of the holdout period; empty/None — or a day after ``last_day`` — →
        ``last_day`` (days after the data are not days without purchases;
        :func:`split_note` gives the sentence).
    holdout_fraction
        Share of the span held out when ``calibration_end`` is not given.

    Returns
    -------
    (calibration_end, holdout_end) as normalised timestamps.
    """
    first = pd.Timestamp(first_day).normalize()
    last = pd.Timestamp(last_day).normalize()
    hold = min(pd.Timestamp(holdout_end).normalize(), last) if holdout_end else last
    if calibration_end:
        cal = pd.Timestamp(calibration_end).normalize()
    else:
        if not 0 < holdout_fraction < 1:
            raise ValueError(f"holdout_fraction must be between 0 and 1, got {holdout_fraction}")
        span = (hold - first).days
        cal = first + pd.Timedelta(days=int(round(span * (1 - holdout_fraction))))
    if not first <= cal < hold:
        raise ValueError(
            f"calibration end {cal.date()} must fall between the first purchase day {first.date()} "
            f"and the holdout end {hold.date()}"
        )
    return cal, hold


def split_note(last_day, holdout_end=None) -> str:
    """The sentence for a ``holdout_end`` after the data's last day (``""`` otherwise)."""
    if not holdout_end:
        return ""
    return end_note(holdout_end, pd.Timestamp(last_day).date(), "holdout purchases")


def _holdout_predictions(fit, summary: pd.DataFrame) -> np.ndarray:
    """Each customer's expected holdout purchases (a FitError when any is not finite)."""
    return _finite(
        fit.expected_purchases(
            summary["duration_holdout"], summary["frequency"], summary["recency"], summary["T"]
        ),
        fit,
        "the expected holdout purchases",
    )


def holdout_comparison(fit, summary: pd.DataFrame, max_frequency: int = 7) -> pd.DataFrame:
    """Mean predicted vs actual holdout purchases per customer, by calibration frequency.

    Parameters
    ----------
    fit
        A :class:`BGNBDFit` or :class:`ParetoNBDFit`.
    summary
        ``frequency``, ``recency``, ``T``, ``frequency_holdout``, ``duration_holdout``.
    max_frequency
        Frequencies above it are pooled into one ``"{max}+"`` group.

    Returns
    -------
    pandas.DataFrame
        Index ``calibration_frequency`` (strings ``"0"``, …, ``"7+"``), columns
        ``customers``, ``actual``, ``predicted`` (means per customer) plus a ``total`` row
        with customer-weighted means.

    Raises
    ------
    FitError
        When the fit's predictions are not finite (a degenerate fit).
    """
    pred = _holdout_predictions(fit, summary)
    f = summary["frequency"].astype(int).clip(upper=max_frequency)
    labels = f.astype(str).where(f < max_frequency, f"{max_frequency}+")
    df = pd.DataFrame(
        {
            "group": labels,
            "f": f,
            "actual": summary["frequency_holdout"].to_numpy(float),
            "predicted": pred,
        }
    )
    out = df.groupby(["f", "group"]).agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    out = out.reset_index(level="f", drop=True)
    out.index.name = "calibration_frequency"
    out.loc["total"] = [len(df), df["actual"].mean(), df["predicted"].mean()]
    out["customers"] = out["customers"].astype(int)
    return out


def prediction_error(fit, summary: pd.DataFrame) -> pd.Series:
    """Honest holdout error figures of a BTYD fit, next to a naive benchmark.

    The naive benchmark projects each customer's calibration rate ``frequency / T`` over
    the holdout (no dropout) — a model that does not beat it is not worth showing.

    Parameters
    ----------
    fit
        A :class:`BGNBDFit` or :class:`ParetoNBDFit`.
    summary
        ``frequency``, ``recency``, ``T``, ``frequency_holdout``, ``duration_holdout``.

    Returns
    -------
    pandas.Series
        ``customers``, ``actual_total``, ``predicted_total``, ``total_error_pct``
        (predicted/actual − 1, in %), ``mae`` and ``rmse`` per customer, ``correlation``,
        and the same ``naive_*`` figures.
    """
    actual = summary["frequency_holdout"].to_numpy(float)
    pred = _holdout_predictions(fit, summary)
    T = summary["T"].to_numpy(float)
    naive = np.where(
        T > 0, summary["frequency"].to_numpy(float) / np.where(T > 0, T, 1.0), 0.0
    ) * summary["duration_holdout"].to_numpy(float)

    def figures(p, prefix=""):
        tot = actual.sum()
        return {
            f"{prefix}predicted_total": float(p.sum()),
            f"{prefix}total_error_pct": float(100 * (p.sum() / tot - 1)) if tot > 0 else np.nan,
            f"{prefix}mae": float(np.mean(np.abs(p - actual))),
            f"{prefix}rmse": float(np.sqrt(np.mean((p - actual) ** 2))),
            f"{prefix}correlation": float(np.corrcoef(p, actual)[0, 1])
            if np.std(p) > 0 and np.std(actual) > 0
            else np.nan,
        }

    out = {"customers": float(len(actual)), "actual_total": float(actual.sum())}
    out.update(figures(pred))
    out.update(figures(naive, "naive_"))
    return pd.Series(out)


def tracking(
    fit,
    births: pd.DataFrame,
    repeats: pd.DataFrame,
    start,
    calibration_end,
    end,
    period: str = "week",
    model_period: str = "day",
) -> pd.DataFrame:
    r"""Cumulative repeat purchases per period: actual vs the model's expectation.

    The expectation for calendar day ``d`` is ``Σ_i E[X(d − first_i)]`` over the
    customers acquired up to the calibration end (Fader, Hardie & Lee 2005, fig. 2).

    Parameters
    ----------
    fit
        A fitted BG/NBD or Pareto/NBD model (durations in ``model_period`` units).
    births
        ``first_day`` (date) and ``customers`` — acquisitions per day of the tracked
        customers.
    repeats
        ``day`` (date) and ``repeat_purchases`` — repeat purchase periods per day of the
        same customers.
    start, calibration_end, end
        First day of tracking, calibration end, last day.
    period
        Length of a tracking period: ``"day"`` or ``"week"``
        (:mod:`shopbook.features.periods`).
    model_period
        The model's time unit, as its summary was built: ``"day"`` or ``"week"``.

    Returns
    -------
    pandas.DataFrame
        One row per period: ``period_start`` (timestamp), ``actual``, ``expected`` (per
        period) and ``actual_cum``, ``expected_cum``, ``holdout`` (bool).
    """
    step_days = PERIOD_DAYS[normalise_period(period, FIXED_PERIODS)]
    model_days = PERIOD_DAYS[normalise_period(model_period, FIXED_PERIODS)]
    start = pd.Timestamp(start).normalize()
    cal = pd.Timestamp(calibration_end).normalize()
    end = pd.Timestamp(end).normalize()
    n_days = (end - start).days + 1
    edges = np.arange(0, n_days + step_days, step_days)
    edges = edges[edges <= n_days]
    if edges[-1] < n_days:
        edges = np.append(edges, n_days)
    b_day = (pd.to_datetime(births["first_day"]) - start).dt.days.to_numpy(float)
    b_n = births["customers"].to_numpy(float)
    # Expected cumulative repeat purchases at each period end (day offset e, inclusive).
    exp_cum = np.array(
        [
            _wsum(
                b_n,
                np.asarray(
                    fit.expected_purchases_new(np.clip(e - 1 - b_day, 0, None) / model_days),
                    float,
                ),
            )
            for e in edges[1:]
        ]
    )
    exp_cum = _finite(exp_cum, fit, "the expected cumulative repeat purchases")
    r_day = (pd.to_datetime(repeats["day"]) - start).dt.days.to_numpy(float)
    r_n = repeats["repeat_purchases"].to_numpy(float)
    act = (
        np.histogram(r_day, bins=edges - 0.5, weights=r_n)[0]
        if len(r_day)
        else np.zeros(len(edges) - 1)
    )
    period_start = start + pd.to_timedelta(edges[:-1], unit="D")
    return pd.DataFrame(
        {
            "period_start": period_start,
            "actual": act,
            "expected": np.diff(np.concatenate([[0.0], exp_cum])),
            "actual_cum": np.cumsum(act),
            "expected_cum": exp_cum,
            "holdout": period_start > cal,
        }
    )
