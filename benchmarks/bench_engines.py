"""Benchmark: the feature builders on DuckDB, Spark and PostgreSQL against hand-written SQL.

Data: the shipped shop's ``orders``, ``order_items``, ``sessions`` and ``assignments``
(``data/shop.duckdb``) replicated until there are ``--lines`` order lines — each copy's
order, customer, session, visitor and unit ids get a suffix, so customers and units scale
with the lines — written as Parquet by DuckDB itself into
``$TMPDIR/shopbook_bench/lines_<N>/`` (reused when present, never the repo).

Cases, each in a fresh subprocess so its peak RSS is its own (Spark's JVM and its other
children are counted; PostgreSQL's server is not — it is another process tree):

* ``sql``      hand-written DuckDB SQL over the Parquet files computing the same frame;
* ``duckdb``   the builder through ibis on a DuckDB source over the same files, its frame
  fetched with :func:`shopbook.features.fetch` (the documented way to get a frame from a
  builder);
* ``spark``    the builder on ``spark://`` (local[2]), when PySpark is installed;
* ``postgres`` the builder on ``--postgres URI`` (the tables are loaded once, by COPY);
* ``pandas``   / ``polars`` baselines that read the Parquet columns and aggregate.

Builders: KPIs by day and channel (``sales.kpis``), the SKU-week panel
(``panels.sku_week_panel``), the customer summary (``customers.customer_summary``), the
RFM base (``rfm.rfm_base``) and the experiment unit metrics (``experiments.unit_metrics``
of ``checkout_srm``, visitor units, order values capped at their 99th percentile: what
``06_ab_test`` asks for; over ``sessions`` and ``assignments`` replicated like the orders,
so the units scale with the lines), monthly cohort activity (``cohorts.cohort_activity``),
the funnel by day and device (``funnel.funnel``, with ``paid``), the window retention
(``customers.window_retention`` of the four weeks from 2024-12-02, as a one-row frame) and
the per-SKU features (``products.sku_features`` to 2024-11-30; the bench data has no
``products`` or ``inventory``). Up to ``--check-lines`` (1 M) the builder's frame is
checked equal to its SQL's (a fresh subprocess after the timed cases). Printed: lines ×
builder × case × seconds × peak RSS, the ratio to the SQL, the case's CPU seconds and
their ratio to the SQL's (steadier than the seconds when other work shares the cores), and
per case the slope of log(seconds) over log(lines) across the sizes run (1 = linear). The
goals of issue 18 are printed beside the table: every builder within 1.2× its SQL; the
customer summary on 100 M lines within 60 s and 4 GB.

Usage::

    .venv/bin/python benchmarks/bench_engines.py                      # 1 M and 10 M lines
    .venv/bin/python benchmarks/bench_engines.py --lines 1e6 --cases sql,duckdb,spark
    .venv/bin/python benchmarks/bench_engines.py --lines 1e8 --builders customer_summary
    .venv/bin/python benchmarks/bench_engines.py --lines 1e7 --cases sql,duckdb --fetch arrow

``--fetch`` is what each result becomes: ``pandas`` (default) a pandas frame —
``con.sql(…).df()`` for the SQL, ``features.fetch(expr)`` for the builders (one
multi-threaded Arrow → pandas conversion with ibis's dtypes); ``execute`` the same frame
from ibis's own ``expr.execute()`` (single-threaded, through Python lists for columns
with nulls: about 1 s of one core more for the 0.7 M-row customer summary at 10 M lines);
``arrow`` an Arrow table on both sides (the engine's work alone).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
BUILDERS = (
    "kpis_day_channel",
    "sku_week_panel",
    "customer_summary",
    "rfm_base",
    "unit_metrics",
    "cohort_activity",
    "funnel_day_device",
    "window_retention",
    "sku_features",
    "brief_kpis",
)
#: The experiment of the unit_metrics builder (the largest of the shop; visitor units).
EXPERIMENT = "checkout_srm"
#: The modules :func:`_builder` calls (imported before a case's clock starts).
BUILDER_MODULES = (
    "brief", "cohorts", "customers", "experiments", "funnel", "panels", "products", "rfm", "sales",
)  # fmt: skip
CASES = ("sql", "duckdb", "spark", "postgres", "pandas", "polars")
CAL_END, OBS_END, ASOF = "2024-06-30", "2024-12-31", "2025-01-01"
#: The window of window_retention (and brief_kpis): the four weeks the tests use.
WINDOW = ("2024-12-02", "2024-12-29")
#: The last day of sku_features (as in tests/engines/test_features.py).
SKU_END = "2024-11-30"

SQL = {
    "kpis_day_channel": """
        SELECT date_trunc('day', order_ts) AS period, channel,
               CAST(SUM(CAST(net_amount AS DECIMAL(18,2))) AS DOUBLE) AS gmv,
               COUNT(DISTINCT order_id) AS orders, COUNT(DISTINCT customer_id) AS customers,
               CAST(SUM(CAST(net_amount AS DECIMAL(18,2))) AS DOUBLE)
                   / COUNT(DISTINCT order_id) AS aov
        FROM read_parquet('{d}/orders.parquet') WHERE status = 'paid'
        GROUP BY ALL""",
    "sku_week_panel": """
        WITH l AS (
            SELECT i.sku, CAST(date_trunc('week', o.order_ts) AS DATE) AS week,
                   CAST(i.quantity AS BIGINT) AS q,
                   CAST(i.unit_price AS DECIMAL(18,2)) AS up,
                   CAST(i.list_price AS DECIMAL(18,2)) AS lp,
                   CAST(i.unit_cost AS DECIMAL(18,2)) AS uc
            FROM read_parquet('{d}/order_items.parquet') i
            JOIN read_parquet('{d}/orders.parquet') o USING (order_id)
            WHERE o.status = 'paid'),
        a AS (
            SELECT sku, week, CAST(SUM(q) AS BIGINT) AS units,
                   CAST(SUM(CAST(up * q AS DECIMAL(18,2))) AS DOUBLE) AS revenue,
                   CAST(SUM(CAST(lp * q AS DECIMAL(18,2))) AS DOUBLE) AS list_revenue,
                   CAST(SUM(CAST(uc * q AS DECIMAL(18,2))) AS DOUBLE) AS cost,
                   SUM(CASE WHEN uc IS NOT NULL THEN q ELSE 0 END) AS cost_units,
                   COUNT(*) AS lines
            FROM l GROUP BY ALL)
        SELECT sku, week, CAST(NULL AS VARCHAR) AS category, units, revenue,
               revenue / units AS avg_price, list_revenue / units AS list_price,
               CASE WHEN list_revenue > 0 THEN 1 - revenue / list_revenue END
                   AS discount_depth,
               COALESCE(CASE WHEN list_revenue > 0 THEN 1 - revenue / list_revenue END, 0.0)
                   >= 0.05 AS promo,
               CASE WHEN cost_units > 0 THEN cost / cost_units END AS unit_cost, lines
        FROM a""",
    "customer_summary": f"""
        WITH days AS (
            SELECT customer_id, CAST(order_ts AS DATE) AS day,
                   SUM(CAST(net_amount AS DECIMAL(18,2))) AS amount
            FROM read_parquet('{{d}}/orders.parquet') WHERE status = 'paid' GROUP BY ALL),
        cal AS (
            SELECT customer_id, MIN(day) AS f, MAX(day) AS l, COUNT(*) AS n,
                   SUM(amount) AS total, arg_min(amount, day) AS first_amount
            FROM days WHERE day <= DATE '{CAL_END}' GROUP BY customer_id),
        hold AS (
            SELECT customer_id, COUNT(*) AS fh, CAST(SUM(amount) AS DOUBLE) / COUNT(*) AS mh
            FROM days WHERE day > DATE '{CAL_END}' AND day <= DATE '{OBS_END}'
            GROUP BY customer_id)
        SELECT c.customer_id, f AS first_purchase, n - 1 AS frequency,
               (l - f) / 7.0 AS recency, (DATE '{CAL_END}' - f) / 7.0 AS T,
               CASE WHEN n > 1 THEN CAST(total - first_amount AS DOUBLE) / (n - 1)
                    ELSE 0 END AS monetary_value,
               COALESCE(fh, 0) AS frequency_holdout, COALESCE(mh, 0) AS monetary_value_holdout,
               (DATE '{OBS_END}' - DATE '{CAL_END}') / 7.0 AS duration_holdout
        FROM cal c LEFT JOIN hold h USING (customer_id) ORDER BY c.customer_id""",
    "rfm_base": f"""
        SELECT customer_id, MIN(order_ts) AS first_order, MAX(order_ts) AS last_order,
               COUNT(*) AS frequency,
               CAST(SUM(CAST(net_amount AS DECIMAL(18,2))) AS DOUBLE) AS monetary,
               DATE '{ASOF}' - CAST(MAX(order_ts) AS DATE) AS recency
        FROM read_parquet('{{d}}/orders.parquet')
        WHERE status = 'paid' AND order_ts < TIMESTAMP '{ASOF}'
        GROUP BY customer_id""",
    "cohort_activity": """
        WITH days AS (
            SELECT customer_id, CAST(order_ts AS DATE) AS day, COUNT(*) AS n,
                   SUM(CAST(net_amount AS DECIMAL(18,2))) AS amount
            FROM read_parquet('{d}/orders.parquet') WHERE status = 'paid' GROUP BY ALL),
        f AS (SELECT *, min(day) OVER (PARTITION BY customer_id) AS first_day FROM days)
        SELECT CAST(date_trunc('month', first_day) AS DATE) AS cohort,
               date_diff('month', date_trunc('month', first_day), date_trunc('month', day))
                   AS period,
               COUNT(DISTINCT customer_id) AS active, COUNT(*) AS purchases,
               CAST(SUM(n) AS BIGINT) AS orders, CAST(SUM(amount) AS DOUBLE) AS revenue
        FROM f GROUP BY ALL""",
    "funnel_day_device": """
        WITH p AS (
            SELECT DISTINCT order_id AS paid_id
            FROM read_parquet('{d}/orders.parquet') WHERE status = 'paid')
        SELECT CAST(date_trunc('day', session_ts) AS TIMESTAMP) AS period, device,
               COUNT(*) AS sessions, COUNT(*) FILTER (product_views > 0) AS product_view,
               COUNT(*) FILTER (added_to_cart) AS cart,
               COUNT(*) FILTER (reached_checkout) AS checkout, COUNT(order_id) AS "order",
               COUNT(DISTINCT visitor_id) AS visitors,
               CAST(SUM(pageviews) AS BIGINT) AS pageviews, COUNT(paid_id) AS paid
        FROM read_parquet('{d}/sessions.parquet')
        LEFT JOIN p ON order_id = paid_id
        GROUP BY ALL""",
    "window_retention": """
        SELECT TIMESTAMP '2024-11-04' AS before_start, TIMESTAMP '2024-12-01' AS before_end,
               COUNT(*) FILTER (b) AS previous_buyers, COUNT(*) FILTER (b AND w) AS retained
        FROM (SELECT customer_id,
                     bool_or(order_ts >= TIMESTAMP '2024-11-04'
                             AND order_ts < TIMESTAMP '2024-12-02') AS b,
                     bool_or(order_ts >= TIMESTAMP '2024-12-02'
                             AND order_ts < TIMESTAMP '2024-12-30') AS w
              FROM read_parquet('{d}/orders.parquet')
              WHERE status = 'paid' AND order_ts >= TIMESTAMP '2024-11-04'
                    AND order_ts < TIMESTAMP '2024-12-30'
              GROUP BY customer_id)""",
    # the three 28-day windows before 2024-12-30: before (from 2024-10-07), previous (from
    # 2024-11-04), current (WINDOW); the LTV cohorts are the 90 days ending 365 days before
    # each window's last day
    "brief_kpis": """
        WITH o AS (
            SELECT order_id, customer_id, order_ts, CAST(net_amount AS DECIMAL(18,2)) AS net
            FROM read_parquet('{d}/orders.parquet') WHERE status = 'paid'),
        win AS (SELECT * FROM (VALUES
            ('current', TIMESTAMP '2024-12-02', TIMESTAMP '2024-12-30',
             TIMESTAMP '2023-10-02', TIMESTAMP '2023-12-31'),
            ('previous', TIMESTAMP '2024-11-04', TIMESTAMP '2024-12-02',
             TIMESTAMP '2023-09-04', TIMESTAMP '2023-12-03')) w("window", w0, w1, c0, c1)),
        first AS (SELECT customer_id, min(order_ts) AS f FROM o GROUP BY customer_id),
        tagged AS (
            SELECT *, CASE WHEN order_ts >= TIMESTAMP '2024-12-02' THEN 'current'
                           WHEN order_ts >= TIMESTAMP '2024-11-04' THEN 'previous'
                           ELSE 'before' END AS "window"
            FROM o WHERE order_ts >= TIMESTAMP '2024-10-07'
                     AND order_ts < TIMESTAMP '2024-12-30'),
        per AS (
            SELECT "window", customer_id, count(DISTINCT order_id) AS n, sum(net) AS g
            FROM tagged GROUP BY ALL),
        sales AS (
            SELECT p."window", CAST(sum(g) AS DOUBLE) AS gmv, CAST(sum(n) AS BIGINT) AS orders,
                   count(*) AS active, count(*) FILTER (f.f >= w.w0) AS new,
                   count(*) FILTER (n >= 2) AS repeaters
            FROM per p JOIN first f USING (customer_id) JOIN win w USING ("window")
            WHERE p."window" <> 'before' GROUP BY p."window"),
        ret AS (
            SELECT CASE a."window" WHEN 'previous' THEN 'current' ELSE 'previous' END
                       AS "window",
                   count(*) AS previous_buyers, count(c.customer_id) AS retained
            FROM per a LEFT JOIN per c ON c.customer_id = a.customer_id
                 AND c."window" = CASE a."window" WHEN 'previous' THEN 'current'
                                  ELSE 'previous' END
            WHERE a."window" IN ('previous', 'before') GROUP BY 1),
        cohort AS (
            SELECT w."window", f.customer_id, f.f
            FROM first f JOIN win w ON f.f >= w.c0 AND f.f < w.c1),
        spend AS (
            SELECT customer_id, sum(o.net) AS s
            FROM (SELECT DISTINCT customer_id, f FROM cohort) c JOIN o USING (customer_id)
            WHERE o.order_ts < CAST(CAST(c.f AS DATE) AS TIMESTAMP) + INTERVAL 365 DAY
            GROUP BY customer_id),
        ltv AS (
            SELECT "window", CAST(sum(s) AS DOUBLE) / count(*) AS ltv,
                   count(*) AS ltv_customers
            FROM cohort LEFT JOIN spend USING (customer_id) GROUP BY 1),
        lines AS (
            SELECT t."window", t.order_id, t.net,
                   CAST(i.quantity * i.unit_price AS DOUBLE) AS line,
                   CAST(CAST(i.unit_cost AS DECIMAL(18,2)) * CAST(i.quantity AS BIGINT)
                        AS DECIMAL(18,2)) AS cost
            FROM tagged t JOIN read_parquet('{d}/order_items.parquet') i USING (order_id)
            WHERE t."window" <> 'before'),
        shared AS (
            SELECT "window", cost, CAST(CAST(net AS DOUBLE) * CASE WHEN tot > 0
                       THEN line / tot ELSE 1.0 / n END AS DECIMAL(24,6)) AS revenue
            FROM (SELECT *, sum(line) OVER (PARTITION BY order_id) AS tot,
                         count(*) OVER (PARTITION BY order_id) AS n FROM lines)),
        margin AS (
            SELECT "window", COALESCE(CAST(sum(revenue) AS DOUBLE), 0) AS revenue,
                   COALESCE(CAST(sum(CASE WHEN cost IS NOT NULL THEN revenue ELSE 0 END)
                                 AS DOUBLE), 0) AS revenue_costed,
                   COALESCE(CAST(sum(cost) AS DOUBLE), 0) AS cogs
            FROM shared GROUP BY 1),
        s AS (
            SELECT CASE WHEN session_ts >= TIMESTAMP '2024-12-02' THEN 'current'
                        ELSE 'previous' END AS "window", *
            FROM read_parquet('{d}/sessions.parquet')
            WHERE session_ts >= TIMESTAMP '2024-11-04' AND session_ts < TIMESTAMP '2024-12-30'),
        paid AS (
            SELECT DISTINCT order_id AS paid_id FROM o
            WHERE order_id IN (SELECT order_id FROM s)),
        fun AS (
            SELECT "window", count(*) AS sessions,
                   count(*) FILTER (product_views > 0) AS product_view,
                   count(*) FILTER (added_to_cart) AS cart,
                   count(*) FILTER (reached_checkout) AS checkout, count(order_id) AS "order",
                   count(DISTINCT visitor_id) AS visitors,
                   CAST(sum(pageviews) AS BIGINT) AS pageviews, count(paid_id) AS paid
            FROM s LEFT JOIN paid ON order_id = paid_id GROUP BY 1)
        SELECT "window", w0 AS start, w1 - INTERVAL 1 DAY AS "end", 28 AS days,
               gmv, orders, active, new, active - new AS returning, repeaters,
               ltv, 365 AS ltv_days, ltv_customers, c0 AS ltv_cohort_start,
               c1 - INTERVAL 1 DAY AS ltv_cohort_end, revenue, revenue_costed, cogs,
               revenue_costed - cogs AS gross_profit,
               CASE WHEN revenue_costed > 0 THEN (revenue_costed - cogs) / revenue_costed
                    END AS margin,
               1.0 - CASE WHEN revenue > 0 THEN revenue_costed / revenue END
                   AS uncosted_share,
               sessions, product_view, cart, checkout, "order", previous_buyers, retained,
               visitors, pageviews, paid
        FROM win JOIN sales USING ("window") JOIN ltv USING ("window")
             JOIN margin USING ("window") JOIN ret USING ("window")
             JOIN fun USING ("window")
        ORDER BY 1""",
    "sku_features": f"""
        WITH o AS (
            SELECT order_id, CAST(order_ts AS DATE) AS day
            FROM read_parquet('{{d}}/orders.parquet')
            WHERE status = 'paid' AND CAST(order_ts AS DATE) <= DATE '{SKU_END}'),
        span AS (SELECT DATE '{SKU_END}' - min(day) + 1 AS n FROM o),
        l AS (
            SELECT i.sku, i.order_id, o.day, DATE '{SKU_END}' - o.day AS age,
                   CAST(i.quantity AS BIGINT) AS q,
                   CAST(CAST(i.unit_price AS DECIMAL(18,2)) * i.quantity AS DECIMAL(18,2)) AS r,
                   CAST(CAST(i.unit_cost AS DECIMAL(18,2)) * i.quantity AS DECIMAL(18,2)) AS c
            FROM read_parquet('{{d}}/order_items.parquet') i JOIN o USING (order_id)),
        t AS (
            SELECT sku, CAST(sum(q) AS BIGINT) AS units, CAST(sum(r) AS DOUBLE) AS revenue,
                   count(DISTINCT order_id) AS orders,
                   CAST(sum(CASE WHEN c IS NOT NULL THEN r ELSE 0 END) AS DOUBLE) AS cr,
                   CAST(sum(c) AS DOUBLE) AS cogs, count(c) AS cl,
                   min(day) AS first_sale, max(day) AS last_sale
            FROM l GROUP BY sku),
        k AS (SELECT least(n // 7, 52) AS weeks, least(n, 28) AS rd FROM span),
        wk AS (
            SELECT sku, CAST(sum(w) AS DOUBLE) AS w1, CAST(sum(w * w) AS DOUBLE) AS w2
            FROM (SELECT sku, age // 7 AS week, sum(q) AS w FROM l GROUP BY ALL), k
            WHERE week < weeks GROUP BY sku),
        dy AS (
            SELECT sku, CAST(sum(x) AS DOUBLE) AS d1, CAST(sum(x * x) AS DOUBLE) AS d2
            FROM (SELECT sku, age, sum(q) AS x FROM l GROUP BY ALL), k
            WHERE age < rd GROUP BY sku),
        f AS (
            SELECT t.*, weeks, rd, COALESCE(w1, 0) AS w1, COALESCE(w2, 0) AS w2,
                   COALESCE(d1, 0) AS d1, COALESCE(d2, 0) AS d2,
                   CASE WHEN cl > 0 THEN cr - cogs END AS gp
            FROM t LEFT JOIN wk USING (sku) LEFT JOIN dy USING (sku), k)
        SELECT sku, CAST(NULL AS VARCHAR) AS name, CAST(NULL AS VARCHAR) AS category,
               CAST(NULL AS DOUBLE) AS lead_time_days, units, revenue, orders,
               gp AS gross_profit, CASE WHEN cr > 0 THEN gp / cr END AS margin,
               CASE WHEN revenue > 0 THEN cr / revenue
                    WHEN units > 0 THEN CASE WHEN cl > 0 THEN 1.0 ELSE 0.0 END END
                   AS cost_coverage,
               first_sale, last_sale, weeks, CASE WHEN weeks > 0 THEN w1 / weeks END
                   AS weekly_mean,
               CASE WHEN weeks > 1 THEN sqrt(greatest((w2 - w1 * w1 / weeks) / (weeks - 1), 0))
                    END AS weekly_sd,
               rd AS recent_days, CAST(d1 AS BIGINT) AS recent_units,
               CASE WHEN rd > 0 THEN d1 / rd END AS mean_daily,
               CASE WHEN rd > 1 THEN sqrt(greatest((d2 - d1 * d1 / rd) / (rd - 1), 0)) END
                   AS sd_daily,
               CAST(NULL AS TIMESTAMP) AS snapshot_date, CAST(NULL AS BIGINT) AS on_hand,
               CAST(NULL AS BIGINT) AS on_order, CAST(NULL AS BIGINT) AS stockout_days,
               CAST(NULL AS DOUBLE) AS days_of_cover
        FROM f ORDER BY revenue DESC, sku""",
    "unit_metrics": f"""
        WITH a AS (
            SELECT unit_id, variant, assigned_ts, assigned_ts - INTERVAL 90 DAY AS w_pre
            FROM read_parquet('{{d}}/assignments.parquet') WHERE experiment_id = '{EXPERIMENT}'),
        e AS (SELECT date_trunc('day', max(assigned_ts)) + INTERVAL 1 DAY AS w_end FROM a),
        us AS (
            SELECT a.*, s.session_id AS s_id, s.session_ts AS s_ts, s.channel, s.device,
                   s.order_id
            FROM a JOIN read_parquet('{{d}}/sessions.parquet') s ON s.visitor_id = a.unit_id),
        x AS (
            SELECT unit_id, max(s_ts) AS x_start FROM us
            WHERE s_ts <= assigned_ts AND s_ts >= assigned_ts - INTERVAL 60 MINUTE
            GROUP BY unit_id),
        su AS (
            SELECT unit_id, count(*) FILTER (post) AS sessions,
                   count(*) FILTER (pre) AS pre_sessions,
                   bool_or(s_ts < w_start) AS seen_s,
                   arg_min(device, (s_ts, s_id)) FILTER (post) AS device,
                   arg_min(channel, (s_ts, s_id)) FILTER (post) AS channel
            FROM (SELECT us.*, w_start, s_ts >= w_start AND s_ts < w_end AS post,
                         s_ts >= w_pre AND s_ts < w_start AS pre
                  FROM us LEFT JOIN x USING (unit_id), e,
                       LATERAL (SELECT COALESCE(x_start, assigned_ts) AS w_start))
            GROUP BY unit_id),
        uo AS (
            SELECT us.unit_id, us.assigned_ts, us.w_pre, us.s_ts AS o_start, o.order_id AS o_id,
                   o.order_ts AS o_ts, o.status, CAST(o.net_amount AS DECIMAL(18,2)) AS amt,
                   o.channel, o.order_ts >= us.assigned_ts AND us.s_ts < e.w_end AS post
            FROM us JOIN read_parquet('{{d}}/orders.parquet') o ON us.order_id = o.order_id, e
            WHERE o.status IN ('paid', 'refunded')),
        cap AS (SELECT quantile_cont(CAST(amt AS DOUBLE), 0.99) AS cap FROM uo WHERE post),
        ou AS (
            SELECT unit_id, count(DISTINCT o_id) FILTER (post) AS orders,
                   CAST(sum(amt) FILTER (post) AS DOUBLE) AS revenue,
                   count(*) FILTER (post AND status = 'refunded') AS refunded_orders,
                   min(o_ts) FILTER (post) AS first_order_ts,
                   CAST(sum(CAST(least(CAST(amt AS DOUBLE), cap) AS DECIMAL(24,6))) FILTER (post)
                        AS DOUBLE) AS revenue_capped,
                   count(DISTINCT o_id) FILTER (o_ts >= w_pre AND o_ts < assigned_ts) AS pre_orders,
                   CAST(sum(amt) FILTER (o_ts >= w_pre AND o_ts < assigned_ts) AS DOUBLE)
                        AS pre_revenue,
                   bool_or(o_ts < assigned_ts) AS seen_o,
                   arg_min(channel, (o_ts, o_id)) FILTER (post) AS o_channel
            FROM uo, cap GROUP BY unit_id)
        SELECT a.unit_id, a.variant, a.assigned_ts, COALESCE(sessions, 0) AS sessions,
               COALESCE(orders, 0) AS orders, COALESCE(revenue, 0) AS revenue,
               COALESCE(refunded_orders, 0) AS refunded_orders,
               CASE WHEN COALESCE(orders, 0) > 0 THEN 1 ELSE 0 END AS converted, first_order_ts,
               COALESCE(pre_sessions, 0) AS pre_sessions, COALESCE(pre_orders, 0) AS pre_orders,
               COALESCE(pre_revenue, 0) AS pre_revenue, device,
               COALESCE(su.channel, o_channel) AS channel,
               CASE WHEN COALESCE(seen_o, false) OR COALESCE(seen_s, false) THEN 'returning'
                    ELSE 'new' END AS new_vs_returning,
               COALESCE(revenue_capped, 0) AS revenue_capped
        FROM a LEFT JOIN ou USING (unit_id) LEFT JOIN su USING (unit_id)
        ORDER BY a.unit_id""",
}


def build_lines(lines: int, folder: Path) -> Path:
    """``orders``, ``order_items``, ``sessions``, ``assignments`` (Parquet), ``lines`` order lines.

    Every copy ``k`` of the shop suffixes its ids with ``-k`` (orders, customers, sessions,
    visitors, units), so customers, visitors and experiment units scale with the lines and
    a copy's sessions link to its own orders. ``orders``, ``sessions`` and ``assignments``
    hold every copy; ``order_items`` the first ``lines`` lines. A file already present is
    reused (a folder written before sessions and assignments were added gets them, from
    the same number of copies); a new file is written beside the folder and renamed into
    it, so a reader of the folder never sees half a file.
    """
    import duckdb

    out = folder / f"lines_{lines}"
    copies: dict[str, str] = {
        "orders": """order_id || '-' || k AS order_id, customer_id || '-' || k AS customer_id,
               order_ts, channel, status, gross_amount, discount_amount, net_amount, currency""",
        "order_items": "order_id || '-' || k AS order_id, sku, quantity, unit_price, list_price,"
        " unit_cost",
        "sessions": """session_id || '-' || k AS session_id, visitor_id || '-' || k AS visitor_id,
               customer_id || '-' || k AS customer_id, session_ts, channel, device, pageviews,
               product_views, added_to_cart, reached_checkout, order_id || '-' || k AS order_id""",
        "assignments": "experiment_id, unit_id || '-' || k AS unit_id, variant, assigned_ts",
    }
    missing = [t for t in copies if not (out / f"{t}.parquet").exists()]
    if not missing:
        return out
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"ATTACH '{ROOT / 'data' / 'shop.duckdb'}' AS shop (READ_ONLY)")
    row = con.execute("SELECT count(*) FROM shop.order_items").fetchone()
    assert row is not None
    base = row[0]
    n_copies = max(1, math.ceil(lines / base))
    con.execute(f"CREATE TEMP TABLE k AS SELECT range AS k FROM range({n_copies})")
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        for table in missing:
            rows = f"SELECT {copies[table]} FROM shop.{table}, k"
            if table == "order_items":
                rows = f"SELECT {copies[table]} FROM (SELECT * FROM shop.{table}, k) LIMIT {lines}"
            con.execute(f"COPY ({rows}) TO '{tmp}/{table}.parquet' (FORMAT parquet)")
            os.replace(f"{tmp}/{table}.parquet", out / f"{table}.parquet")
    con.close()
    return out


def _builder(name: str, src):  # noqa: ANN001, ANN202 - a source in, an ibis expression out
    from shopbook.features import cohorts, customers, funnel, panels, products, rfm
    from shopbook.features import experiments as ex
    from shopbook.features import sales as S

    orders, items = src.table("orders"), src.table("order_items")
    if name == "unit_metrics":  # as 06_ab_test asks for it (load: unit detected beforehand)
        tables = {t: src.table(t) for t in ("assignments", "sessions", "orders")}
        return ex.unit_metrics(tables, EXPERIMENT, unit="visitor", order_cap_quantile=0.99)

    if name == "funnel_day_device":  # a pandas frame (funnel() executes its expression)
        return funnel.funnel(src.table("sessions"), "day", "device", orders=orders)
    if name == "window_retention":  # a dict of four numbers, as a one-row frame
        import pandas as pd

        return pd.DataFrame([customers.window_retention(orders, *WINDOW)])
    if name == "sku_features":  # a pandas frame; no products or inventory in the bench data
        return products.sku_features(orders, items, end=SKU_END)
    if name == "brief_kpis":  # a pandas frame, its index (current, previous) a column
        from shopbook.features import brief
        from shopbook.features.periods import resolve_window

        window = resolve_window(*WINDOW, None)
        sessions = src.table("sessions")
        return brief.brief_kpis(orders, window, order_items=items, sessions=sessions).reset_index()
    if name == "cohort_activity":
        return cohorts.cohort_activity(orders, "month")
    if name == "kpis_day_channel":
        return S.kpis_expr(orders, "day", by="channel")
    if name == "sku_week_panel":
        return panels.sku_week_panel(items, orders)
    if name == "customer_summary":
        return customers.customer_summary(orders, CAL_END, OBS_END, period="week")
    return rfm.rfm_base(orders, ASOF)


def _pandas(name: str, d: Path, lib: str) -> int:
    """The baseline: read the columns, aggregate in pandas or polars; rows of the result."""
    if lib == "polars":
        import polars as pl

        o = pl.read_parquet(d / "orders.parquet").filter(pl.col("status") == "paid")
        if name == "kpis_day_channel":
            r = o.group_by(pl.col("order_ts").dt.truncate("1d"), "channel").agg(
                pl.col("net_amount").sum(), pl.col("order_id").n_unique()
            )
        elif name == "rfm_base":
            r = o.group_by("customer_id").agg(pl.len(), pl.col("net_amount").sum())
        elif name == "customer_summary":
            days = o.group_by("customer_id", pl.col("order_ts").dt.date()).agg(
                pl.col("net_amount").sum()
            )
            r = days.group_by("customer_id").agg(pl.len(), pl.col("net_amount").sum())
        else:
            i = pl.read_parquet(d / "order_items.parquet")
            j = i.join(o.select("order_id", "order_ts"), on="order_id")
            r = j.group_by("sku", pl.col("order_ts").dt.truncate("1w")).agg(
                pl.col("quantity").sum(), (pl.col("quantity") * pl.col("unit_price")).sum()
            )
        return r.height
    import pandas as pd

    o = pd.read_parquet(
        d / "orders.parquet", columns=["order_id", "customer_id", "order_ts", "status", "channel",
                                       "net_amount"]
    )  # fmt: skip
    o = o[o["status"] == "paid"]
    if name == "kpis_day_channel":
        r = o.groupby([o["order_ts"].dt.floor("D"), "channel"]).agg(
            gmv=("net_amount", "sum"), orders=("order_id", "nunique")
        )
    elif name == "rfm_base":
        r = o.groupby("customer_id").agg(n=("order_id", "size"), m=("net_amount", "sum"))
    elif name == "customer_summary":
        days = o.groupby(["customer_id", o["order_ts"].dt.date]).net_amount.sum().reset_index()
        r = days.groupby("customer_id").agg(n=("net_amount", "size"), t=("net_amount", "sum"))
    else:
        i = pd.read_parquet(d / "order_items.parquet")
        j = i.merge(o[["order_id", "order_ts"]], on="order_id")
        j["week"] = j["order_ts"].dt.to_period("W").dt.start_time
        j["rev"] = j["quantity"] * j["unit_price"]
        r = j.groupby(["sku", "week"]).agg(units=("quantity", "sum"), rev=("rev", "sum"))
    return len(r)


def case(name: str, kind: str, d: Path, pg: str | None, fetch: str = "pandas") -> dict:
    """Run one builder × case in this process; seconds, CPU seconds and result rows.

    ``fetch`` is what the result becomes: a pandas frame (``.df()`` /
    ``features.fetch(expr)``, what the notebooks use; ``execute``: ibis's own
    ``expr.execute()``) or an Arrow table (``.to_arrow_table()`` / ``.to_pyarrow()``: the
    engine's work alone, without the conversion to pandas). The CPU seconds are
    this process's, all its threads (Spark's JVM and PostgreSQL's server are not in it);
    on a busy machine they vary far less than the seconds.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    if kind == "sql":
        import duckdb
        import pandas  # noqa: F401 - imported before the clock, as the builders' cases do

        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        t0, c0 = time.perf_counter(), time.process_time()  # the connection is not the query
        rel = con.sql(SQL[name].format(d=d))
        rows = rel.to_arrow_table().num_rows if fetch == "arrow" else len(rel.df())
    elif kind in ("pandas", "polars"):
        rows = _pandas(name, d, kind)
    else:
        from shopbook.data.sources import open_source
        from shopbook.features import fetch as to_frame

        uri = {"duckdb": str(d), "spark": f"spark://{d}", "postgres": pg}[kind]
        if kind == "spark":
            os.environ.setdefault("SHOPBOOK_SPARK_MASTER", "local[2]")
        src = open_source(uri)
        # the builders' modules imported before the clock, as the SQL case imports duckdb
        for module in BUILDER_MODULES:
            importlib.import_module(f"shopbook.features.{module}")

        t0, c0 = time.perf_counter(), time.process_time()  # the engine's start is not timed
        expr = _builder(name, src)
        if not hasattr(expr, "to_pyarrow"):  # a builder that returns a frame
            rows = len(expr)
        elif fetch == "arrow":
            rows = expr.to_pyarrow().num_rows
        else:
            rows = len(expr.execute() if fetch == "execute" else to_frame(expr))
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "rows": rows}


def check(name: str, d: Path) -> str:
    """Whether the builder's frame (``features.fetch``) equals its SQL's (``.df()``).

    Same columns in the same order, same rows in the same order, equal values; integer
    columns compared as Int64 (a DuckDB sum of integers is a HUGEINT), datetime columns as
    datetime64[us] (``fetch`` turns a DATE into datetime64[s], ``.df()`` into [us]; the values
    are compared exactly) — every other dtype must match. Returns ``"equal"`` or the first
    difference.
    """
    import duckdb
    import pandas as pd

    from shopbook.data.sources import open_source
    from shopbook.features import fetch as to_frame

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    want = con.sql(SQL[name].format(d=d)).df()
    got = _builder(name, open_source(str(d)))
    got = to_frame(got) if hasattr(got, "to_pyarrow") else got
    if name != "unit_metrics":  # the others' SQL order rows differently (or not at all)
        keys = list(got.columns[:2])
        got = got.sort_values(keys, ignore_index=True)
        want = want.sort_values(keys, ignore_index=True)
    for f in (got, want):
        for c in f.columns:
            if pd.api.types.is_integer_dtype(f[c]):
                f[c] = f[c].astype("Int64")
            elif pd.api.types.is_datetime64_dtype(f[c]):  # a DATE: [s] from fetch, [us] from .df()
                f[c] = f[c].astype("datetime64[us]")
    # brief_kpis's line revenue is each order's amount spread over its lines by float
    # shares: sums of those floats in another order differ in the last places
    close = {"check_exact": False, "rtol": 1e-9} if name == "brief_kpis" else {}
    try:
        pd.testing.assert_frame_equal(got, want, **{"check_exact": True, **close})
    except AssertionError as err:
        return "DIFFERENT: " + " ".join(str(err).split())[:200]
    return f"equal ({len(got):,} rows)"


def _measure(cmd: list[str]) -> tuple[dict | None, float, str]:
    """Run ``cmd``; its JSON result, the peak RSS (MB) of its process tree, stderr tail."""
    import psutil

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0]

    def sample() -> None:
        p = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                tree = [p, *p.children(recursive=True)]
                peak[0] = max(peak[0], sum(q.memory_info().rss for q in tree) / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, err = proc.communicate()
    t.join()
    try:
        return json.loads(out.strip().splitlines()[-1]), peak[0], ""
    except (ValueError, IndexError):
        return None, peak[0], (err.strip().splitlines() or ["failed"])[-1][:120]


def _load_postgres(uri: str, d: Path) -> None:
    import duckdb
    import ibis

    pg = ibis.connect(uri)
    for name in ("orders", "order_items"):
        rel = duckdb.sql(f"SELECT * FROM read_parquet('{d}/{name}.parquet')")
        pg.create_table(name, schema=ibis.duckdb.connect().sql(rel.sql_query()).schema(),
                        overwrite=True)  # fmt: skip
        with pg.con.cursor() as cur, cur.copy(f'COPY "{name}" FROM STDIN (FORMAT csv)') as cp:
            for batch in rel.fetch_arrow_reader(200_000):
                cp.write(batch.to_pandas().to_csv(index=False, header=False))
        pg.con.commit()
        with pg.begin() as cur:
            cur.execute(f'ANALYZE "{name}"')
    pg.disconnect()


def _slope(points: list[tuple[int, float]]) -> float:
    if len(points) < 2:
        return float("nan")
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(max(s, 1e-6)) for _, s in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=float, nargs="*", default=[1e6, 1e7])
    ap.add_argument("--builders", default=",".join(BUILDERS))
    ap.add_argument("--cases", default="sql,duckdb,spark,pandas,polars")
    ap.add_argument(
        "--postgres",
        default=os.environ.get("SHOPBOOK_BENCH_POSTGRES"),
        help="a PostgreSQL URI to load the lines into (adds the postgres case)",
    )
    ap.add_argument(
        "--fetch",
        choices=("pandas", "execute", "arrow"),
        default="pandas",
        help="the result as a pandas frame (default: features.fetch), a frame from ibis's"
        " execute(), or an Arrow table (the engine alone)",
    )
    ap.add_argument(
        "--check-lines",
        type=float,
        default=1e6,
        help="up to this many lines, check that each builder's frame equals its SQL's",
    )
    ap.add_argument("--case", nargs=3, help=argparse.SUPPRESS)  # internal: builder kind dir
    ap.add_argument("--check", nargs=2, help=argparse.SUPPRESS)  # internal: builder dir
    args = ap.parse_args()
    if args.check:
        print(json.dumps({"check": check(args.check[0], Path(args.check[1]))}))
        return
    if args.case:
        name, kind, d = args.case
        print(json.dumps(case(name, kind, Path(d), args.postgres, args.fetch)))
        return
    import importlib.util

    cases = [c for c in args.cases.split(",") if c]
    if args.postgres and "postgres" not in cases:
        cases.append("postgres")
    for lib, mod in (("spark", "pyspark"), ("polars", "polars")):
        if lib in cases and importlib.util.find_spec(mod) is None:
            print(f"({lib}: {mod} is not installed; case skipped)")
            cases.remove(lib)
    folder = Path(tempfile.gettempdir()) / "shopbook_bench"
    header = (
        f"{'lines':>11} {'builder':18} {'case':9} {'seconds':>8} {'peak MB':>8} {'× SQL':>6}"
        f" {'cpu s':>7} {'cpu×SQL':>7}"
    )
    print(header + "\n" + "-" * len(header))
    times: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for n in [int(x) for x in args.lines]:
        d = build_lines(n, folder)
        if "postgres" in cases:
            _load_postgres(args.postgres, d)
        for name in args.builders.split(","):
            base = cpu_base = None
            for kind in ["sql", *[c for c in cases if c != "sql"]]:
                cmd = [
                    sys.executable,
                    __file__,
                    "--case",
                    name,
                    kind,
                    str(d),
                    "--fetch",
                    args.fetch,
                ]
                if args.postgres:
                    cmd += ["--postgres", args.postgres]
                res, peak, err = _measure(cmd)
                if res is None:
                    print(f"{n:>11,} {name:18} {kind:9} failed: {err}")
                    continue
                s, cpu = res["seconds"], res["cpu"]
                base = s if kind == "sql" else base
                cpu_base = cpu if kind == "sql" else cpu_base
                ratio = f"{s / base:6.2f}" if base else "     –"
                cpu_ratio = f"{cpu / cpu_base:7.2f}" if cpu_base else "      –"
                print(f"{n:>11,} {name:18} {kind:9} {s:8.2f} {peak:8.0f} {ratio} {cpu:7.2f}"
                      f" {cpu_ratio}", flush=True)  # fmt: skip
                times.setdefault((name, kind), []).append((n, s))
                if name == "customer_summary" and kind == "duckdb" and n >= 10**8:
                    ok = s <= 60 and peak <= 4096
                    print(f"{'':>11} goal: ≤ 60 s and ≤ 4096 MB on 100 M lines: "
                          f"{'met' if ok else 'NOT met'}")  # fmt: skip
            if "duckdb" in cases and n <= args.check_lines:
                res, _, err = _measure([sys.executable, __file__, "--check", name, str(d)])
                print(f"{'':>11} {name:18} duckdb frame vs SQL frame: "
                      f"{res['check'] if res else 'check failed: ' + err}")  # fmt: skip
    print("\nslope of log(seconds) over log(lines) (1 = linear):")
    for (name, kind), pts in sorted(times.items()):
        print(f"  {name:18} {kind:9} {_slope(pts):5.2f}")
    print("goal: every builder on DuckDB within 1.2× its SQL (the × SQL column)")


if __name__ == "__main__":
    main()
