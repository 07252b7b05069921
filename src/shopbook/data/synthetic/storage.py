"""Writing a shop (DuckDB file or Parquet folder) and reading its truth back."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa

from shopbook.data.synthetic.shop import Shop


def write_shop(shop: Shop, out: str | os.PathLike) -> Path:
    """Write a shop to a DuckDB file or a folder of Parquet files, with its truth.

    Parameters
    ----------
    shop
        From :func:`generate`.
    out
        A path ending in ``.duckdb``: one DuckDB file holding the ten tables and a
        table ``shop_truth`` (one row, column ``truth_json``); the truth is also written
        beside it as ``<out>.truth.json``. Any other path: a folder of
        ``<table>.parquet`` files and ``truth.json``. Existing files are replaced.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    out = Path(out)
    text = json.dumps(shop.truth, indent=1, ensure_ascii=False)
    if out.suffix.lower() == ".duckdb":
        import duckdb

        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        for p in (tmp, Path(str(tmp) + ".wal")):
            p.unlink(missing_ok=True)
        con = duckdb.connect(str(tmp))
        try:
            for name, df in shop.tables.items():
                arrow = pa.Table.from_pandas(df, preserve_index=False)
                con.register("__shop_df", arrow)
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM __shop_df')
                con.unregister("__shop_df")
            con.execute("CREATE TABLE shop_truth (truth_json VARCHAR)")
            con.execute("INSERT INTO shop_truth VALUES (?)", [text])
            con.execute("CHECKPOINT")
        finally:
            con.close()
        Path(str(out) + ".wal").unlink(missing_ok=True)
        os.replace(tmp, out)
        Path(str(out) + ".truth.json").write_text(text, encoding="utf-8")
        return out
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    for name, df in shop.tables.items():
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), out / f"{name}.parquet")
    (out / "truth.json").write_text(text, encoding="utf-8")
    return out


def read_truth(path: str | os.PathLike) -> dict[str, Any]:
    """Read the truth of a shop written by :func:`write_shop`.

    Parameters
    ----------
    path
        The DuckDB file (its ``shop_truth`` table, else ``<path>.truth.json``), the
        Parquet folder (its ``truth.json``) or a truth JSON file.

    Returns
    -------
    dict

    Raises
    ------
    FileNotFoundError
        When no truth is found at ``path``.
    """
    p = Path(path)
    if p.is_dir():
        return json.loads((p / "truth.json").read_text(encoding="utf-8"))
    if p.suffix.lower() == ".json":
        return json.loads(p.read_text(encoding="utf-8"))
    beside = Path(str(p) + ".truth.json")
    if p.exists():
        import duckdb

        con = duckdb.connect(str(p), read_only=True)
        try:
            names = {
                r[0]
                for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            }
            row = (
                con.execute("SELECT truth_json FROM shop_truth LIMIT 1").fetchone()
                if "shop_truth" in names
                else None
            )
            if row is not None:
                return json.loads(row[0])
        finally:
            con.close()
    if beside.exists():
        return json.loads(beside.read_text(encoding="utf-8"))
    raise FileNotFoundError(f"no shop truth at {p} (nor {beside})")
