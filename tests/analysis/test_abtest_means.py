"""compare_means: both intervals use Welch's t (Welch–Satterthwaite degrees of freedom)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from shopbook.analysis import abtest as ab


def test_relative_interval_is_the_delta_method_with_the_welch_t_quantile_by_hand():
    # small arms, unequal variances: t and z quantiles differ by several percent
    m_a, v_a, n_a = 10.0, 16.0, 8
    m_b, v_b, n_b = 13.0, 36.0, 12
    c = ab.compare_means(m_a, v_a, n_a, m_b, v_b, n_b, alpha=0.05)

    s2a, s2b = v_a / n_a, v_b / n_b  # 2.0, 3.0
    df = (s2a + s2b) ** 2 / (s2a**2 / (n_a - 1) + s2b**2 / (n_b - 1))  # 25 / (4/7 + 9/11)
    assert df == pytest.approx(25 / (4 / 7 + 9 / 11))
    t = stats.t.ppf(0.975, df)
    rel = m_b / m_a - 1  # 0.3
    # delta method on m_b / m_a: Var ≈ s2b / m_a² + m_b² s2a / m_a⁴
    rel_se = math.sqrt(s2b / m_a**2 + m_b**2 * s2a / m_a**4)
    assert c.rel_lift == pytest.approx(0.3)
    assert c.rel_ci[0] == pytest.approx(rel - t * rel_se, abs=1e-12)
    assert c.rel_ci[1] == pytest.approx(rel + t * rel_se, abs=1e-12)
    # and not the normal quantile (the interval used to be z-based)
    z = stats.norm.ppf(0.975)
    assert c.rel_ci[1] - c.rel_ci[0] > 2 * z * rel_se * 1.03
    # the absolute interval uses the same t
    se = math.sqrt(s2a + s2b)
    assert c.abs_ci == pytest.approx((3.0 - t * se, 3.0 + t * se), abs=1e-12)


@pytest.mark.parametrize("seed,n_a,n_b,alpha", [(0, 9, 14, 0.05), (1, 300, 250, 0.1)])
def test_absolute_interval_agrees_with_statsmodels_tconfint_diff_unequal(seed, n_a, n_b, alpha):
    rng = np.random.default_rng(seed)
    y_a = rng.normal(5.0, 1.0, n_a)
    y_b = rng.normal(5.4, 2.5, n_b)
    c = ab.compare_means(
        y_a.mean(), y_a.var(ddof=1), n_a, y_b.mean(), y_b.var(ddof=1), n_b, alpha=alpha
    )
    lo, hi = CompareMeans(DescrStatsW(y_b), DescrStatsW(y_a)).tconfint_diff(
        alpha=alpha, usevar="unequal"
    )
    assert c.abs_ci[0] == pytest.approx(lo, abs=1e-10)
    assert c.abs_ci[1] == pytest.approx(hi, abs=1e-10)
    # both intervals share one critical value: half-width / SE is the same number
    rel_se = math.sqrt(
        y_b.var(ddof=1) / n_b / y_a.mean() ** 2
        + y_b.mean() ** 2 * y_a.var(ddof=1) / n_a / y_a.mean() ** 4
    )
    crit_abs = (c.abs_ci[1] - c.abs_ci[0]) / (2 * c.se)
    crit_rel = (c.rel_ci[1] - c.rel_ci[0]) / (2 * rel_se)
    assert crit_rel == pytest.approx(crit_abs, rel=1e-12)


def test_vectorised_relative_intervals_use_each_rows_own_degrees_of_freedom():
    c = ab.compare_means(
        np.array([10.0, 10.0]),
        np.array([16.0, 16.0]),
        np.array([5, 5_000]),
        np.array([12.0, 12.0]),
        np.array([25.0, 25.0]),
        np.array([6, 6_000]),
    )
    half = (c.rel_ci[1] - c.rel_ci[0]) / 2
    rel_se = np.sqrt(25.0 / np.array([6, 6_000]) / 100 + 144 * 16.0 / np.array([5, 5_000]) / 1e4)
    crit = half / rel_se
    assert crit[0] > 2.2  # a handful of units: t with ≈ 9 df
    assert crit[1] == pytest.approx(stats.norm.ppf(0.975), abs=2e-3)  # large: ≈ z
