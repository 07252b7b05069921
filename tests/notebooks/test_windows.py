"""Notebooks 04 and 07 honour the report window, and 04 refuses RFM without repeat buyers.

* A window inside the data (``end`` a week before the data's last day): every date the
  report shows lies on or before ``end``.
* An ``end`` after the data: the report says the data end on their last day and scores
  and stock are as of that day — no date after the data is shown.
* A shop of one-time buyers: 04 says why there are no segments and writes no CRM list
  (its ``output_dir`` stays empty).

The feature and analysis functions are checked directly; the notebooks are run through
papermill on a small synthetic shop written to a DuckDB file.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import ibis
import nbformat
import pandas as pd
import papermill
import pytest

from shopbook.analysis import inventory as inv
from shopbook.analysis import rfm
from shopbook.data.samples import write_tables
from shopbook.features import products as prod
from shopbook.features.rfm import customer_rfm, scoring_day

ROOT = Path(__file__).parents[2]
DATA_END = dt.date(2024, 12, 31)
INSIDE = dt.date(2024, 12, 22)
AFTER = dt.date(2026, 11, 29)
TABLES_04 = ("orders", "customers")
TABLES_07 = ("orders", "order_items", "products", "inventory")
#: A day as a report shows it: ISO, possibly with Markdown-escaped hyphens.
DAY = re.compile(r"(\d{4})\\?-(\d{2})\\?-(\d{2})")


@pytest.fixture(scope="module")
def shop(synthetic_shop):
    return synthetic_shop(customers=1500, seed=3)


@pytest.fixture(scope="module")
def shop_db(shop, tmp_path_factory):
    tables = {n: shop.tables[n] for n in sorted(set(TABLES_04) | set(TABLES_07))}
    return write_tables(tables, tmp_path_factory.mktemp("win") / "shop.duckdb")


def one_time_buyers(orders: pd.DataFrame) -> pd.DataFrame:
    """Each customer's first paid order only: a shop where nobody came back."""
    paid = orders[orders["status"] == "paid"].sort_values(["order_ts", "order_id"])
    return paid.drop_duplicates("customer_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def once_db(shop, tmp_path_factory):
    tables = {
        "orders": one_time_buyers(shop.tables["orders"]),
        "customers": shop.tables["customers"],
    }
    return write_tables(tables, tmp_path_factory.mktemp("once") / "once.duckdb")


@pytest.fixture(scope="module")
def engine(shop_db):
    con = ibis.duckdb.connect(str(shop_db), read_only=True)
    return {n: con.table(n) for n in TABLES_07}


# ------------------------------------------------------------------ features and analysis


def test_shop_data_end_on_the_last_day(shop):
    assert pd.Timestamp(shop.tables["orders"]["order_ts"].max()).date() == DATA_END
    assert pd.Timestamp(shop.tables["inventory"]["date"].max()).date() == DATA_END


def test_scoring_day_inside_the_data_is_the_day_after_end(engine):
    day = scoring_day(engine["orders"], INSIDE.isoformat())
    assert day.end.date() == INSIDE and day.asof.date() == INSIDE + dt.timedelta(days=1)
    assert not day.clipped and day.note == ""
    customers = customer_rfm(engine["orders"], day.asof)
    assert customers["last_order"].max().date() <= INSIDE


def test_scoring_day_after_the_data_is_the_data_end_and_says_so(engine):
    day = scoring_day(engine["orders"], AFTER.isoformat())
    assert day.clipped and day.end.date() == DATA_END and day.data_end == DATA_END
    assert f"data end on {DATA_END}" in day.note and str(AFTER) in day.note
    # recency counts to the day after the data, not to the requested end
    customers = customer_rfm(engine["orders"], day.asof)
    assert customers["recency"].min() == 1


def test_sku_features_after_the_data_count_up_to_the_data_end(engine):
    f = prod.sku_features(*engine.values(), end=AFTER.isoformat())
    assert f.attrs["end"] == DATA_END and f.attrs["requested_end"] == AFTER
    assert f"data end on {DATA_END}" in f.attrs["end_note"]
    # demand is the real last 28 days, so cover is not infinite for every SKU
    assert (f["mean_daily"] > 0).sum() > len(f) / 2
    dates = inv.stock_dates(f)
    assert dates.ok() and dates.snapshot == DATA_END and not dates.stale and dates.as_of == ""
    assert any("data end on" in n for n in dates.notes)
    # the same figures as a report on the data's end: stock as of then, that month's demand
    at_end = prod.sku_features(*engine.values())
    by_sku = [x.sort_values("sku", ignore_index=True) for x in (f, at_end)]
    pd.testing.assert_frame_equal(*by_sku)  # (revenue ties may sort either way)


def test_sku_features_inside_the_data_use_the_snapshot_on_or_before_end(engine):
    f = prod.sku_features(*engine.values(), end=INSIDE.isoformat())
    assert f.attrs["end"] == INSIDE and f.attrs["end_note"] == ""
    assert f["snapshot_date"].max().date() == INSIDE == f.attrs["snapshot_date"]
    assert f["last_sale"].max().date() <= INSIDE
    dates = inv.stock_dates(f)
    assert dates.ok() and not dates.stale and dates.notes == []


def test_an_old_snapshot_is_named_and_labels_the_stock_figures(engine):
    old = engine["inventory"].filter(engine["inventory"].date <= dt.date(2024, 10, 1))
    f = prod.sku_features(engine["orders"], engine["order_items"], engine["products"], old,
                          end=INSIDE.isoformat())  # fmt: skip
    dates = inv.stock_dates(f)
    assert dates.stale and dates.snapshot == dt.date(2024, 10, 1) and dates.age_days == 82
    assert dates.as_of == " as of 2024-10-01"
    (note,) = dates.notes
    assert "82 days earlier" in note and "28-day demand window" in note
    # one week old is stale too (STOCK_MAX_AGE_DAYS), one day old is not
    week = engine["inventory"].filter(engine["inventory"].date <= dt.date(2024, 12, 14))
    g = prod.sku_features(engine["orders"], engine["order_items"], engine["products"], week,
                          end=INSIDE.isoformat())  # fmt: skip
    assert inv.stock_dates(g).stale and "more than 7 days" in inv.stock_dates(g).notes[0]
    day = engine["inventory"].filter(engine["inventory"].date <= dt.date(2024, 12, 21))
    h = prod.sku_features(engine["orders"], engine["order_items"], engine["products"], day,
                          end=INSIDE.isoformat())  # fmt: skip
    assert not inv.stock_dates(h).stale


def test_no_snapshot_before_end_skips_the_stock_sections(engine):
    late = engine["inventory"].filter(engine["inventory"].date >= dt.date(2024, 12, 1))
    f = prod.sku_features(engine["orders"], engine["order_items"], engine["products"], late,
                          end="2024-06-30")  # fmt: skip
    dates = inv.stock_dates(f)
    assert not dates.ok() and "no stock snapshot on or before 2024-06-30" in dates.why()


def test_one_time_buyers_fail_the_relevance_check(shop):
    orders = one_time_buyers(shop.tables["orders"])
    customers = customer_rfm(orders)
    fit = rfm.relevance(customers)
    assert not fit.ok() and fit.repeat_buyers == 0 and fit.one_time_share == 1
    assert "100% one-time buyers" in fit.why() and f"{rfm.f_step(len(customers)):,}" in fit.why()


# ------------------------------------------------------------------ the notebooks


def _run(name: str, tmp_path: Path, **parameters) -> nbformat.NotebookNode:
    out = tmp_path / f"{name}.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / f"{name}.ipynb"),
        str(out),
        parameters=parameters,
        kernel_name="shopbook",
        progress_bar=False,
        cwd=str(ROOT),
    )
    return nbformat.read(out, as_version=4)


def _texts(nb: nbformat.NotebookNode) -> list[str]:
    """Everything a reader sees: the Markdown cells and every text output."""
    texts = [c.source for c in nb.cells if c.cell_type == "markdown"]
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if "text" in o:
                texts.append(o["text"])
            for mime in ("text/plain", "text/markdown"):
                texts.append(o.get("data", {}).get(mime, ""))
    return texts


def _days(nb: nbformat.NotebookNode) -> set[dt.date]:
    found = set()
    for text in _texts(nb):
        for y, m, d in DAY.findall(text):
            found.add(dt.date(int(y), int(m), int(d)))
    return found


def _headlines(nb: nbformat.NotebookNode) -> dict[str, str]:
    from shopbook.notebook import HEADLINE_MIME

    return {
        o["data"][HEADLINE_MIME]["name"]: o["data"][HEADLINE_MIME]["text"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if HEADLINE_MIME in o.get("data", {})
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", ["04_rfm_segments", "07_product_inventory"])
def test_a_window_inside_the_data_shows_no_day_after_its_end(name, shop_db, tmp_path):
    nb = _run(name, tmp_path, source=str(shop_db), end=INSIDE.isoformat())
    days = _days(nb)
    assert INSIDE in days, "the report names its end"
    assert max(days) <= INSIDE, sorted(d for d in days if d > INSIDE)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["04_rfm_segments", "07_product_inventory"])
def test_an_end_after_the_data_says_the_data_end_and_invents_no_day(name, shop_db, tmp_path):
    nb = _run(name, tmp_path, source=str(shop_db), end=AFTER.isoformat())
    text = "\n".join(_texts(nb)).replace("\\-", "-")
    assert f"data end on {DATA_END}" in text
    days = _days(nb) - {AFTER}  # the requested end is named in the sentence, nothing else
    assert max(days) <= DATA_END + dt.timedelta(days=1)
    if name == "04_rfm_segments":
        assert _headlines(nb)["asof"] == str(DATA_END)


@pytest.mark.slow
def test_rfm_on_one_time_buyers_writes_no_list(once_db, tmp_path):
    out = tmp_path / "private" / "crm"
    out.mkdir(parents=True)
    nb = _run("04_rfm_segments", tmp_path, source=str(once_db), output_dir=str(out))
    assert list(out.iterdir()) == [], "no CRM list from one-time buyers"
    from shopbook.notebook import SKIPPED_MIME

    reasons = {
        o["data"][SKIPPED_MIME]["section"]: o["data"][SKIPPED_MIME]["reason"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if SKIPPED_MIME in o.get("data", {})
    }
    assert "100% one-time buyers" in reasons["RFM segments and CRM lists"]
    assert reasons["CRM lists"].startswith("no list written")
    assert {"Named segments", "Migration", "Clusters"} <= set(reasons)
    assert set(_headlines(nb)) == {"customers", "asof"}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["04_rfm_segments", "07_product_inventory"])
def test_an_end_before_the_data_renders_with_every_section_skipped(name, shop_db, tmp_path):
    nb = _run(name, tmp_path, source=str(shop_db), end="2020-01-01")  # raises on an error
    from shopbook.notebook import SKIPPED_MIME

    reasons = [
        o["data"][SKIPPED_MIME]["reason"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if SKIPPED_MIME in o.get("data", {})
    ]
    assert reasons and all("2020-01-01" in r for r in reasons if "output_dir" not in r)
    assert max(_days(nb) - {dt.date(2020, 1, 1)}, default=dt.date(2020, 1, 1)) <= DATA_END
