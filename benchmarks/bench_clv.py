"""Benchmark: the BTYD customer summary in the engine, and the BG/NBD fit, against lifetimes.

Two measurements, each case in a fresh subprocess so its peak memory (RSS) is its own:

**Summary** — ``customer_summary(orders)`` over N order rows held in a DuckDB file (the
aggregation runs in DuckDB; one row per customer comes back), against the pandas
baseline ``lifetimes.utils.summary_data_from_transaction_data`` on the same rows loaded
into pandas (time includes loading the three columns it needs). The orders are built
deterministically in SQL (values from hashes of the row number).

**Fit** — ``fit_bgnbd`` on a summary of C customers simulated from known BG/NBD
parameters in day units (recency and T in whole days, as real summaries are), against
``lifetimes.BetaGeoFitter.fit`` on the same summary, one row per customer (its default),
and — for fairness — on lifetimes' own weighted form (distinct rows + counts). Our time
includes collapsing the customers to distinct patterns. Both must find the same
parameters (checked).

Prints one table per measurement: rows, seconds, peak memory, ratio to the baseline of
the same run.

Usage::

    .venv/bin/python benchmarks/bench_clv.py                    # 1 M and 10 M rows; 1 M customers
    .venv/bin/python benchmarks/bench_clv.py --rows 1e6 --customers 2e5
    .venv/bin/python benchmarks/bench_clv.py --no-baseline-above 2e6   # skip slow baselines

Data files go to ``$TMPDIR/shopbook_bench`` (reused when present), never the repo.
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

CAL_END = "2024-12-31"
TRUTH = {"r": 0.6, "alpha": 70.0, "a": 0.8, "b": 2.6}


def build_summary(customers: int, folder: Path) -> Path:
    """A Parquet file with ``customers`` simulated BG/NBD customers in whole days."""
    import numpy as np

    from shopbook.analysis.clv import simulate_bgnbd

    path = folder / f"clv_summary_{customers}.parquet"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    T = rng.integers(1, 731, customers).astype(float)
    s = simulate_bgnbd(TRUTH, T, seed=1)
    # whole days, as a real summary has (a repeat purchase is at least one day later)
    s["recency"] = np.minimum(np.ceil(s["recency"]), s["T"])
    s.to_parquet(path, index=False)
    return path


# ----------------------------------------------------------------------- child cases


def case_summary_engine(path: str) -> dict:
    from shopbook.data import open_source
    from shopbook.features.customers import customer_summary

    t0 = time.perf_counter()
    with open_source(path) as src:
        s = customer_summary(src.table("orders"), CAL_END).to_pandas()
    sec = time.perf_counter() - t0
    return {
        "seconds": sec,
        "peak_mb": peak_mb(),
        "customers": len(s),
        "check": [int(s["frequency"].sum()), round(float(s["T"].sum()), 3)],
    }


def case_summary_lifetimes(path: str) -> dict:
    import duckdb
    from lifetimes.utils import summary_data_from_transaction_data

    t0 = time.perf_counter()
    con = duckdb.connect(path, read_only=True)
    df = con.execute(
        "SELECT customer_id, order_ts, net_amount FROM orders WHERE status = 'paid'"
    ).df()
    con.close()
    s = summary_data_from_transaction_data(
        df,
        "customer_id",
        "order_ts",
        monetary_value_col="net_amount",
        observation_period_end=CAL_END,
        freq="D",
    )
    sec = time.perf_counter() - t0
    return {
        "seconds": sec,
        "peak_mb": peak_mb(),
        "customers": len(s),
        "check": [int(s["frequency"].sum()), round(float(s["T"].sum()), 3)],
    }


def case_fit_ours(path: str) -> dict:
    import pandas as pd

    from shopbook.analysis.clv import fit_bgnbd

    s = pd.read_parquet(path)
    t0 = time.perf_counter()
    fit = fit_bgnbd(s)
    sec = time.perf_counter() - t0
    return {
        "seconds": sec,
        "peak_mb": peak_mb(),
        "customers": len(s),
        "patterns": fit.n_patterns,
        "params": fit.params,
    }


def case_fit_lifetimes(path: str, weighted: bool = False) -> dict:
    import warnings

    import pandas as pd
    from lifetimes import BetaGeoFitter

    warnings.filterwarnings("ignore")
    s = pd.read_parquet(path)
    t0 = time.perf_counter()
    if weighted:
        pat = s.groupby(["frequency", "recency", "T"]).size().rename("n").reset_index()
        fit = BetaGeoFitter().fit(pat["frequency"], pat["recency"], pat["T"], weights=pat["n"])
    else:
        fit = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    sec = time.perf_counter() - t0
    return {
        "seconds": sec,
        "peak_mb": peak_mb(),
        "customers": len(s),
        "params": {k: float(v) for k, v in fit.params_.items()},
    }


CASES = {
    "summary_engine": case_summary_engine,
    "summary_lifetimes": case_summary_lifetimes,
    "fit_ours": case_fit_ours,
    "fit_lifetimes": case_fit_lifetimes,
    "fit_lifetimes_weighted": lambda p: case_fit_lifetimes(p, weighted=True),
}


def run_case(name: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--case", name, "--path", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"case {name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _table(title: str, header: list[str], rows: list[list[str]]) -> None:
    if not rows:
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--rows", type=float, nargs="*", default=[1e6, 1e7], help="order rows for the summary"
    )
    ap.add_argument(
        "--customers", type=float, nargs="*", default=[1e6], help="customers for the fit"
    )
    ap.add_argument(
        "--no-baseline-above",
        type=float,
        default=float("inf"),
        help="skip the lifetimes summary baseline above this many rows (it is slow)",
    )
    ap.add_argument("--case")
    ap.add_argument("--path")
    args = ap.parse_args()
    if args.case:
        print(json.dumps(CASES[args.case](args.path)))
        return

    folder = Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "shopbook_bench"
    rows_out = []
    for n in [int(x) for x in args.rows]:
        path = build_orders(n, folder, prefix="clv_orders")
        eng = run_case("summary_engine", path)
        rows_out.append(
            [
                f"{n:,}",
                "engine (DuckDB)",
                f"{eng['customers']:,}",
                f"{eng['seconds']:.2f}",
                f"{eng['peak_mb']:.0f}",
                "—",
            ]
        )
        if n <= args.no_baseline_above:
            base = run_case("summary_lifetimes", path)
            assert base["check"] == eng["check"], (base["check"], eng["check"])
            rows_out.append(
                [
                    f"{n:,}",
                    "lifetimes (pandas)",
                    f"{base['customers']:,}",
                    f"{base['seconds']:.2f}",
                    f"{base['peak_mb']:.0f}",
                    f"{base['seconds'] / eng['seconds']:.1f}× slower",
                ]
            )
    _table(
        "Customer summary (frequency, recency, T, monetary value) from order rows",
        ["order rows", "implementation", "customers", "seconds", "peak MB", "vs engine"],
        rows_out,
    )

    fit_rows = []
    for c in [int(x) for x in args.customers]:
        path = build_summary(c, folder)
        ours = run_case("fit_ours", path)
        fit_rows.append(
            [
                f"{c:,}",
                f"shopbook fit_bgnbd ({ours['patterns']:,} patterns)",
                f"{ours['seconds']:.2f}",
                f"{ours['peak_mb']:.0f}",
                "—",
            ]
        )
        for name, label in (
            ("fit_lifetimes_weighted", "lifetimes, weighted patterns"),
            ("fit_lifetimes", "lifetimes, one row per customer"),
        ):
            base = run_case(name, path)
            for k, v in ours["params"].items():
                assert abs(base["params"][k] / v - 1) < 1e-3, (name, k, v, base["params"][k])
            fit_rows.append(
                [
                    f"{c:,}",
                    label,
                    f"{base['seconds']:.2f}",
                    f"{base['peak_mb']:.0f}",
                    f"{base['seconds'] / ours['seconds']:.1f}× slower",
                ]
            )
        truth = ", ".join(f"{k}={v}" for k, v in TRUTH.items())
        est = ", ".join(f"{k}={v:.3g}" for k, v in ours["params"].items())
        print(f"\n(planted {truth}; fitted {est})")
    _table(
        "BG/NBD maximum-likelihood fit",
        ["customers", "implementation", "seconds", "peak MB", "vs shopbook"],
        fit_rows,
    )


if __name__ == "__main__":
    main()
