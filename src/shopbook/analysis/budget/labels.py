"""How notebook 08 labels the budget tables: reader labels and kinds of their columns.

Pass them to :func:`shopbook.notebook.show` (``labels=LABELS, kinds=KINDS``); the
labels are English catalogue keys, translated when the table is shown (zh entries in
``i18n/zh/budget.yml``). They are not registered globally: names such as ``current``,
``low`` or ``weeks`` mean other things in other tables.
"""

from __future__ import annotations

from shopbook.i18n import _

__all__ = ["KINDS", "LABELS"]

#: Column name → English label (translated when shown).
LABELS = {
    "spend_share": _("Share of spend"),
    "decay": _("Carry-over (decay)"),
    "decay_low": _("Carry-over, low"),
    "decay_high": _("Carry-over, high"),
    "half_saturation": _("Half-saturation spend per day"),
    "half_saturation_low": _("Half-saturation, low"),
    "half_saturation_high": _("Half-saturation, high"),
    "max_paid_per_day": _("Most paid new customers per day"),
    "max_paid_low": _("Most paid per day, low"),
    "max_paid_high": _("Most paid per day, high"),
    "organic_per_day": _("Unpaid new customers per day"),
    "spend_per_day": _("Current spend per day"),
    "paid_per_day": _("Paid new customers per day"),
    "paid_low": _("Paid per day, low"),
    "paid_high": _("Paid per day, high"),
    "marginal_per_kcny": _("New customers per extra 1,000 a day"),
    "marginal_low": _("Per extra 1,000, low"),
    "marginal_high": _("Per extra 1,000, high"),
    "current": _("Current budget"),
    "recommended": _("Recommended budget"),
    "low": _("Lowest allowed"),
    "high": _("Highest allowed"),
    "at_bound": _("On a bound"),
    "value_per_customer": _("Value per new customer"),
    "marginal_roas": _("Marginal return per 1 spent"),
    "weeks": _("Weeks"),
    "mean_week": _("Mean weekly spend"),
    "sd_week": _("Standard deviation of weekly spend"),
    "cv": _("Coefficient of variation"),
    "low_variation": _("Too little variation"),
    "other": _("Other channel"),
    "correlation": _("Correlation of weekly spend"),
    "together": _("Spend moves together"),
}

#: Column name → kind (see :mod:`shopbook.notebook.columns`).
KINDS = {
    "spend_share": "percent",
    "decay": "percent",
    "decay_low": "percent",
    "decay_high": "percent",
    "half_saturation": "money",
    "half_saturation_low": "money",
    "half_saturation_high": "money",
    "max_paid_per_day": "number",
    "max_paid_low": "number",
    "max_paid_high": "number",
    "organic_per_day": "number",
    "spend_per_day": "money",
    "paid_per_day": "number",
    "paid_low": "number",
    "paid_high": "number",
    "marginal_per_kcny": "number",
    "marginal_low": "number",
    "marginal_high": "number",
    "current": "money",
    "recommended": "money",
    "low": "money",
    "high": "money",
    "at_bound": "text",
    "value_per_customer": "money",
    "marginal_roas": "ratio",
    "weeks": "count",
    "mean_week": "money",
    "sd_week": "money",
    "cv": "percent",
    "low_variation": "flag",
    "other": "text",
    "correlation": "ratio",
    "together": "flag",
}
