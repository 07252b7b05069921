"""Tables over a per-unit frame: every metric × treatment, and segments.

:func:`compare_metric` compares one named metric (:data:`METRICS`) between two arms of
a per-unit frame; :func:`metric_table` does every metric × treatment with
multiplicity-adjusted p-values; :func:`segment_table` the exploratory breakdown.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from shopbook.analysis.abtest.comparisons import (
    Comparison,
    compare_means_units,
    compare_proportions,
    compare_ratios,
)
from shopbook.analysis.abtest.errors import ABTestError
from shopbook.analysis.abtest.multiplicity import METHOD_NAMES, adjust_pvalues
from shopbook.analysis.abtest.srm import check_units
from shopbook.i18n import _

__all__ = ["METRICS", "ROW_COLUMNS", "compare_metric", "metric_table", "segment_table"]

#: Metrics :func:`metric_table` knows: name → (kind, columns, label).
METRICS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "conversion": ("proportion", ("converted",), "conversion rate"),
    "revenue_per_unit": ("mean", ("revenue",), "revenue per unit"),
    "orders_per_unit": ("mean", ("orders",), "orders per unit"),
    "aov": ("ratio", ("revenue", "orders"), "average order value"),
    "refund_rate": ("ratio", ("refunded_orders", "orders"), "refund rate (of orders)"),
}


#: Columns of :meth:`Comparison.row`, the body of every comparison table.
ROW_COLUMNS = (
    "metric",
    "control",
    "treatment",
    "abs_lift",
    "abs_lo",
    "abs_hi",
    "rel_lift",
    "rel_lo",
    "rel_hi",
    "p_value",
    "n_control",
    "n_treatment",
    "method",
    "note",
)


def compare_metric(
    units: pd.DataFrame,
    metric: str,
    control: str,
    treatment: str,
    alpha: float = 0.05,
    cap_quantile: float | None = None,
    variant_col: str = "variant",
) -> Comparison:
    """Compare one named metric (see :data:`METRICS`) between two arms of a per-unit frame.

    Parameters
    ----------
    units
        One row per unit with ``variant`` and the metric's columns: ``converted``
        (0/1), ``revenue``, ``orders``, ``refunded_orders``.
    metric
        A key of :data:`METRICS`.
    control, treatment
        Variant names.
    alpha
        One minus the confidence level.
    cap_quantile
        Winsorising quantile for ``revenue_per_unit``; for ``aov`` the per-unit column
        ``revenue_capped`` (revenue with each order capped, see
        :func:`shopbook.features.experiments.unit_metrics`) is used when present,
        otherwise AOV is left uncapped (said in ``note``).
    variant_col
        Column holding the arm.

    Returns
    -------
    Comparison
    """
    kind, cols, label = METRICS[metric]
    missing = [c for c in (variant_col, *cols) if c not in units.columns]
    if missing:
        raise ABTestError(f"{label}: the per-unit table has no column(s) {', '.join(missing)}")
    a = units[units[variant_col] == control]
    b = units[units[variant_col] == treatment]
    if kind == "proportion":
        col = cols[0]
        return compare_proportions(
            a[col].sum(), len(a), b[col].sum(), len(b), alpha=alpha, metric=label
        )
    if kind == "mean":
        cap = cap_quantile if cols[0] == "revenue" else None
        return compare_means_units(
            a[cols[0]], b[cols[0]], alpha=alpha, cap_quantile=cap, metric=label
        )
    num, den = cols
    note = ""
    if num == "revenue" and cap_quantile is not None and cap_quantile < 1:
        # Order value must be capped order by order. A cap on revenue per unit (or on a
        # unit's mean order value) bites differently on units with more orders, and the
        # treatment may change how many orders units have: that biases the ratio.
        if "revenue_capped" in units.columns:
            num = "revenue_capped"
            note = _("order values capped at the order-level quantile")
        else:
            note = _("not capped: per-order values are not in the per-unit table")
    na, nb = a[num].to_numpy(float), b[num].to_numpy(float)
    da, db = a[den].to_numpy(float), b[den].to_numpy(float)
    out = compare_ratios(na, da, nb, db, alpha=alpha, metric=label)
    return out.with_note(note)


def metric_table(
    units: pd.DataFrame,
    control: str,
    treatments: Sequence[str] | None = None,
    metrics: Sequence[str] = ("conversion", "revenue_per_unit", "orders_per_unit", "aov"),
    alpha: float = 0.05,
    cap_quantile: float | None = None,
    adjust: str = "holm",
    variant_col: str = "variant",
) -> pd.DataFrame:
    """Every metric × treatment against control, with multiplicity-adjusted p-values.

    Parameters
    ----------
    units
        Per-unit frame (see :func:`compare_metric` for the columns).
    control
        The control variant.
    treatments
        Variants compared with the control (default: all others, in sorted order).
    metrics
        Keys of :data:`METRICS`; metrics whose columns are missing are left out.
    alpha
        One minus the confidence level.
    cap_quantile
        Winsorising quantile for revenue.
    adjust
        ``multipletests`` method applied over all rows (``"holm"`` or ``"fdr_bh"``).
    variant_col
        Column holding the arm.

    Returns
    -------
    DataFrame
        One row per (variant, metric): the :meth:`Comparison.row` fields plus
        ``variant``, ``p_adjusted`` and ``adjustment``. A metric that cannot be
        computed (e.g. no orders) gets no numbers and its reason in ``note``.
    """
    check_units(units, variant_col=variant_col)
    if treatments is None:
        treatments = sorted(v for v in units[variant_col].astype(str).unique() if v != control)
    rows = []
    for t in treatments:
        for m in metrics:
            kind, cols, label = METRICS[m]
            if any(c not in units.columns for c in cols):
                continue
            try:
                row = compare_metric(units, m, control, t, alpha, cap_quantile, variant_col).row()
            except ABTestError as err:
                row = {"metric": label, "note": str(err)}
            rows.append({"variant": t, "key": m, **row})
    out = pd.DataFrame(rows, columns=["variant", "key", *ROW_COLUMNS])
    out["p_adjusted"] = adjust_pvalues(out["p_value"].astype(float), adjust) if len(out) else []
    out["adjustment"] = METHOD_NAMES.get(adjust, adjust)
    return out


def segment_table(
    units: pd.DataFrame,
    control: str,
    treatment: str,
    by: Sequence[str],
    metric: str = "conversion",
    alpha: float = 0.05,
    adjust: str = "holm",
    min_units: int = 100,
    variant_col: str = "variant",
) -> pd.DataFrame:
    """Exploratory breakdown of one metric by segment, with adjusted p-values.

    Parameters
    ----------
    units
        Per-unit frame with ``variant``, the metric's columns and the segment columns.
    control, treatment
        Variant names.
    by
        Segment columns, e.g. ``["device", "channel", "new_vs_returning"]``; each is
        broken down separately.
    metric
        A key of :data:`METRICS`.
    alpha
        One minus the confidence level.
    adjust
        ``multipletests`` method over all segment rows.
    min_units
        Segments with fewer units in an arm are listed without a test.
    variant_col
        Column holding the arm.

    Returns
    -------
    DataFrame
        ``dimension``, ``segment``, the comparison fields, ``p_adjusted``.
    """
    rows = []
    for dim in by:
        if dim not in units.columns:
            continue
        for seg, part in units.groupby(units[dim].fillna("(unknown)").astype(str), sort=True):
            n_a = int((part[variant_col] == control).sum())
            n_b = int((part[variant_col] == treatment).sum())
            base = {"dimension": dim, "segment": seg}
            if min(n_a, n_b) < min_units:
                rows.append(
                    {
                        **base,
                        "n_control": n_a,
                        "n_treatment": n_b,
                        "note": _("fewer than {n} units in an arm: not tested").format(n=min_units),
                    }
                )
                continue
            try:
                rows.append(
                    {
                        **base,
                        **compare_metric(
                            part, metric, control, treatment, alpha, variant_col=variant_col
                        ).row(),
                    }
                )
            except ABTestError as err:
                rows.append({**base, "n_control": n_a, "n_treatment": n_b, "note": str(err)})
    out = pd.DataFrame(rows, columns=["dimension", "segment", *ROW_COLUMNS])
    out["p_adjusted"] = adjust_pvalues(out["p_value"].astype(float), adjust) if len(out) else []
    return out
