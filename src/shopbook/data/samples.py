"""Public sample data: CDNOW, as contract ``orders``.

CDNOW holds the purchases of the 23,570 customers who first bought from the online CD
store CDNOW in the first quarter of 1997, followed to the end of June 1998 (Fader &
Hardie). The data files ship inside the ``lifetimes`` package; they are located with
:mod:`importlib.metadata` and read directly — lifetimes itself is not imported.

Mapping to the contract (``orders``):

* one order per source row; ``order_id`` is ``<customer_id>-<yyyymmdd>-<n>`` where ``n``
  numbers the rows of the same customer on the same day (1,774 customer-days have more
  than one row). Analyses that count purchases per day (BTYD models) collapse them.
* ``order_ts`` is midnight of the purchase date; ``channel`` is ``web``; ``status`` is
  ``paid``; ``currency`` is ``USD``; ``gross_amount == net_amount`` = ``dollar_value``,
  ``discount_amount`` is 0. The number of CDs is kept as the extra column ``items``.
* **The 80 zero-dollar rows are kept** as paid orders with ``net_amount == 0``. They are
  valid under the contract (money ≥ 0), they are real purchase events (free or fully
  discounted CDs) and the published BG/NBD results on CDNOW count them as purchases;
  dropping them would silently change frequency and recency. Spend models
  (Gamma-Gamma) that need positive values exclude them explicitly and say so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pandas as pd

from shopbook.errors import ContractError

CDNOW_CUSTOMERS = 23_570
CDNOW_ROWS = 69_659
CDNOW_SAMPLE_CUSTOMERS = 2_357


def _lifetimes_file(name: str) -> Path:
    try:
        dist = distribution("lifetimes")
    except PackageNotFoundError:
        raise ContractError(
            table="orders",
            expected="the lifetimes package (it ships the CDNOW data files)",
            found="lifetimes is not installed",
            fix="run `make setup` (or `pip install lifetimes`)",
        ) from None
    path = Path(str(dist.locate_file(f"lifetimes/datasets/{name}")))
    if not path.exists():
        raise ContractError(
            table="orders",
            expected=f"the CDNOW file lifetimes/datasets/{name}",
            found=f"nothing at {path}",
            fix="reinstall lifetimes (`pip install --force-reinstall lifetimes`)",
        )
    return path


def _to_orders(raw: pd.DataFrame) -> pd.DataFrame:
    """Raw CDNOW rows (customer_id, date, number_of_cds, dollar_value) → contract orders."""
    raw = raw.reset_index(drop=True)
    day = raw["date"].astype(str)
    seq = raw.groupby(["customer_id", "date"]).cumcount() + 1
    amount = raw["dollar_value"].astype("float64")
    return pd.DataFrame(
        {
            "order_id": raw["customer_id"] + "-" + day + "-" + seq.astype(str),
            "customer_id": raw["customer_id"],
            "order_ts": pd.to_datetime(day, format="%Y%m%d"),
            "channel": "web",
            "status": "paid",
            "gross_amount": amount,
            "discount_amount": 0.0,
            "net_amount": amount,
            "currency": "USD",
            "items": raw["number_of_cds"].astype("int64"),
        }
    )


def cdnow() -> pd.DataFrame:
    """The full CDNOW data set as contract ``orders``.

    Returns
    -------
    pandas.DataFrame
        69,659 rows, 23,570 customers, 1997-01-01 to 1998-06-30, with the contract
        ``orders`` columns plus ``items`` (number of CDs). See the module docstring for
        how rows map to orders and what happens to zero-dollar rows.
    """
    raw = pd.read_csv(
        _lifetimes_file("CDNOW_master.txt"),
        sep=r"\s+",
        header=0,
        names=["customer_id", "date", "number_of_cds", "dollar_value"],
        dtype={"customer_id": str, "date": str},
    )
    return _to_orders(raw)


def cdnow_sample() -> pd.DataFrame:
    """The 2,357-customer CDNOW sample (the one the BG/NBD paper fits) as ``orders``.

    Returns
    -------
    pandas.DataFrame
        6,919 rows with the same columns as :func:`cdnow`; ``customer_id`` is the
        customer's id in the full data set.
    """
    raw = pd.read_csv(
        _lifetimes_file("CDNOW_sample.txt"),
        sep=r"\s+",
        header=None,
        names=["customer_id", "sample_id", "date", "number_of_cds", "dollar_value"],
        dtype={"customer_id": str, "sample_id": str, "date": str},
    )
    return _to_orders(raw.drop(columns="sample_id"))


def write_tables(tables: Mapping[str, pd.DataFrame], out: str | os.PathLike) -> Path:
    """Write DataFrames as a source :func:`~shopbook.data.sources.open_source` can read.

    Parameters
    ----------
    tables
        ``{table name: frame}``.
    out
        A path ending in ``.duckdb`` (one DuckDB file, replaced if it exists) or a folder
        (one ``<table>.parquet`` per table, replaced if it exists).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ContractError
        When the folder holds another file of a table being written (``orders.csv`` next
        to the new ``orders.parquet``): a folder source would read both.
    """
    import duckdb

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix in (".duckdb", ".db"):
        tmp = out.with_name(out.name + ".tmp")
        tmp.unlink(missing_ok=True)
        con = duckdb.connect(str(tmp))
        try:
            for name, frame in tables.items():
                con.register("_frame", frame)
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _frame')
                con.unregister("_frame")
        finally:
            con.close()
        os.replace(tmp, out)  # readers never see a half-written file
        return out
    out.mkdir(parents=True, exist_ok=True)
    _no_other_files(tables, out)
    for name, frame in tables.items():
        tmp = out / f".{name}.parquet.tmp"
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, out / f"{name}.parquet")  # readers never see a half-written file
    return out


def _no_other_files(tables: Mapping[str, pd.DataFrame], out: Path) -> None:
    """A folder source reads every file of a table: another file of a table written here
    would be read together with the new one, so it is an error, not left to be mixed in."""
    from shopbook.data.sources.files import find_tables

    found = find_tables(out, {name.lower() for name in tables})
    for name in tables:
        others = [p for p in found.get(name.lower(), []) if p != out / f"{name}.parquet"]
        if others:
            raise ContractError(
                table=name,
                expected=f"no other file of {name} in {out} (a folder source reads them all)",
                found=", ".join(str(p.relative_to(out)) for p in others),
                fix="remove those files, or write the sample to an empty folder",
            )
