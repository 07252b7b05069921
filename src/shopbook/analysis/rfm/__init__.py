"""RFM: recency, frequency and monetary scores, named segments, clusters and migration.

The per-customer aggregate runs in the engine (:func:`shopbook.features.rfm.customer_rfm`);
everything here works on the small frame that comes back (one row per customer)::

    customers = customer_rfm(orders, asof)          # shopbook.features.rfm, in the engine
    table = rfm.rfm_table(customers, rules=rules)   # scores, segments, layers
    segments = rfm.segment_table(table, rules=rules)

Definitions
-----------
``asof``
    A day: the first day *not* counted. Orders with ``order_ts`` before midnight of
    ``asof`` count. Default: the day after the last order in the data
    (:func:`shopbook.features.rfm.rfm_asof`).
``lookback_days``
    Only orders in ``[asof - lookback_days, asof)`` count; ``None`` (default) counts the
    whole history before ``asof``.
recency
    Whole days from the date of the customer's last counted order to ``asof`` (≥ 1: a
    customer who bought the day before ``asof`` has recency 1).
frequency
    Number of counted orders (purchases: status ``paid`` by default; refunded and
    cancelled orders are neither purchases nor money).
monetary
    Sum of ``net_amount`` of those orders, rounded to the cent.

Scores and the tie rule
-----------------------
Each of R, F and M gets a score from 1 to 5 by quintile of the customers, with this
**tie rule**:

    score = 1 + ⌊5 × (share of customers who are strictly worse)⌋

"Worse" is *longer* recency, *fewer* orders, *less* money. So a customer's score is one
plus the number of whole fifths of the customer base the customer strictly beats.
Without ties this is the plain quintile (the bottom fifth scores 1, the top fifth 5).
With ties, **customers with equal values always get equal scores**, and a tied group
gets the score of the lowest position it occupies; scores that would fall inside a
tied group are simply not used. Example: when 60 % of customers bought once, every
one-time buyer has ``f_score`` 1 (they beat nobody), two-time buyers beat 60 % and score
4, and scores 2 and 3 are empty. That is what CDNOW looks like — no arbitrary split of
identical customers into different scores, and no score depends on row order.
:func:`quintile_scores` implements it; it is equivalent to
``1 + (5 * (rank(method="min") - 1)) // n``.

The combined value score is ``fm_score = ⌈(f_score + m_score) / 2⌉`` (round half up).

Segments
--------
The rules are data: ``rfm_segments.csv`` in :mod:`shopbook.analysis` (:func:`load_rules`),
one row per rule with the score ranges ``r_min..r_max`` × ``fm_min..fm_max`` it covers,
the segment's rank (its order from best to worst, used for "moved up" / "slipped"), a
description and the recommended action. Two schemes ship:

* ``segment`` — the common 11-segment scheme (Champions, Loyal, Potential Loyalist, New,
  Promising, Need Attention, About to Sleep, At Risk, Can't Lose Them, Hibernating,
  Lost) on the R × FM grid;
* ``layer`` — the value × activity layers (high/low value × active/lapsing), each with
  its action (exclusive benefits and new-product trials, a wake-up plan, bundles, …) and
  its private-domain community group (loyal / potential / dormant).

Each scheme must cover every one of the 25 (r_score, fm_score) cells exactly once;
:func:`load_rules` checks that, so a team can edit the file without code and learns
at once when an edit leaves a gap or an overlap.

Modules
-------
* :mod:`~shopbook.analysis.rfm.rules` — the rules table, its grid, the wake-up layer;
* :mod:`~shopbook.analysis.rfm.scores` — quintile scores, segment names, the RFM table;
* :mod:`~shopbook.analysis.rfm.segments` — the segment table, score grid and thresholds;
* :mod:`~shopbook.analysis.rfm.clusters` — k-means / Gaussian-mixture clusters;
* :mod:`~shopbook.analysis.rfm.migration` — segment transitions between two dates;
* :mod:`~shopbook.analysis.rfm.export` — CRM lists (CSV per segment, Excel workbook);
* :mod:`~shopbook.analysis.rfm.relevance` — whether the F score separates customers, the
  condition for segments and lists (derived from the tie rule).
"""

from __future__ import annotations

from shopbook.analysis.rfm._common import LEVELS
from shopbook.analysis.rfm.clusters import (
    ClusterResult,
    cluster,
    cluster_agreement,
    cluster_centers,
    cluster_profiles,
    cluster_vs_segment,
    transform_rfm,
)
from shopbook.analysis.rfm.export import (
    EXCEL_MAX_ROWS,
    EXPORT_COLUMNS,
    export_segments,
    slug,
    written_files,
)
from shopbook.analysis.rfm.migration import (
    DIRECTIONS,
    LEFT_WINDOW,
    NOT_YET,
    Migration,
    direction_table,
    migration,
)
from shopbook.analysis.rfm.relevance import Relevance, f_step, relevance
from shopbook.analysis.rfm.rules import (
    RULE_COLUMNS,
    default_rules_path,
    load_rules,
    rule_table,
    segment_grid,
    wake_up_layer,
)
from shopbook.analysis.rfm.scores import (
    RFM_COLUMNS,
    assign,
    fm_scores,
    quintile_scores,
    rfm_table,
    score,
)
from shopbook.analysis.rfm.segments import (
    SEGMENT_TABLE_COLUMNS,
    as_percent,
    score_grid,
    score_thresholds,
    segment_table,
    table_facts,
    top_segment,
    unused_scores,
    window_text,
)

__all__ = [
    "DIRECTIONS",
    "EXCEL_MAX_ROWS",
    "EXPORT_COLUMNS",
    "LEFT_WINDOW",
    "LEVELS",
    "NOT_YET",
    "RFM_COLUMNS",
    "RULE_COLUMNS",
    "SEGMENT_TABLE_COLUMNS",
    "ClusterResult",
    "Migration",
    "Relevance",
    "as_percent",
    "assign",
    "cluster",
    "cluster_agreement",
    "cluster_centers",
    "cluster_profiles",
    "cluster_vs_segment",
    "default_rules_path",
    "direction_table",
    "export_segments",
    "f_step",
    "fm_scores",
    "load_rules",
    "migration",
    "quintile_scores",
    "relevance",
    "rfm_table",
    "rule_table",
    "score",
    "score_grid",
    "score_thresholds",
    "segment_grid",
    "segment_table",
    "slug",
    "table_facts",
    "top_segment",
    "transform_rfm",
    "unused_scores",
    "wake_up_layer",
    "window_text",
    "written_files",
]
