"""shopbook.viz.trend: kpi_lines, decomposition, changepoints, event_effects, forecast,
backtest, growth_share, channel_share."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from shopbook.analysis.trend import (
    Backtest,
    Changepoints,
    Decomposition,
    EventEffects,
    Forecast,
    GrowthShare,
    Shares,
)
from shopbook.viz import trend
from shopbook.viz.theme import title_of


def _data_lines(ax):
    """Lines that hold data (seaborn adds empty ones for its legend)."""
    return [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.fixture
def kpis() -> pd.DataFrame:
    weeks = pd.date_range("2024-01-01", periods=6, freq="W-MON")
    rows = []
    for channel, level in [("tmall", 300.0), ("jd", 200.0), ("site", 50.0)]:
        for i, w in enumerate(weeks):
            gmv = level + 10 * i
            rows.append({"period": w, "channel": channel, "gmv": gmv, "orders": gmv / 10})
    return pd.DataFrame(rows)


def test_kpi_lines_one_line_per_top_group(draw, kpis):
    ax = draw(
        trend.kpi_lines, kpis, metric="gmv", by="channel", period="week", currency="CNY", top=2
    )
    lines = _data_lines(ax)
    assert len(lines) == 2  # site is not among the top 2 by GMV
    assert all(len(ln.get_xdata()) == 6 for ln in lines)
    assert _legend(ax) == ["tmall", "jd"]
    assert title_of(ax) == "GMV per week by channel"
    assert ax.get_xlabel() == "Week"
    assert ax.get_ylabel() == "GMV (CNY per week)"
    assert ax.get_ylim()[0] == 0


def test_kpi_lines_count_metric_without_groups(draw, kpis):
    total = kpis.groupby("period", as_index=False)[["gmv", "orders"]].sum()
    ax = draw(trend.kpi_lines, total, metric="orders", period="day")
    (line,) = _data_lines(ax)
    assert np.allclose(line.get_ydata(), total["orders"])
    assert title_of(ax) == "Orders per day"
    assert ax.get_ylabel() == "Orders (per day)"


def test_kpi_lines_average_order_value_takes_the_currency(draw_new, kpis):
    data = kpis.assign(aov=kpis["gmv"] / kpis["orders"])
    ax = draw_new(trend.kpi_lines, data, metric="aov", by="channel", period="month", currency="CNY")
    assert len(_data_lines(ax)) == 3
    assert title_of(ax) == "Average order value per month by channel"
    assert ax.get_ylabel() == "Average order value (CNY)"


@pytest.fixture
def dec() -> Decomposition:
    days = pd.date_range("2024-01-01", periods=70, freq="D")
    t = np.arange(70)
    season = 10 * np.sin(2 * np.pi * t / 7)
    frame = pd.DataFrame(
        {
            "observed": 1000 + 2 * t + season + np.cos(t),
            "trend": 1000 + 2.0 * t,
            "seasonal_7": season,
            "resid": np.cos(t),
        },
        index=days,
    )
    return Decomposition(table=frame, seasons=[7], method="STL")


def test_decomposition_one_panel_per_component(dec):
    fig, given = plt.subplots(4, 1, sharex=True)
    before = plt.get_fignums()
    out = trend.decomposition(dec, axes=given, unit="CNY")
    assert plt.get_fignums() == before
    assert list(out) == list(given)
    assert [ax.get_ylabel() for ax in out] == ["Observed", "Trend", "Season 7", "Remainder"]
    for ax, col in zip(out, dec.table.columns, strict=True):
        (line,) = ax.get_lines()
        assert np.allclose(line.get_ydata(), dec.table[col])
    assert title_of(out[0]) == "Decomposition: STL (CNY)"
    assert out[-1].get_xlabel() == "Day"


def test_decomposition_makes_its_own_figure(dec):
    before = set(plt.get_fignums())
    out = trend.decomposition(dec)
    assert len(set(plt.get_fignums()) - before) == 1
    assert len(out) == 4
    assert title_of(out[0]) == "Decomposition: STL"


def test_changepoints_series_trend_and_one_marker_per_changepoint(draw, dec):
    table = pd.DataFrame(
        {"date": pd.to_datetime(["2024-01-20", "2024-02-15"]), "change_pct": [0.2, -0.1]}
    )
    cps = Changepoints(table=table, segments=dec.table["trend"])
    ax = draw(trend.changepoints, dec, cps, unit="CNY")
    lines = ax.get_lines()
    assert len(lines) == 2 + len(table)  # deseasonalised, piecewise trend, one rule per date
    deseason = dec.table["observed"] - dec.table["seasonal_7"]
    assert np.allclose(lines[0].get_ydata(), deseason)
    notes = [t.get_text() for t in ax.texts]
    assert notes == ["2024-01-20\n+20%", "2024-02-15\n-10%"]
    assert title_of(ax) == "Trend changepoints"
    assert ax.get_xlabel() == "Day"
    assert ax.get_ylabel() == "Deseasonalised value (CNY)"


def test_changepoints_none_found(draw_new, dec):
    cps = Changepoints(table=pd.DataFrame({"date": pd.to_datetime([]), "change_pct": []}))
    ax = draw_new(trend.changepoints, dec, cps)
    assert len(ax.get_lines()) == 1
    assert ax.get_ylabel() == "Deseasonalised value"


@pytest.fixture
def effects() -> EventEffects:
    frame = pd.DataFrame(
        {
            "occurrence": ["618 2024", "618 2024", "Double 11 2024"],
            "window": ["pre-heat", "peak", "total"],
            "uplift_pct": [0.1, 0.5, 0.3],
            "uplift_pct_lo": [0.0, 0.4, 0.2],
            "uplift_pct_hi": [0.2, 0.6, 0.4],
        }
    )
    return EventEffects(table=frame, level=0.9)


def test_event_effects_one_interval_per_row(draw, effects):
    ax = draw(trend.event_effects, effects)
    assert len(ax.containers) == len(effects.table)  # one errorbar per window
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(ticks) == sorted(
        ["618 2024 · pre-heat", "618 2024 · peak", "Double 11 2024 · total"]
    )
    assert title_of(ax) == "Festival uplift vs counterfactual baseline (90% CI)"
    assert ax.get_xlabel() == "Uplift (% of baseline)"


def test_event_effects_default_level(draw_new, effects):
    ax = draw_new(trend.event_effects, EventEffects(table=effects.table))
    assert "(95% CI)" in title_of(ax)


@pytest.fixture
def history() -> pd.Series:
    days = pd.date_range("2024-01-01", periods=200, freq="D")
    return pd.Series(1000 + np.arange(200.0), index=days)


@pytest.fixture
def fc(history) -> Forecast:
    days = pd.date_range(history.index[-1] + pd.Timedelta(days=1), periods=14, freq="D")
    mean = np.full(14, 1200.0)
    frame = pd.DataFrame(
        {
            "mean": mean,
            "lo80": mean - 50,
            "hi80": mean + 50,
            "lo95": mean - 90,
            "hi95": mean + 90,
        },
        index=days,
    )
    return Forecast(table=frame, model="ETS(A,A,A)")


def test_forecast_history_bands_and_mean(draw, history, fc):
    ax = draw(trend.forecast, history, fc, unit="CNY", last=60)
    observed, mean = ax.get_lines()
    assert len(observed.get_xdata()) == 60
    assert np.allclose(observed.get_ydata(), history.iloc[-60:])
    assert np.allclose(mean.get_ydata(), fc.table["mean"])
    assert len(ax.collections) == 2  # the 95% and 80% bands
    assert set(_legend(ax)) == {"Observed", "Forecast", "95% interval", "80% interval"}
    assert title_of(ax) == "Forecast: ETS(A,A,A)"
    assert ax.get_ylabel() == "Value (CNY)"


def test_forecast_whole_history_and_own_title(draw_new, history, fc):
    ax = draw_new(trend.forecast, history, fc, last=None, title="GMV next two weeks")
    assert len(ax.get_lines()[0].get_xdata()) == len(history)
    assert title_of(ax) == "GMV next two weeks"
    assert ax.get_ylabel() == "Value"


def _backtest() -> Backtest:
    rows = []
    for origin in pd.to_datetime(["2024-03-01", "2024-03-15"]):
        days = pd.date_range(origin + pd.Timedelta(days=1), periods=7, freq="D")
        for method, bias in [("model", 1.0), ("seasonal naive", 5.0)]:
            for d in days:
                rows.append(
                    {
                        "origin": origin,
                        "method": method,
                        "actual": 100.0,
                        "date": d,
                        "mean": 100.0 + bias,
                        "lo80": 90.0,
                        "hi80": 110.0,
                        "lo95": 80.0,
                        "hi95": 120.0,
                    }
                )
    table = pd.DataFrame(
        {"mase": [0.4, 1.1], "coverage80": [0.8, 0.7], "coverage95": [0.95, 0.9]},
        index=pd.Index(["model", "seasonal naive"], name="method"),
    )
    return Backtest(table=table, predictions=pd.DataFrame(rows), model="ETS", season=7)


def test_backtest_actuals_and_one_line_per_fold_and_method(draw):
    bt = _backtest()
    ax = draw(trend.backtest, bt, unit="CNY")
    lines = ax.get_lines()
    assert len(lines) == 1 + 2 * 2  # actuals, then 2 folds × 2 methods
    assert len(lines[0].get_xdata()) == 14
    assert _legend(ax) == ["Actual", "model (MASE 0.40)", "seasonal naive (MASE 1.10)"]
    assert title_of(ax) == "Rolling-origin backtest"
    assert ax.get_ylabel() == "Value (CNY)"


@pytest.fixture
def gs() -> GrowthShare:
    frame = pd.DataFrame(
        {
            "category": ["Beauty", "Food", "Home", "Toys"],
            "share": [0.4, 0.3, 0.2, 0.1],
            "growth": [0.3, -0.05, 0.25, -0.2],
            "quadrant": ["star", "cash cow", "question mark", "dog"],
            "value": [400.0, 300.0, 200.0, 100.0],
            "period": "2024",
            "compared_to": "2023",
        }
    )
    return GrowthShare(table=frame, market_growth=0.1, share_threshold=0.25)


def test_growth_share_one_bubble_per_group(draw, gs):
    ax = draw(trend.growth_share, gs)
    points = sum(len(c.get_offsets()) for c in ax.collections)
    assert points == len(gs.table)
    notes = [t.get_text() for t in ax.texts]
    assert notes == ["Beauty", "Food", "Home", "Toys", "shop growth"]
    assert len(ax.get_lines()) == 2  # shop growth and the share threshold
    assert title_of(ax) == "Growth–share matrix by category"
    assert ax.get_xlabel() == "Share of GMV (2024)"
    assert ax.get_ylabel() == "GMV growth (vs 2023)"


def test_growth_share_without_reference_lines(draw_new, gs):
    bare = GrowthShare(table=gs.table.rename(columns={"category": "channel"}))
    ax = draw_new(trend.growth_share, bare, by="channel")
    assert len(ax.get_lines()) == 0
    assert title_of(ax) == "Growth–share matrix by channel"


@pytest.fixture
def mix() -> Shares:
    months = pd.date_range("2024-01-01", periods=5, freq="MS")
    frame = pd.DataFrame(
        {"jd": [0.3] * 5, "tmall": [0.5] * 5, "site": [0.2] * 5},
        index=months,
    )
    frame.columns.name = "channel"
    return Shares(table=frame)


def test_channel_share_one_band_per_channel_largest_first(draw, mix):
    ax = draw(trend.channel_share, mix)
    assert len(ax.collections) == 3
    assert _legend(ax) == ["tmall", "jd", "site"]
    assert ax.get_ylim() == (0, 1)
    assert title_of(ax) == "Share of GMV by channel per month"
    assert ax.get_xlabel() == "Month"
    assert ax.get_ylabel() == "Share of GMV (%)"


def test_channel_share_given_order_and_week(draw_new, mix):
    ax = draw_new(trend.channel_share, mix, period="week", order=["site", "jd", "tmall"])
    assert _legend(ax) == ["site", "jd", "tmall"]
    assert title_of(ax) == "Share of GMV by channel per week"


# ------------------------------------------------------------ from the analysis itself


@pytest.fixture(scope="module")
def daily_gmv() -> pd.Series:
    """Two years of daily GMV with a weekly cycle and a 30% step up on day 400."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2023-01-01", "2024-12-31", freq="D")
    t = np.arange(len(days))
    level = np.where(t < 400, 1000.0, 1300.0)
    noise = rng.lognormal(0, 0.05, len(days))
    return pd.Series(level * (1 + 0.1 * np.sin(2 * np.pi * t / 7)) * noise, index=days)


def test_the_trend_figures_draw_what_the_analysis_returns(draw, daily_gmv):
    from shopbook.analysis import trend as analysis

    dec = analysis.decompose(daily_gmv, seasons=(7,))
    axes = trend.decomposition(dec, unit="CNY")
    assert len(axes) == len(dec.table.columns)
    assert title_of(axes[0]) == f"Decomposition: {dec.method} (CNY)"

    cps = analysis.changepoints(daily_gmv)
    assert len(cps.table) >= 1
    ax = draw(trend.changepoints, dec, cps, unit="CNY")
    assert len(ax.texts) == len(cps.table)

    fc = analysis.seasonal_naive(daily_gmv, 14)
    ax = draw(trend.forecast, daily_gmv, fc, unit="CNY", last=60)
    assert np.allclose(ax.get_lines()[-1].get_ydata(), fc.table["mean"])
    assert title_of(ax) == f"Forecast: {fc.model}"

    bt = analysis.backtest(daily_gmv.iloc[-90:], 7, folds=2, seasons=(7,), model="ets")
    ax = draw(trend.backtest, bt, unit="CNY")
    assert len(ax.get_lines()) == 1 + 2 * 2
