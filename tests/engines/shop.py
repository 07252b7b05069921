"""The small synthetic shop the engine tests load into PostgreSQL and Spark.

Small enough that loading it and validating it on each engine takes seconds, big enough
that every notebook section that can run on two years of a shop runs: 300 customers over
2023–2024 (about 750 orders, 2,700 order lines, 5,000 sessions and every experiment of
the generator). The inventory keeps the daily snapshots of 40 of the 200 SKUs (every
fifth: about 29,000 rows rather than 146,000) — inventory is the table whose validation
costs the most on PostgreSQL, and 40 SKUs still hold stock-outs, overstock and SKUs
without stock rows.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

CUSTOMERS = 300
SEED = 11
INVENTORY_EVERY = 5  # keep the inventory of every fifth SKU


def tables() -> dict[str, pd.DataFrame]:
    """The shop's tables (contract tables and the generator's extra ones)."""
    from shopbook.data.synthetic import generate

    shop = generate(customers=CUSTOMERS, seed=SEED)
    out = {k: v.copy() for k, v in shop.tables.items()}
    if "inventory" in out and "products" in out:
        kept = set(out["products"]["sku"].iloc[::INVENTORY_EVERY])
        inv = out["inventory"]
        out["inventory"] = inv[inv["sku"].isin(kept)].reset_index(drop=True)
    return out


def write_duckdb(frames: dict[str, pd.DataFrame], path: Path) -> Path:
    """Write ``frames`` to a DuckDB file (the reference engine)."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        for name, frame in frames.items():
            con.register("frame", frame)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
            con.unregister("frame")
    finally:
        con.close()
    return path


def write_parquet(frames: dict[str, pd.DataFrame], folder: Path) -> Path:
    """Write ``frames`` as ``<table>.parquet`` files the way pandas does (nanosecond
    timestamps, which Spark reads only through the source's conversion)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def load_postgres(duckdb_file: Path, uri: str) -> None:
    """Copy every table of ``duckdb_file`` into the PostgreSQL database at ``uri``.

    The tables are created with the DuckDB file's types (through ibis) and filled with
    ``COPY`` (inserting row by row would take a minute).
    """
    import duckdb
    import ibis

    src = ibis.duckdb.connect(str(duckdb_file), read_only=True)
    raw = duckdb.connect(str(duckdb_file), read_only=True)
    pg = ibis.connect(uri)
    try:
        for name in src.list_tables():
            pg.create_table(name, schema=src.table(name).schema(), overwrite=True)
            text = io.StringIO()
            frame = raw.execute(f'SELECT * FROM "{name}"').df()
            frame.to_csv(text, index=False, header=False, na_rep="\\N")
            with (
                pg.con.cursor() as cur,
                cur.copy(f"COPY \"{name}\" FROM STDIN (FORMAT csv, NULL '\\N')") as copy,
            ):
                copy.write(text.getvalue())
            pg.con.commit()
            with pg.begin() as cur:
                cur.execute(f'ANALYZE "{name}"')
    finally:
        pg.disconnect()
        raw.close()
        src.disconnect()
