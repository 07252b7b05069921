"""Monthly goal attainment: hand-computed attainment and pace, the month-end interval's
coverage of known simulated months, and the shipped shop's example targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import confint_poisson

from shopbook.analysis import kpi
from shopbook.analysis.kpi.targets import remaining_total
from shopbook.data.targets import Targets, read_targets
from shopbook.errors import ContractError
from shopbook.features.brief import month_to_date
from tests.builders import orders_frame

ROOT = Path(__file__).resolve().parents[2]


def targets(month: str = "2024-12", currency: str | None = "CNY", **goals: float) -> Targets:
    rows = [(month, m, float(v)) for m, v in goals.items()]
    table = pd.DataFrame(rows, columns=["month", "metric", "target"])
    return Targets(table=table, currency=currency, path=Path("targets.yml"))


@pytest.fixture(scope="module")
def small() -> dict[str, pd.DataFrame]:
    """Four December buyers, a refund, a cancellation, an order after the day counted."""
    orders = orders_frame(
        [
            ("A", "2024-11-20 10:00", 100.0),
            ("A", "2024-12-02 10:00", 200.0),
            ("A", "2024-12-05 10:00", 50.0),
            ("B", "2024-12-03 10:00", 300.0),
            ("C", "2024-12-04 10:00", 500.0, "refunded"),
            ("C", "2024-12-08 10:00", 150.0),
            ("D", "2024-12-11 10:00", 1000.0),
            ("E", "2024-12-09 10:00", 80.0, "cancelled"),
        ]
    )
    days = pd.date_range("2024-11-01", "2024-12-31", freq="D")
    spend = pd.DataFrame(
        {"date": days, "channel": "site", "spend": np.where(days == "2024-12-11", 999.0, 10.0)}
    )
    return {"orders": orders, "marketing_spend": spend}


def test_hand_computed_attainment_and_pace(small: dict[str, pd.DataFrame]) -> None:
    # 1-10 December: GMV 200 + 50 + 300 + 150 = 700 from 4 paid orders; buyers A, B, C; new
    # B and C (A bought in November, C's refund is not a purchase); A bought twice; spend 100
    m = month_to_date(small["orders"], "2024-12-10", marketing_spend=small["marketing_spend"])
    assert m.month_start == pd.Timestamp("2024-12-01")
    assert m.month_end == pd.Timestamp("2024-12-31")
    assert int(m.daily.loc[m.daily["period"] >= "2024-12-01", "new_customers"].sum()) == 2
    assert m.daily["period"].min() == pd.Timestamp("2024-11-20")  # from the first sale on
    goals = targets(gmv=3100, orders=31, new_customers=5, cac=60, repurchase_rate=0.5)
    r = kpi.attainment(goals, m.values, None, currency="CNY")
    assert r.ok() and r.days_elapsed == 10 and r.days_in_month == 31 and not r.final
    t = r.table.set_index("metric")
    assert list(t.index) == ["gmv", "orders", "new_customers", "cac", "repurchase_rate"]
    g = t.loc["gmv"]
    assert g["actual_to_date"] == pytest.approx(700.0)
    assert g["attainment"] == pytest.approx(700 / 3100)
    assert g["expected_by_now"] == pytest.approx(1000.0)  # 3100 × 10 / 31
    assert g["vs_expected"] == pytest.approx(0.7)
    assert g["pace_to_date_per_day"] == pytest.approx(70.0)
    assert g["pace_needed_per_day"] == pytest.approx(2400 / 21)
    assert np.isnan(g["forecast_month_end"])  # no daily series given
    assert "no month-end forecast" in g["note"]
    assert g["on_track"] is False  # 70/day for 31 days is 2170 < 3100
    o = t.loc["orders"]
    assert o["actual_to_date"] == 4 and o["pace_needed_per_day"] == pytest.approx(27 / 21)
    n = t.loc["new_customers"]
    assert n["actual_to_date"] == 2 and n["expected_by_now"] == pytest.approx(50 / 31)
    assert n["pace_needed_per_day"] == pytest.approx(3 / 21)
    c = t.loc["cac"]
    assert c["actual_to_date"] == pytest.approx(50.0) and c["better"] == "lower"
    assert c["on_track"] is True and c["expected_by_now"] == 60
    lo, hi = confint_poisson(2, 1.0, method="exact-c", alpha=0.05)
    assert (c["lo95"], c["hi95"]) == pytest.approx((100 / hi, 100 / lo))
    p = t.loc["repurchase_rate"]
    assert p["actual_to_date"] == pytest.approx(1 / 3) and p["on_track"] is False
    assert (p["lo80"], p["hi80"]) == pytest.approx(proportion_confint(1, 3, 0.2, "wilson"))
    assert r.lagging() == ["gmv", "orders", "repurchase_rate"]
    s = r.summary()
    assert s.startswith("10 of 31 days of 2024-12 are counted: 2 of 5 targets on track; 3 lag")
    assert "GMV (paid amount) needs 114/day (so far 70.00/day);" in s


def test_a_complete_month_is_final(small: dict[str, pd.DataFrame]) -> None:
    m = month_to_date(small["orders"], "2024-12-31", marketing_spend=small["marketing_spend"])
    r = kpi.attainment(targets(gmv=1500, new_customers=3), m.values, m.daily)
    assert r.final and r.days_left == 0 and r.model == ""
    t = r.table.set_index("metric")
    assert t.loc["gmv", "actual_to_date"] == pytest.approx(1700.0)
    assert t.loc["gmv", "on_track"] is True
    assert t.loc["gmv", "forecast_month_end"] == t.loc["gmv", "hi95"] == pytest.approx(1700.0)
    assert np.isnan(t.loc["gmv", "pace_needed_per_day"])
    assert t.loc["new_customers", "actual_to_date"] == 3 and t.loc["new_customers", "on_track"]
    assert "2024-12 is complete: attainment is final." in r.notes
    assert r.summary() == "2024-12 is complete: the month met every target (2)."


def test_skips_and_errors(small: dict[str, pd.DataFrame]) -> None:
    m = month_to_date(small["orders"], "2024-12-10", marketing_spend=small["marketing_spend"])
    none = kpi.attainment(Targets(missing="no targets: none beside the data"), m.values)
    assert not none.ok() and none.why() == "no targets: none beside the data"
    other = kpi.attainment(targets("2025-01", gmv=1), m.values)
    assert other.why() == "no targets for 2024-12 in targets.yml (months: 2025-01)"
    with pytest.raises(ContractError, match="expected the data's currency CNY, found USD"):
        kpi.attainment(targets(currency="USD", gmv=1), m.values, currency="CNY")
    # a count target in another currency's file is fine
    assert kpi.attainment(targets(currency="USD", orders=1), m.values, currency="CNY").ok()
    no_spend = month_to_date(small["orders"], "2024-12-10")
    t = kpi.attainment(targets(cac=60), no_spend.values).table.set_index("metric")
    assert np.isnan(t.loc["cac", "actual_to_date"]) and t.loc["cac", "on_track"] is None
    assert t.loc["cac", "note"] == "needs the marketing_spend table, which the source lacks"


def _known_month(seed: int) -> tuple[pd.Series, float]:
    """A daily series from a known local-level + weekly-season process on logs (400 days
    to 15 December 2024), and the true total of December."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range(end="2024-12-31", periods=416, freq="D")
    n = len(idx)
    level = np.log(1000) + np.cumsum(rng.normal(0, 0.04, n))
    week = np.array([0.0, 0.05, 0.1, 0.05, 0.0, -0.1, -0.1])[idx.dayofweek]
    y = pd.Series(np.exp(level + week + rng.normal(0, 0.08, n)), index=idx)
    return y[:"2024-12-15"], float(y["2024-12"].sum())


def test_month_end_interval_covers_known_months() -> None:
    hits = {80: 0, 95: 0}
    for seed in range(12):
        history, truth = _known_month(seed)
        sums, desc, _ = remaining_total(history, 16, simulations=2000, seed=seed)
        assert desc.startswith("ETS(A,Ad,A, 7)")
        totals = float(history["2024-12"].sum()) + sums
        for lv in hits:
            q = (1 - lv / 100) / 2
            lo, hi = np.quantile(totals, [q, 1 - q])
            hits[lv] += int(lo <= truth <= hi)
    # rough: 12 months, nominal 80% and 95%
    assert hits[95] >= 10, hits
    assert 6 <= hits[80] <= 12, hits


def test_the_sum_keeps_the_days_correlation() -> None:
    """The sum's spread exceeds what the days' own spreads give if added as independent."""
    from shopbook.analysis.trend import forecast

    history, _ = _known_month(0)
    sums, _, _ = remaining_total(history, 16, simulations=2000, seed=0)
    fc = forecast(history, 16, [], model="ets")
    paths = np.exp(
        np.asarray(
            fc.results.simulate(16, anchor="end", repetitions=2000, rng=np.random.default_rng(0))
        )
    )
    assert sums == pytest.approx(paths.sum(axis=0))  # the same paths, summed
    independent = np.sqrt(paths.var(axis=1).sum())
    assert sums.std() > 1.5 * independent, (sums.std(), independent)


def test_the_shipped_shop_meets_some_example_targets() -> None:
    from shopbook.notebook import open_report

    report = open_report("01_kpi_brief", str(ROOT / "data" / "shop.duckdb"))
    orders = report.kept("orders")
    m = month_to_date(
        orders,
        "2024-12-31",
        order_items=report.kept("order_items"),
        marketing_spend=report.kept("marketing_spend"),
    )
    example = read_targets(ROOT / "data" / "targets.example.yml")
    r = kpi.attainment(example, m.values, m.daily, currency="CNY")
    t = r.table.set_index("metric")
    on = t["on_track"].to_dict()
    assert any(on.values()) and not all(on.values()), on
    # the actuals are the KPI table's, nothing redefined
    kt = kpi.kpi_table(m.values).table.set_index("metric")["value"]
    for name in t.index:
        assert t.loc[name, "actual_to_date"] == pytest.approx(kt[name])
