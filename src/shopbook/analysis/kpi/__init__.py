"""The KPI brief: a three-layer indicator table for a window vs the previous window,
channel conversion / CAC / ROAS / ROI, and drop alerts — on small frames.

The engine work is in :mod:`shopbook.features`: :func:`shopbook.features.brief.brief_kpis`
collects a window's sales, buyers, LTV cohort, margin, spend, traffic, funnel counts,
the previous buyers and stock value (and the same for the previous window);
:func:`shopbook.features.sales.channel_kpis` the same per channel;
:func:`shopbook.features.funnel.funnel` the daily sessions per channel. This package
turns those small frames into the brief's tables; each returns a
:class:`~shopbook.analysis.result.Result`.

Modules
-------
* :mod:`~shopbook.analysis.kpi.definitions` — every metric's name, label, unit and
  definition, once (:data:`METRICS`, :func:`definitions`): the report shows that table.
* :mod:`~shopbook.analysis.kpi.table` — :func:`kpi_table` (results, users, operations;
  window vs previous window, ``change`` and ``change_pct``; a ``note`` says why a value
  is NaN) and :func:`conversion_ci` (Wilson interval).
* :mod:`~shopbook.analysis.kpi.channels` — :func:`channel_table` (per channel: UV, PV,
  funnel, payment and session conversion, CAC, ROAS, ROI).
* :mod:`~shopbook.analysis.kpi.alerts` — :func:`alerts` / :func:`drop_alerts`: traffic
  or conversion drops beyond noise (quasi-binomial / quasi-Poisson against trailing
  blocks).
* :mod:`~shopbook.analysis.kpi.targets` — :func:`attainment`: the month's targets
  (:mod:`shopbook.data.targets`) against the month so far, the pace still needed and a
  month-end forecast with simulated 80 % / 95 % intervals
  (:func:`shopbook.features.brief.month_to_date` gives its inputs).

Definitions that matter: conversions count **paid** orders only (a refunded or cancelled
order is not a conversion); payment conversion is paying buyers / UV (Tmall 生意参谋),
session conversion is sessions with a paid order / sessions; 客单价 is paid amount per
paying buyer, AOV per paid order; ROAS is revenue / spend and ROI (gross profit − spend)
/ spend — NaN, with the reason, where revenue has no unit cost, never revenue / spend.
"""

from shopbook.analysis.kpi.alerts import Alerts, alert_subject, alerts, drop_alerts
from shopbook.analysis.kpi.channels import ChannelTable, channel_table
from shopbook.analysis.kpi.definitions import METRICS, ROWS, Metric, definitions, label, metric
from shopbook.analysis.kpi.table import HEADLINES, KpiTable, conversion_ci, kpi_table, ratio, roi
from shopbook.analysis.kpi.targets import TargetAttainment, attainment
from shopbook.features.periods import Window, resolve_window

__all__ = [
    "HEADLINES",
    "METRICS",
    "ROWS",
    "Alerts",
    "ChannelTable",
    "KpiTable",
    "Metric",
    "TargetAttainment",
    "Window",
    "alert_subject",
    "alerts",
    "attainment",
    "channel_table",
    "conversion_ci",
    "definitions",
    "drop_alerts",
    "kpi_table",
    "label",
    "metric",
    "ratio",
    "resolve_window",
    "roi",
]
