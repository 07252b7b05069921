"""What a table column is: one registry of column names → reader label and kind.

Every table a notebook shows goes through :func:`shopbook.notebook.show` (or
:func:`~shopbook.notebook.tables.styled` / :func:`~shopbook.notebook.tables.formatted`),
which looks each column up here: its **label** (English; Chinese under ``lang="zh"``,
from ``i18n/zh/tables.yml``) and its **kind**, which decides how the values are written
and which unit the header states:

=========== =========================================== ===============================
kind        values                                      header
=========== =========================================== ===============================
``text``    as they are (escaped later), left-aligned   label
``date``    ISO date                                    label
``count``   ``12,345``                                  label
``number``  sensible digits (:func:`format_value`)      label
``ratio``   two decimals (``5.84``)                     label
``money``   thousands separators; 2 decimals when the   ``label (CNY)`` / ``label（元）``
            column's values are below 1,000, else 0
``percent`` a fraction as a percentage (``26.9%``)      label
``pct100``  a number already in percent (``20.3%``)     label
``change``  a signed fraction (``-3.8%``)               label
``points``  a signed change of a share (``+0.5 pp``)    label
``pvalue``  ``0.030``, ``<0.001``                       label
``flag``    yes / no                                    label
``days``    ``12`` (a count of days)                    ``label (days)``
``by_row``  each row's kind is its ``unit`` column      label
=========== =========================================== ===============================

A column the registry does not name gets a label from its name (``share_of_value`` →
"Share of value") and a kind from its dtype (a ``_pct`` / ``_share`` / ``_rate`` suffix:
percent). To add or override names for one table, pass ``labels=`` / ``kinds=`` to
:func:`~shopbook.notebook.show`; to add them for good, :func:`register` them (or add a
line below, with the Chinese label in ``i18n/zh/tables.yml``).

Example::

    from shopbook.notebook import columns, show
    columns.register("stock_value", "Stock value", "money")
    show(frame, currency="CNY")      # "Stock value (CNY)", 12,345; margin 0.269 → 26.9%
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from shopbook.display import display_text
from shopbook.i18n import get_lang, translate

__all__ = [
    "KINDS",
    "NUMERIC_KINDS",
    "ROW_KINDS",
    "Column",
    "column",
    "header",
    "humanise",
    "register",
    "unit_text",
]

#: Every kind a column can have.
KINDS = (
    "text",
    "date",
    "count",
    "number",
    "ratio",
    "money",
    "percent",
    "pct100",
    "change",
    "points",
    "pvalue",
    "flag",
    "days",
    "by_row",
)
#: The kinds written right-aligned.
NUMERIC_KINDS = frozenset(KINDS) - {"text", "date", "flag"}


def _(text: str) -> str:
    """Mark a label for the catalogue; it is translated when the table is shown."""
    return text


@dataclass(frozen=True)
class Column:
    """A column as a reader sees it: ``label`` (English, the catalogue key) and ``kind``."""

    label: str
    kind: str = "number"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")


T, D, C, N, R, M, P, P100, CH, PP, PV, F, DAYS, ROW = KINDS

_REGISTRY: dict[str, Column] = {}


def _names(kind: str, entries: dict[str, str]) -> None:
    for name, label in entries.items():
        _REGISTRY[name] = Column(label, kind)


# Text and dates --------------------------------------------------------------------------
_names(
    T,
    {
        "table": _("Table"),
        "column": _("Column"),
        "description": _("Description"),
        "reason": _("Reason"),
        "kind": _("Kind"),
        "columns": _("Columns"),
        "references": _("References"),
        "report": _("Report"),
        "status": _("Status"),
        "missing": _("Missing"),
        "layer": _("Layer"),
        "label": _("Metric"),
        "unit": _("Unit"),
        "note": _("Note"),
        "metric": _("Metric"),
        "definition": _("Definition"),
        "needs": _("Needs"),
        "channel": _("Channel"),
        "roi_note": _("ROI note"),
        "better": _("Better when"),
        "comparison": _("Comparison"),
        "period": _("Period"),
        "compared_to": _("Compared with"),
        "weekday": _("Weekday"),
        "occurrence": _("Event"),
        "window": _("Window"),
        "model": _("Model"),
        "candidate": _("Candidate"),
        "category": _("Category"),
        "quadrant": _("Quadrant"),
        "cohort": _("Cohort"),
        "segment": _("Segment"),
        "customer_id": _("Customer"),
        "score": _("Score"),
        "community": _("Community"),
        "action": _("Recommended action"),
        "name": _("Name"),
        "scores": _("Scores"),
        "cluster": _("Cluster"),
        "profile": _("Profile"),
        "main_segment": _("Main segment"),
        "direction": _("Direction"),
        "file": _("File"),
        "sku": _("SKU"),
        "method": _("Method"),
        "relation": _("Relation"),
        "term": _("Term"),
        "demand_of": _("Demand of"),
        "price_of": _("Price of"),
        "experiment_id": _("Experiment"),
        "split": _("Split"),
        "split_check": _("Split check"),
        "verdict": _("Verdict"),
        "variant": _("Variant"),
        "check": _("Check"),
        "meaning": _("Meaning"),
        "dimension": _("Dimension"),
        "result": _("Result"),
        "detail": _("Detail"),
        "role": _("Role"),
        "rule": _("Rule"),
        "level": _("Level"),
        "abc": _("ABC"),
        "xyz": _("XYZ"),
        "class": _("Class"),
        "dtype": _("Type"),
        "R range": _("R range"),
        "F range": _("F range"),
        "M range": _("M range"),
        "parameter": _("Parameter"),
        "source": _("Source"),
    },
)
_names(
    D,
    {
        "date": _("Date"),
        "first": _("First"),
        "last": _("Last"),
        "start": _("Start"),
        "end": _("End"),
        "first_day": _("First day"),
        "last_day": _("Last day"),
        "first_order": _("First order"),
        "last_order": _("Last order"),
        "asof": _("As of"),
    },
)
_names(
    F,
    {
        "present": _("Present"),
        "checked": _("Checked"),
        "nullable": _("Nullable"),
        "alert": _("Alert"),
        "chosen": _("Chosen"),
        "identified": _("Identified"),
        "fragile": _("Fragile"),
        "written": _("Written"),
        "planned_reached": _("Planned size reached"),
        "underpowered": _("Underpowered"),
        "on_track": _("On track"),
        "ongoing": _("Ongoing"),
        "learnable": _("Learnable"),
    },
)
# Counts ----------------------------------------------------------------------------------
_names(
    C,
    {
        "read": _("Rows read"),
        "kept": _("Rows kept"),
        "rejected": _("Rows rejected"),
        "rows": _("Rows"),
        "uv": _("UV (visitors)"),
        "pv": _("PV (page views)"),
        "sessions": _("Sessions"),
        "product_view": _("Product views"),
        "cart": _("Added to cart"),
        "checkout": _("Reached checkout"),
        "order": _("Paid sessions (order)"),
        "paid_sessions": _("Sessions with a paid order"),
        "customers": _("Customers"),
        "new_customers": _("New customers"),
        "orders": _("Orders"),
        "repeaters": _("Repeat buyers"),
        "frequency": _("Repeat purchases"),
        "skus": _("SKUs"),
        "not_learnable": _("Not learnable"),
        "units": _("Units"),
        "n_obs": _("Observations"),
        "n_entities": _("SKUs in the fit"),
        "n_rows": _("Rows in the fit"),
        "n_control": _("Control units"),
        "n_treatment": _("Treatment units"),
        "planned_units": _("Planned units"),
        "expected_units": _("Expected units"),
        "planned_control": _("Planned control units"),
        "planned_treatment": _("Planned treatment units"),
        "on_hand": _("On hand"),
        "on_order": _("On order"),
        "safety_stock": _("Safety stock"),
        "reorder_point": _("Reorder point"),
        "r_score": _("R score"),
        "f_score": _("F score"),
        "m_score": _("M score"),
        "fm_score": _("FM score"),
        "rank": _("Rank"),
        "R customers": _("Customers (R)"),
        "F customers": _("Customers (F)"),
        "M customers": _("Customers (M)"),
        "parameters": _("Parameters"),
        "episodes": _("Episodes"),
        "buyers": _("Paying buyers"),
    },
)
_names(
    DAYS,
    {
        "days": _("Days"),
        "days_left": _("Days left"),
        "days_of_cover": _("Days of cover"),
        "recency": _("Recency"),
        "median_recency": _("Median recency"),
    },
)
# Money -----------------------------------------------------------------------------------
_names(
    M,
    {
        "gmv": _("GMV"),
        "spend": _("Spend"),
        "cac": _("CAC"),
        "gross_profit": _("Gross profit"),
        "revenue": _("Revenue"),
        "avg_order_value": _("Average order value"),
        "aov": _("AOV"),
        "monetary": _("Monetary"),
        "monetary_value": _("Average order value"),
        "median_monetary": _("Median monetary"),
        "clv": _("CLV (profit, discounted)"),
        "mean_clv": _("Mean CLV (profit, discounted)"),
        "total_clv": _("Total CLV (profit, discounted)"),
        "observed": _("Observed"),
        "level_before": _("Level before"),
        "level_after": _("Level after"),
        "effect": _("Effect"),
        "unit_cost": _("Unit cost"),
        "price": _("Price"),
        "current_price": _("Current price"),
        "ltv": _("LTV (revenue, historical)"),
        "uplift_lo": _("Uplift low"),
        "uplift_hi": _("Uplift high"),
        "expected_loss": _("Expected loss"),
        "pace_to_date_per_day": _("Pace to date per day"),
        "pace_needed_per_day": _("Pace needed per day"),
    },
)
# Shares, changes, p-values ---------------------------------------------------------------
_names(
    P,
    {
        "share": _("Share"),
        "payment_conversion": _("Payment conversion"),
        "session_conversion": _("Session conversion"),
        "conv_low": _("Conversion low (95%)"),
        "conv_high": _("Conversion high (95%)"),
        "repurchase_rate": _("Repurchase rate"),
        "period_1": _("Retained in month 1"),
        "period_3": _("Retained in month 3"),
        "share_within_7d": _("Second purchase within 7 days"),
        "share_within_30d": _("Second purchase within 30 days"),
        "share_of_value": _("Share of value"),
        "p_alive": _("Chance still active"),
        "mean_p_alive": _("Mean chance still active"),
        "share_previous": _("Previous share"),
        "coverage80": _("80% interval coverage"),
        "coverage95": _("95% interval coverage"),
        "median_spread": _("Median price spread"),
        "median_promo_share": _("Median promo share"),
        "margin": _("Margin"),
        "cost_coverage": _("Revenue with unit cost"),
        "units_share": _("Share of units"),
        "revenue_share": _("Share of revenue"),
        "profit_share": _("Share of gross profit"),
        "expected_share": _("Intended share"),
        "baseline": _("Baseline"),
        "power": _("Power"),
        "attainment": _("Attainment"),
        "p_meet": _("Chance to meet the target"),
        "weight": _("Weight of the SKU's own data"),
        "r2_quantity": _("R² of the demand model"),
        "r2_price": _("R² of the price model"),
        "chance_to_beat_control": _("Chance to beat control"),
    },
)
_names(
    P100,
    {
        "customer %": _("Share of customers"),
        "revenue %": _("Share of revenue"),
        "main_segment %": _("Share in main segment"),
        "earlier_customers %": _("Share of earlier customers"),
        "total_error_pct": _("Total error (%)"),
    },
)
_names(
    CH,
    {
        "change_pct": _("Relative change"),
        "effect_pct": _("Effect (% of trend)"),
        "growth": _("Growth"),
        "uplift_pct": _("Uplift (% of baseline)"),
        "uplift_pct_lo": _("Uplift low (%)"),
        "uplift_pct_hi": _("Uplift high (%)"),
        "rel_lift": _("Relative lift"),
        "rel_lo": _("Relative lift low"),
        "rel_hi": _("Relative lift high"),
        "vs_best": _("Error vs the best"),
        "vs_expected": _("Vs expected by now"),
        "mde_rel": _("Smallest lift to detect"),
        "mde_at_traffic": _("Detectable lift at this traffic"),
        "uplift": _("Uplift"),
        "uplift_low": _("Uplift low"),
        "uplift_high": _("Uplift high"),
        "profit_change": _("Gross profit change"),
        "revenue_change": _("Revenue change"),
    },
)
_names(PP, {"share_change": _("Share change")})
_names(
    PV,
    {
        "p_value": _("p-value (fixed horizon)"),
        "p_adjusted": _("p-value (adjusted)"),
        "srm_p": _("Split p-value"),
        "p_always_valid": _("p-value (always valid)"),
        # the A/B metric and segment tables name their p-values for what they are
        "p_fixed": _("p-value (fixed horizon)"),
        "p_fixed_adjusted": _("p-value (fixed horizon, adjusted)"),
    },
)
# the A/B power table's combined columns (analysis.abtest.power_view)
_names(
    T,
    {
        "units_now": _("Units now (control / treatment)"),
        "units_planned": _("Units needed (control / treatment)"),
    },
)
_names(
    R,
    {
        "roas": _("ROAS"),
        "roi": _("ROI"),
        "elasticity": _("Elasticity"),
        "se": _("Standard error"),
        "ci_low": _("95% low"),
        "ci_high": _("95% high"),
        "shrunk": _("Shrunk elasticity"),
        "shrunk_ci_low": _("Shrunk 95% low"),
        "shrunk_ci_high": _("Shrunk 95% high"),
        "elasticity_naive": _("Naive elasticity"),
        "ci_low_naive": _("Naive 95% low"),
        "ci_high_naive": _("Naive 95% high"),
        "elasticity_dml": _("DML elasticity"),
        "ci_low_dml": _("DML 95% low"),
        "ci_high_dml": _("DML 95% high"),
        "difference": _("Difference"),
        "split_low": _("Lowest over splits"),
        "split_high": _("Highest over splits"),
        "fe_elasticity": _("Fixed-effects elasticity"),
        "mase": _("MASE"),
        "z": _("z"),
        "dispersion": _("Dispersion"),
        "estimate": _("Estimate"),
        "std_error": _("Standard error"),
        "lower": _("95% low"),
        "upper": _("95% high"),
    },
)
_names(
    N,
    {
        "value": _("Value"),
        "previous": _("Previous"),
        "change": _("Change"),
        "expected": _("Expected"),
        "mean": _("Forecast"),
        "lo80": _("80% low"),
        "hi80": _("80% high"),
        "lo95": _("95% low"),
        "hi95": _("95% high"),
        "control": _("Control"),
        "treatment": _("Treatment"),
        "abs_lift": _("Absolute lift"),
        "abs_lo": _("Absolute lift low"),
        "abs_hi": _("Absolute lift high"),
        "seconds": _("Seconds"),
        "actual": _("Actual"),
        "predicted": _("Predicted"),
        "calibration_frequency": _("Repeat purchases (calibration)"),
        "T": _("Customer age"),
        "expected_purchases": _("Expected purchases"),
        "target": _("Target"),
        "actual_to_date": _("Actual to date"),
        "expected_by_now": _("Expected by now"),
        "forecast_month_end": _("Forecast at month end"),
        "median_frequency": _("Median orders"),
        "threshold": _("Threshold"),
    },
)
#: Words of the cells and headers (translated when shown).
YES, NO, MONEY, DAYS_UNIT, POINTS = _("yes"), _("no"), _("money"), _("days"), _("{n} pp")

#: Names that mean another thing beside a given column: ``(name, beside) → Column``.
_CONTEXT: dict[tuple[str, str], Column] = {
    # 02's event table: money beside its percentage columns (05's uplift is a fraction)
    ("uplift", "uplift_pct"): Column(_("Uplift"), M),
    ("baseline", "uplift_pct"): Column(_("Baseline"), M),
    # BG/NBD's customer summary counts time in the model's unit (weeks)
    ("recency", "T"): Column(_("Recency (weeks)"), N),
    ("T", "recency"): Column(_("Customer age (weeks)"), N),
    # 01's definitions: the metric's key beside its label
    ("metric", "label"): Column(_("Key"), T),
}

#: Units by the KPI tables' ``unit`` column (a row's kind for ``by_row`` columns).
ROW_KINDS = {"money": M, "count": C, "share": P, "ratio": R, "days": DAYS, "percent": P}
#: ``by_row`` columns in tables with a ``unit`` column.
_BY_ROW = {
    "value",
    "previous",
    "change",
    "ci_low",
    "ci_high",
    "target",
    "actual_to_date",
    "expected_by_now",
    "pace_to_date_per_day",
    "pace_needed_per_day",
    "forecast_month_end",
    "lo80",
    "hi80",
    "lo95",
    "hi95",
}

_PERCENT_SUFFIX = re.compile(r"(_pct|_share|_rate|share|_conversion)$")


def register(name: str, label: str, kind: str = "number") -> None:
    """Add (or replace) a column of the registry.

    Parameters
    ----------
    name
        The column name as frames hold it.
    label
        The English label (the catalogue key; give it a ``tables.yml`` entry for zh).
    kind
        One of :data:`KINDS`.
    """
    _REGISTRY[name] = Column(label, kind)


def humanise(name: str) -> str:
    """A label from a column name: ``share_of_value`` → ``"Share of value"``."""
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else text


def column(
    name: object, series: pd.Series | None = None, frame: pd.DataFrame | None = None
) -> Column:
    """The registry's entry for ``name``, else one guessed from the name and the values.

    Parameters
    ----------
    name
        A column name.
    series
        The column's values (for the guess).
    frame
        The whole frame: a column in :data:`_BY_ROW` of a frame with a ``unit`` column is
        ``by_row``.
    """
    key = str(name)
    if frame is not None:
        for (known, beside), entry in _CONTEXT.items():
            if key == known and beside in frame.columns:
                return entry
    if frame is not None and key in _BY_ROW and "unit" in frame.columns:
        return Column(_REGISTRY[key].label if key in _REGISTRY else humanise(key), ROW)
    if key in _REGISTRY:
        return _REGISTRY[key]
    kind = N
    if series is not None:
        if pd.api.types.is_bool_dtype(series):
            kind = F
        elif pd.api.types.is_datetime64_any_dtype(series):
            kind = D
        elif pd.api.types.is_integer_dtype(series):
            kind = C
        elif pd.api.types.is_float_dtype(series):
            kind = P if _PERCENT_SUFFIX.search(key) else N
        else:
            kind = T
    return Column(humanise(key), kind)


def unit_text(currency: str | None) -> str | None:
    """The money unit as a reader sees it: the code, or 元 for CNY in Chinese."""
    if not currency:
        return None
    if get_lang() == "zh" and currency.upper() in ("CNY", "RMB"):
        return "元"
    return currency


def header(col: Column, currency: str | None = None) -> str:
    """The column's header in the current language, with its unit where it has one."""
    label = display_text(translate(col.label))
    unit: str | None = None
    if col.kind == M:
        unit = unit_text(currency)
    elif col.kind == DAYS and "day" not in col.label.lower() and "天" not in label:
        unit = translate(DAYS_UNIT)
    if not unit:
        return label
    if get_lang() == "zh":
        return f"{label}（{unit}）"
    return f"{label} ({unit})"
