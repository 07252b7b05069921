"""Benchmark: the RFM table in the engine (DuckDB via ibis) against a pandas baseline.

Builds a synthetic ``orders`` table of N rows directly in a DuckDB file (deterministic:
values come from hashes of the row number, so every run builds the same table), then
measures, each case in a fresh subprocess so its peak memory is its own:

* ``engine``       ``rfm_table(customer_rfm(source.table("orders")))``: the aggregation
                   runs in DuckDB (``shopbook.features.rfm``), one row per customer comes
                   back and is scored in pandas;
* ``pandas``       the baseline: load the four needed columns into pandas, group by
                   customer in pandas, then score the same way (``score``);
* ``pandas agg``   the baseline's time without loading (groupby + scoring only).

and checks that both give the same scores and segments. Prints a table: rows,
customers, seconds, peak memory (RSS of the process), ratio to the pandas baseline.

Usage::

    .venv/bin/python benchmarks/bench_rfm.py              # 1 M and 10 M rows
    .venv/bin/python benchmarks/bench_rfm.py --rows 2e6   # one size

The data files go to ``$TMPDIR/shopbook_bench`` (reused when present), never the repo.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import build_orders, peak_mb  # noqa: E402

ASOF = "2025-01-01"


def case(name: str, path: str, out: str) -> None:
    """Run one case in this process and write its timings and result fingerprint to ``out``."""
    import pandas as pd

    from shopbook.analysis import rfm as R
    from shopbook.features.rfm import customer_rfm

    result: dict = {"case": name}
    t0 = time.perf_counter()
    if name == "engine":
        from shopbook.data.sources import open_source

        with open_source(path) as src:
            table = R.rfm_table(customer_rfm(src.table("orders"), ASOF))
        result["seconds"] = time.perf_counter() - t0
    else:
        import duckdb

        con = duckdb.connect(path, read_only=True)
        orders = con.execute("SELECT customer_id, order_ts, status, net_amount FROM orders").df()
        con.close()
        t1 = time.perf_counter()
        asof = pd.Timestamp(ASOF)
        paid = orders[(orders["order_ts"] < asof) & (orders["status"] == "paid")]
        g = paid.groupby("customer_id", sort=True)
        base = pd.DataFrame(
            {
                "first_order": g["order_ts"].min(),
                "last_order": g["order_ts"].max(),
                "frequency": g.size().astype("int64"),
                "monetary": g["net_amount"].sum().round(2),
            }
        ).reset_index()
        base["recency"] = (asof - base["last_order"].dt.normalize()).dt.days.astype("int64")
        table = R.score(base, rules=R.load_rules())
        t2 = time.perf_counter()
        result["seconds"] = t2 - t0
        result["agg_seconds"] = t2 - t1
    result["customers"] = len(table)
    result["peak_mb"] = peak_mb()
    key = table.sort_values("customer_id")
    result["fingerprint"] = {
        "frequency": int(key["frequency"].sum()),
        "monetary": round(float(key["monetary"].sum()), 2),
        "scores": int((key["r_score"] * 100 + key["f_score"] * 10 + key["m_score"]).sum()),
        "segments": key["segment"].astype(str).value_counts().sort_index().to_dict(),
    }
    Path(out).write_text(json.dumps(result))


def run_case(name: str, path: Path) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = fh.name
    try:
        subprocess.run(
            [sys.executable, __file__, "--case", name, "--path", str(path), "--out", out],
            check=True,
        )
        return json.loads(Path(out).read_text())
    finally:
        Path(out).unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=float, action="append", help="order rows (repeatable); default 1e6 and 1e7"
    )
    parser.add_argument("--data", default=str(Path(tempfile.gettempdir()) / "shopbook_bench"))
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        case(args.case, args.path, args.out)
        return

    sizes = [int(r) for r in (args.rows or [1e6, 1e7])]
    print(
        f"rfm_table on synthetic orders (asof {ASOF}); {os.cpu_count()} cores; "
        "each case in a fresh process"
    )
    header = (
        f"{'rows':>12} {'case':<12} {'customers':>10} {'seconds':>8} {'peak MB':>8} {'× pandas':>9}"
    )
    print(header)
    print("-" * len(header))
    for rows in sizes:
        t0 = time.perf_counter()
        path = build_orders(rows, Path(args.data))
        build_s = time.perf_counter() - t0
        engine = run_case("engine", path)
        pandas = run_case("pandas", path)
        if engine["fingerprint"] != pandas["fingerprint"]:
            raise SystemExit(
                f"engine and pandas disagree at {rows:,} rows:\n"
                f"{engine['fingerprint']}\n{pandas['fingerprint']}"
            )
        base = pandas["seconds"]
        lines = [
            ("engine", engine["customers"], engine["seconds"], engine["peak_mb"]),
            ("pandas", pandas["customers"], pandas["seconds"], pandas["peak_mb"]),
            ("pandas agg", pandas["customers"], pandas["agg_seconds"], None),
        ]
        for name, customers, secs, peak in lines:
            peak_txt = f"{peak:8.0f}" if peak is not None else f"{'':>8}"
            print(
                f"{rows:>12,} {name:<12} {customers:>10,} {secs:8.2f} {peak_txt} {secs / base:9.2f}"
            )
        print(
            f"{'':>12} (data built in {build_s:.1f} s; "
            "engine and pandas give identical scores and segments)"
        )


if __name__ == "__main__":
    main()
