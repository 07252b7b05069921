"""Every feature builder gives the same frame on PostgreSQL and Spark as on DuckDB.

The small shop (:mod:`tests.engines.shop`) is validated once per engine; each builder
runs on the kept tables of DuckDB and of the engine, and the frames must agree: money to
the cent (it is summed as DECIMAL, so in practice exactly), counts exactly, every other
number to a relative 1e-9, dates and labels exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest

from shopbook.data import open_source, validate
from shopbook.features import (
    brief,
    budget,
    cohorts,
    customers,
    fetch,
    funnel,
    loyalty,
    orders,
    panels,
    products,
    rfm,
    stock,
)
from shopbook.features import experiments as ex
from shopbook.features import sales as S
from shopbook.features.periods import resolve_window

TABLES = (
    "orders",
    "order_items",
    "products",
    "customers",
    "sessions",
    "assignments",
    "inventory",
    "marketing_spend",
    "promotions",
    "offers",
)
#: Columns holding money (compared to the cent); every other float to a relative 1e-9.
MONEY = {
    "gmv",
    "revenue",
    "revenue_costed",
    "costed_revenue",
    "cogs",
    "gross_profit",
    "amount",
    "monetary",
    "monetary_value",
    "monetary_value_holdout",
    "spend",
    "aov",
    "ltv",
    "value",
    "pre_revenue",
    "revenue_capped",
    "avg_price",
    "list_price",
    "unit_cost",
}
END = "2024-12-31"
WINDOW = resolve_window("2024-12-02", "2024-12-29", None)


class Kept:
    """The kept tables of one validated source, by contract name."""

    def __init__(self, source: Any) -> None:
        self.report = validate(source, tables=TABLES, now="2025-06-01")
        self.t = {n: self.report.kept(n) for n in TABLES}

    def __getattr__(self, name: str) -> Any:
        return self.t[name]


@pytest.fixture(scope="module")
def duck(shop_files):
    return Kept(open_source(str(shop_files[0])))


@pytest.fixture(scope="module")
def duck_frames(duck):
    """Each builder's DuckDB frame, built once for both engines (``{builder: frame}``)."""
    return {}


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("spark", marks=pytest.mark.spark),
    ],
)
def engine(request):
    uri = request.getfixturevalue("pg_shop" if request.param == "postgres" else "spark_shop")
    src = open_source(uri)
    assert src.backend == ("postgres" if request.param == "postgres" else "pyspark")
    return Kept(src)


def _frame(value: Any) -> pd.DataFrame:
    """A builder's result as a frame (ibis expressions fetched, dicts as one row)."""
    if isinstance(value, ibis.Table):
        value = fetch(value)
    if isinstance(value, dict):
        value = pd.DataFrame([value])
    if isinstance(value, pd.Series):
        value = value.to_frame()
    if isinstance(value, tuple | list):
        return pd.concat([_frame(v).assign(__part=i) for i, v in enumerate(value)])
    assert isinstance(value, pd.DataFrame), type(value)
    return value


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order (by every column, floats to 6 places), a plain index."""
    f = frame.reset_index(drop=True)
    for c in f.columns:
        if f[c].dtype == object and f[c].map(lambda v: hasattr(v, "as_tuple")).any():
            f[c] = f[c].astype("float64")  # a Decimal column
        if pd.api.types.is_datetime64_any_dtype(f[c]):
            f[c] = pd.to_datetime(f[c]).dt.tz_localize(None).astype("datetime64[ns]")
        elif f[c].dtype == object and f[c].map(lambda v: hasattr(v, "isoformat")).any():
            f[c] = pd.to_datetime(f[c]).astype("datetime64[ns]")
    order = pd.DataFrame(
        {
            c: f[c].astype("float64").round(6) if pd.api.types.is_float_dtype(f[c]) else f[c]
            for c in f.columns
        }
    )
    keys = list(order.columns)
    if keys:
        f = f.loc[order.sort_values(keys, kind="stable", na_position="last").index]
    return f.reset_index(drop=True)


def assert_same(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    a, b = _comparable(ours), _comparable(theirs)
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b), f"{len(a)} rows on DuckDB, {len(b)} on the engine"
    for c in a.columns:
        x, y = a[c], b[c]
        if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
            xf, yf = x.astype("float64").to_numpy(), y.astype("float64").to_numpy()
            if c in MONEY:
                np.testing.assert_allclose(yf, xf, rtol=0, atol=0.005, err_msg=c)
            else:
                np.testing.assert_allclose(yf, xf, rtol=1e-9, atol=1e-12, err_msg=c)
        elif pd.api.types.is_integer_dtype(x) or pd.api.types.is_bool_dtype(x):
            pd.testing.assert_series_equal(
                x.astype("Int64"), y.astype("Int64"), check_names=False, obj=c
            )
        else:
            pd.testing.assert_series_equal(
                x.astype(object).where(x.notna(), None),
                y.astype(object).where(y.notna(), None),
                check_names=False,
                obj=c,
            )


def _units(k: Kept) -> pd.DataFrame:
    names = fetch(ex.experiments(k.t))["experiment_id"].tolist()
    frames = [
        fetch(ex.unit_metrics(k.t, name, order_cap_quantile=0.99)).assign(experiment=name)
        for name in sorted(names)
    ]
    return pd.concat(frames, ignore_index=True)


def _month_to_date(k: Kept) -> list[pd.DataFrame]:
    m = brief.month_to_date(k.orders, "2024-12-15", order_items=k.order_items)
    return [m.values.reset_index(), m.daily]


BUILDERS: dict[str, Callable[[Kept], Any]] = {
    "order_span": lambda k: pd.DataFrame([orders.order_span(k.orders)]),
    "currency": lambda k: pd.DataFrame({"currency": [orders.currency(k.orders)]}),
    "first_purchases": lambda k: orders.first_purchases(k.orders),
    "line_shares": lambda k: orders.line_shares(k.order_items),
    "kpis_day": lambda k: S.kpis(k.orders, "day"),
    "kpis_week_by_channel": lambda k: S.kpis(k.orders, "week", by="channel"),
    "kpis_month_by_category": lambda k: S.kpis(
        k.orders, "month", by="category", order_items=k.order_items, products=k.products
    ),
    "margin_by_channel": lambda k: S.margin(
        k.orders, k.order_items, WINDOW.start, WINDOW.end, by="channel"
    ),
    "brief_kpis": lambda k: brief.brief_kpis(
        k.orders,
        WINDOW,
        order_items=k.order_items,
        sessions=k.sessions,
        marketing_spend=k.marketing_spend,
        inventory=k.inventory,
    ).reset_index(),
    "month_to_date": _month_to_date,
    "channel_kpis": lambda k: S.channel_kpis(
        k.orders,
        WINDOW,
        sessions=k.sessions,
        marketing_spend=k.marketing_spend,
        order_items=k.order_items,
    ),
    "funnel_by_day_and_device": lambda k: funnel.funnel(
        k.sessions, "day", ["channel", "device"], orders=k.orders
    ),
    "purchase_days": lambda k: customers.purchase_days(k.orders),
    "customer_summary": lambda k: customers.customer_summary(
        k.orders, "2024-06-30", END, period="week"
    ),
    "summary_patterns": lambda k: customers.summary_patterns(
        customers.customer_summary(k.orders, "2024-06-30")
    ),
    "window_retention": lambda k: customers.window_retention(k.orders, WINDOW.start, WINDOW.end),
    "cohort_activity_by_channel": lambda k: cohorts.cohort_activity(
        k.orders, "month", cohorts.acquisition_segments(k.orders)
    ),
    "cohort_activity_by_week": lambda k: cohorts.cohort_activity(k.orders, "week"),
    "second_purchase_times": lambda k: cohorts.second_purchase_times(
        k.orders, segments=cohorts.cohort_segments(k.orders, "month")
    ),
    "segments_by_region": lambda k: cohorts.acquisition_segments(
        k.orders, k.customers, by="region"
    ),
    "available_segments": lambda k: pd.DataFrame(
        {"name": sorted(cohorts.available_segments(k.orders, k.customers))}
    ),
    "purchase_calendar": lambda k: list(cohorts.purchase_calendar(k.orders, "2024-06-30", END)),
    "customer_rfm": lambda k: rfm.customer_rfm(k.orders),
    "customer_rfm_lookback": lambda k: rfm.customer_rfm(k.orders, "2024-07-01", lookback_days=180),
    "sku_week_panel": lambda k: panels.sku_week_panel(
        k.order_items, k.orders, k.products, week_start="thursday"
    ),
    "sku_features": lambda k: products.sku_features(
        k.orders, k.order_items, k.products, k.inventory, end="2024-11-30"
    ),
    "stock_value": lambda k: stock.stock_value(
        k.inventory, k.order_items, WINDOW.start, WINDOW.end
    ),
    "stockouts": lambda k: stock.stockouts(k.inventory),
    "experiments": lambda k: ex.experiments(k.t),
    "assignment_counts": lambda k: pd.concat(
        fetch(ex.assignment_counts(k.t, n)) for n in fetch(ex.experiments(k.t))["experiment_id"]
    ),
    "unit_metrics": _units,
    "channel_days": lambda k: budget.channel_days(
        k.orders, k.marketing_spend, customers=k.customers
    ),
    "monthly_economics": lambda k: budget.monthly_economics(
        budget.channel_days(k.orders, k.marketing_spend), k.orders, k.order_items
    ),
    "monthly_spend": lambda k: loyalty.monthly_spend(k.orders),
    "review_purchases": lambda k: loyalty.review_purchases(
        k.orders, [pd.Timestamp("2024-03-31"), pd.Timestamp("2024-06-30")], 30
    ),
    "tier_segments": lambda k: loyalty.tier_segments(k.customers),
    "first_category_segments": lambda k: loyalty.first_category_segments(
        k.orders, k.order_items, k.products
    ),
    "ladder_windows": lambda k: loyalty.ladder_windows(k.promotions),
    "basket_histogram": lambda k: loyalty.basket_histogram(
        k.orders, list(loyalty.ladder_windows(k.promotions)[["start", "end"]].itertuples(False))
    ),
    "campaigns": lambda k: loyalty.campaigns(k.offers),
    "offer_outcomes": lambda k: pd.concat(
        loyalty.offer_outcomes(k.orders, k.offers, c).assign(campaign=c)
        for c in loyalty.campaigns(k.offers)["promotion_id"]
    ),
    "member_day_programme": lambda k: pd.DataFrame([loyalty.member_day_programme(k.promotions)]),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_builder_matches_duckdb(name, duck, duck_frames, engine):
    build = BUILDERS[name]
    if name not in duck_frames:
        duck_frames[name] = _frame(build(duck))
    ours, theirs = duck_frames[name], _frame(build(engine))
    assert len(ours), f"{name} is empty on the test shop: it tests nothing"
    assert_same(ours, theirs)


def test_text_is_trimmed_as_a_plain_strip_would(engine):
    """The validator's quick trim (:func:`~shopbook.data.sources.transform.strip`) means
    ``strip()`` on this engine too: white space at either end, of every kind, goes."""
    from shopbook.data.sources.transform import strip

    values = [" A", "B\t", "\nC\r", "D ", "F G", "", "   ", "价格 ", "\u3000全角", None]
    t = ibis.memtable({"i": range(len(values)), "x": values})
    con = engine.report.source.con
    got = con.execute(t.select("i", quick=strip(t.x), plain=t.x.strip()).order_by("i"))
    assert got["quick"].tolist() == got["plain"].tolist()
    assert got["quick"].tolist()[:5] == ["A", "B", "C", "D", "F G"]


def test_money_is_summed_exactly(duck, engine):
    """GMV per day is the same to the last bit on every engine: a DECIMAL sum."""
    a = S.kpis(duck.orders, "day")
    b = S.kpis(engine.orders, "day")
    assert (a["gmv"].to_numpy() == b["gmv"].to_numpy()).all()
    cents = np.round(a["gmv"].to_numpy() * 100)
    assert np.allclose(a["gmv"].to_numpy() * 100, cents, atol=1e-6)
