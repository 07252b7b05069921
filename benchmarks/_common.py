"""Pieces the benchmark scripts share: deterministic order data and peak memory.

Not a test module and not part of the package: benchmarks print tables, they assert
nothing about time.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

CUSTOMER_SPACE = 2_000_000  # customer ids drawn from a skewed distribution over this many


def peak_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_orders(rows: int, folder: Path, prefix: str = "orders") -> Path:
    """A DuckDB file with ``rows`` contract orders, built in SQL, reused when present.

    Customers are skewed (a few buy often), timestamps spread over 2023–2024, 92% paid,
    5% refunded, 3% cancelled, amounts 20–420 CNY; every value comes from hashes of the
    row number, so the file is the same on every machine.

    Parameters
    ----------
    rows
        Number of order rows.
    folder
        Where the file goes (``$TMPDIR/shopbook_bench`` in the scripts, never the repo).
    prefix
        File name prefix, so scripts can keep their own copies.
    """
    import duckdb

    path = folder / f"{prefix}_{rows}.duckdb"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    # u1..u4: uniform in [0, 1) from hashes of the row number (deterministic)
    con.execute(f"""
        CREATE TABLE orders AS
        WITH r AS (
            SELECT i,
                   (hash(i) % 1000000007) / 1000000007.0 AS u1,
                   (hash(i + {rows}) % 1000000007) / 1000000007.0 AS u2,
                   (hash(i + 2 * {rows}) % 1000000007) / 1000000007.0 AS u3,
                   (hash(i + 3 * {rows}) % 1000000007) / 1000000007.0 AS u4
            FROM range({rows}) t(i)
        )
        SELECT
            'o' || i::VARCHAR AS order_id,
            'c' || lpad(floor({CUSTOMER_SPACE} * u1 * u1)::BIGINT::VARCHAR, 7, '0') AS customer_id,
            TIMESTAMP '2023-01-01' + to_seconds(floor(u2 * 730 * 86400)::BIGINT) AS order_ts,
            CASE WHEN i % 23 = 0 THEN 'tmall' WHEN i % 3 = 0 THEN 'jd' ELSE 'site' END AS channel,
            CASE WHEN u3 < 0.92 THEN 'paid' WHEN u3 < 0.97 THEN 'refunded'
                 ELSE 'cancelled' END AS status,
            round(20 + 400 * u4 * u4, 2) AS gross_amount,
            0.0 AS discount_amount,
            round(20 + 400 * u4 * u4, 2) AS net_amount,
            'CNY' AS currency
        FROM r
    """)
    con.close()
    os.replace(tmp, path)
    return path
