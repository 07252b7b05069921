"""Which purchase model fits better: the comparison table and its verdict (by AIC)."""

from __future__ import annotations

import pandas as pd

from shopbook.analysis.clv.base import _Fit
from shopbook.i18n import _, translate


def model_comparison(*fits: _Fit) -> pd.DataFrame:
    """Fitted models side by side, as a reader reads them.

    Parameters
    ----------
    *fits
        Fitted models (e.g. :class:`~shopbook.analysis.clv.BGNBDFit` and
        :class:`~shopbook.analysis.clv.ParetoNBDFit` on the same summary).

    Returns
    -------
    pandas.DataFrame
        One row per fit, in the order given: ``model``, ``log_likelihood``, ``aic``
        (lower is better), ``n_params`` and ``estimates`` — the parameters as one short
        text (``r 0.645 · α 11.2 · a 0.766 · b 2.95``, three significant digits), not a
        dict of 16-digit floats. The raw values stay on each fit's ``params``.
    """
    return pd.DataFrame(
        {
            "model": [f.model for f in fits],
            "log_likelihood": [round(float(f.log_likelihood), 1) for f in fits],
            "aic": [round(float(f.aic), 1) for f in fits],
            "n_params": [len(f.params) for f in fits],
            "estimates": [estimates_text(f.params) for f in fits],
        }
    )


#: Greek letters for the parameter names of the BTYD papers.
_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "s": "s"}


def estimates_text(params: dict[str, float]) -> str:
    """Parameters as one short text: ``{"r": 0.6454…, "alpha": 11.21…}`` → ``r 0.645 · α 11.2``.

    Three significant digits; from 1,000 on, whole numbers with separators (``β 11,123``).
    """

    def number(v: float) -> str:
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"

    return " · ".join(f"{_GREEK.get(k, k)} {number(float(v))}" for k, v in params.items())


#: Labels of the holdout error figures (rows of :func:`error_table`), in reading order.
ERROR_ROWS = {
    "customers": _("Customers"),
    "actual_total": _("Repeat purchases in the holdout"),
    "predicted_total": _("Predicted repeat purchases"),
    "total_error_pct": _("Error of the total (%)"),
    "mae": _("Mean absolute error per customer (purchases)"),
    "rmse": _("Root mean square error per customer (purchases)"),
    "correlation": _("Correlation of predicted and actual"),
    "naive_predicted_total": _("Naive projection: predicted repeat purchases"),
    "naive_total_error_pct": _("Naive projection: error of the total (%)"),
    "naive_mae": _("Naive projection: mean absolute error (purchases)"),
    "naive_rmse": _("Naive projection: root mean square error (purchases)"),
    "naive_correlation": _("Naive projection: correlation with actual"),
}


def error_table(errors: pd.DataFrame) -> pd.DataFrame:
    """The holdout error figures with a label per row (units in the label).

    Parameters
    ----------
    errors
        One column per model, rows the keys of
        :func:`~shopbook.analysis.clv.prediction_error` (``customers``,
        ``actual_total``, ``total_error_pct``, ``mae`` … and their ``naive_`` twins).

    Returns
    -------
    pandas.DataFrame
        A ``figure`` column (the translated label) and one column per model; counts
        rounded to whole purchases, errors to one decimal, correlations to three.
    """
    rows = [k for k in ERROR_ROWS if k in errors.index]
    out = errors.loc[rows].copy()
    for k in rows:
        digits = 0 if k.endswith(("total", "customers")) else (3 if "correlation" in k else 2)
        digits = 1 if k.endswith("error_pct") else digits
        out.loc[k] = out.loc[k].astype(float).round(digits)
    out.insert(0, "figure", [translate(ERROR_ROWS[k]) for k in rows])
    return out.reset_index(drop=True)


def aic_verdict(candidate: _Fit, reference: _Fit) -> str:
    """Whether ``candidate`` fits ``"better"`` or ``"no better"`` than ``reference``.

    By AIC (lower is better; a tie is "no better"), so models with different numbers of
    parameters compare fairly. Both must be fitted on the same customers.
    """
    return _("better") if candidate.aic < reference.aic else _("no better")
