"""A/B test evaluation on summary statistics and small per-unit frames.

Every public function takes *summary statistics* (counts, means, variances) or plain
unit-level arrays, so anyone can call it without Shopbook's data layer. The per-unit
frame these are computed from is built in the engine by
:mod:`shopbook.features.experiments`.

The pieces, in the order a readout uses them (one module each):

* **Trust the split** (:mod:`.srm`) — :func:`srm_test` (chi-square against the intended
  shares read by :func:`parse_split`), :func:`check_variants`, :func:`check_units`.
* **What changed** (:mod:`.comparisons`) — :func:`compare_proportions` (two-proportion
  z-test), :func:`compare_means` / :func:`compare_means_units` (Welch),
  :func:`compare_ratios` (ratio metrics such as average order value, delta method with
  unit-level randomisation). Each returns the control and treatment values, the
  absolute and the relative lift (relative by the delta method) with confidence
  intervals, and a p-value.
* **Variance reduction** (:mod:`.cuped`) — :func:`cuped`, :func:`cuped_units`.
* **Bayesian view** (:mod:`.bayes`) — :func:`bayes_proportions` (Beta-Binomial).
* **Peeking-safe view** (:mod:`.sequential`) — :func:`msprt_pvalues`,
  :func:`confidence_sequence`, :func:`sequential_view` and :func:`daily_looks`
  (always-valid p-values and confidence sequences of the normal-mixture sequential
  probability ratio test).
* **Power** (:mod:`.power`) — :func:`sample_size`, :func:`power_proportions`,
  :func:`mde_proportions`, :func:`power_at_traffic`.
* **Many variants and metrics** — :func:`adjust_pvalues` (:mod:`.multiplicity`: Holm /
  Benjamini-Hochberg through statsmodels), :func:`metric_table`,
  :func:`segment_table` (:mod:`.units`, over a per-unit frame).
* **Decision** (:mod:`.decision`) — :func:`decide`: ship / don't ship / keep running,
  with reasons.
* **Readout** (:mod:`.readout`) — :func:`evaluate` computes every section into a
  :class:`Readout` (a :class:`shopbook.analysis.result.Result`: ``ok`` / ``why`` per
  section).
* **Every experiment of a source** (:mod:`.overview`) — :func:`readout_of` (one
  experiment's readout from the data layer's :class:`ExperimentData`), :func:`overview`
  (status running / ended, split check, planned sample, days left),
  :func:`headlines` (key figures named per experiment) and :func:`sections` (what the
  report shows for one experiment, as a list of :class:`Part`).

The comparison functions are vectorised: pass numpy arrays of summary statistics and
every field of the result is an array (this is how the simulated A/A tests run
hundreds of experiments at once). With scalar inputs the fields are plain floats.

Conventions: arm ``a`` is the control, arm ``b`` the treatment; lifts are ``b − a``
(absolute) and ``b / a − 1`` (relative). Variances are sample variances (``ddof=1``).
"""

from __future__ import annotations

from shopbook.analysis.abtest.bayes import BayesResult, bayes_proportions
from shopbook.analysis.abtest.comparisons import (
    Comparison,
    compare_means,
    compare_means_units,
    compare_proportions,
    compare_ratios,
    winsorize,
)
from shopbook.analysis.abtest.cuped import CupedResult, cuped, cuped_units
from shopbook.analysis.abtest.decision import Decision, decide
from shopbook.analysis.abtest.errors import ABTestError
from shopbook.analysis.abtest.multiplicity import METHOD_NAMES, adjust_pvalues
from shopbook.analysis.abtest.overview import (
    OVERVIEW_COLUMNS,
    Overview,
    Part,
    experiment_status,
    headlines,
    overview,
    readout_of,
    sections,
)
from shopbook.analysis.abtest.power import (
    SampleSize,
    mde_proportions,
    power_at_traffic,
    power_proportions,
    sample_size,
)
from shopbook.analysis.abtest.readout import SECTIONS, Readout, evaluate, power_table
from shopbook.analysis.abtest.sequential import (
    confidence_sequence,
    daily_looks,
    first_significant_look,
    msprt_pvalues,
    sequential_view,
)
from shopbook.analysis.abtest.srm import (
    SRMResult,
    check_units,
    check_variants,
    parse_split,
    srm_test,
)
from shopbook.analysis.abtest.units import (
    METRICS,
    ROW_COLUMNS,
    compare_metric,
    metric_table,
    segment_table,
)

__all__ = [
    "ABTestError",
    "SRMResult",
    "Comparison",
    "CupedResult",
    "BayesResult",
    "SampleSize",
    "Decision",
    "srm_test",
    "compare_proportions",
    "compare_means",
    "compare_means_units",
    "compare_ratios",
    "compare_metric",
    "cuped",
    "bayes_proportions",
    "sample_size",
    "power_proportions",
    "mde_proportions",
    "power_at_traffic",
    "msprt_pvalues",
    "confidence_sequence",
    "sequential_view",
    "daily_looks",
    "first_significant_look",
    "cuped_units",
    "adjust_pvalues",
    "winsorize",
    "check_variants",
    "check_units",
    "metric_table",
    "segment_table",
    "decide",
    "parse_split",
    "Readout",
    "evaluate",
    "power_table",
    "readout_of",
    "overview",
    "experiment_status",
    "headlines",
    "sections",
    "Overview",
    "Part",
    "OVERVIEW_COLUMNS",
    "METRICS",
    "METHOD_NAMES",
    "ROW_COLUMNS",
    "SECTIONS",
]
