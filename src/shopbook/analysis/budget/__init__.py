"""Channel budget (notebook 08): what each channel's spend returns, and where the next
yuan should go.

* :mod:`~.economics` — spend share against revenue share, ROAS, ROI (the KPI brief's) and
  CAC per month and channel; marketing's share of the budget against the plan's range.
* :mod:`~.checks` — which channels a response curve can be fitted for (a clear reason
  for each that cannot: no spend, constant spend, spend without orders, one channel), and
  the caveats: spend that barely varies, channels whose spend moves together.
* :mod:`~.transforms` — normalised geometric adstock and the Hill curve (the formulas of
  pymc-marketing and Robyn).
* :mod:`~.model` — :func:`fit_response`: adstock + Hill per channel, fitted by maximum
  likelihood across channels with the day's demand taken out, intervals for decay,
  half-saturation, maximum intake, current intake and marginal return.
* :mod:`~.allocate` — :func:`reallocate` (the split of a monthly budget that maximises the
  value of new customers within bounds, with its expected gain and interval) and
  :func:`simple_rule` (the plan's raise-above-target / cut-below-floor rule) on the same curves.

The features come from :mod:`shopbook.features.budget` (daily spend, new customers and
first-order revenue per channel, monthly economics).
"""

from shopbook.analysis.budget.allocate import (
    DAYS_PER_MONTH,
    Allocation,
    customer_values,
    reallocate,
    simple_rule,
    split_gain,
)
from shopbook.analysis.budget.checks import (
    CORRELATED,
    LOW_VARIATION,
    MIN_DAYS,
    ModelChannels,
    caveats,
    model_channels,
    spend_correlation,
    spend_variation,
)
from shopbook.analysis.budget.economics import (
    MARKETING_SHARE,
    month_columns,
    plan_check,
    spend_and_return,
)
from shopbook.analysis.budget.labels import KINDS, LABELS
from shopbook.analysis.budget.model import TABLE_COLUMNS, ResponseFit, fit_response
from shopbook.analysis.budget.transforms import geometric_adstock, hill

__all__ = [
    "KINDS",
    "LABELS",
    "CORRELATED",
    "DAYS_PER_MONTH",
    "LOW_VARIATION",
    "MARKETING_SHARE",
    "MIN_DAYS",
    "TABLE_COLUMNS",
    "Allocation",
    "ModelChannels",
    "ResponseFit",
    "caveats",
    "customer_values",
    "fit_response",
    "geometric_adstock",
    "hill",
    "model_channels",
    "month_columns",
    "plan_check",
    "reallocate",
    "simple_rule",
    "spend_and_return",
    "spend_correlation",
    "spend_variation",
    "split_gain",
]
