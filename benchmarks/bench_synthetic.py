"""Benchmark the synthetic shop: seconds, rows and peak memory by number of customers.

Each size runs in a fresh subprocess, so its peak resident memory (``ru_maxrss``, which
includes the interpreter and imported libraries, about 0.3 GB) is its own. The baseline
row times the obvious implementation of the purchase layer — a Python loop over
customers drawing BG/NBD purchase times — against the vectorised one on the same
customers, to show what vectorising buys.

Usage::

    python benchmarks/bench_synthetic.py                    # 20,000 and 1,000,000 customers
    python benchmarks/bench_synthetic.py --sizes 20000 200000 --write

Targets (issue 3): 20,000 customers < 10 s; 1,000,000 customers < 5 min with peak memory
< 8 GB on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {20_000: (10.0, None), 1_000_000: (300.0, 8.0)}


def _child(customers: int, write: bool) -> None:
    """Run one size and print a JSON line (in the subprocess)."""
    t0 = time.perf_counter()
    from shopbook.data.synthetic import generate, write_shop

    t_import = time.perf_counter() - t0
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    t0 = time.perf_counter()
    shop = generate(customers=customers, seed=0)
    t_gen = time.perf_counter() - t0
    out = {
        "customers": customers,
        "seconds": t_gen,
        "import_seconds": t_import,
        "rows": {k: len(v) for k, v in shop.tables.items()},
        "rss_after_import_gb": rss0,
    }
    if write:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            write_shop(shop, Path(tmp) / "shop.duckdb")
            out["write_seconds"] = time.perf_counter() - t0
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(json.dumps(out))


def _baseline(customers: int) -> dict[str, float]:
    """Purchase layer: per-customer Python loop vs the vectorised generator's visit layer."""
    import numpy as np

    # the generator's own visit-layer helpers (private to the synthetic subpackage)
    from shopbook.data.synthetic.customers import _alive
    from shopbook.data.synthetic.parameters import BGNBD
    from shopbook.data.synthetic.sampling import _sorted_uniform_groups

    bg = BGNBD
    rng = np.random.default_rng(0)
    horizon = 731.0
    t0_days = rng.uniform(0, horizon, customers)
    lam = rng.gamma(bg["r"], 1 / bg["alpha"], customers)
    p = rng.beta(bg["a"], bg["b"], customers)
    start = time.perf_counter()
    out = []
    for i in range(customers):  # the obvious implementation: one customer at a time
        t, times = t0_days[i], []
        while True:
            t += rng.exponential(1 / lam[i])
            if t >= horizon:
                break
            times.append(t)
            if rng.random() < p[i]:
                break
        out.append(times)
    loop = time.perf_counter() - start
    start = time.perf_counter()
    counts = rng.poisson(lam * (horizon - t0_days))
    frac = _sorted_uniform_groups(counts, rng)
    cust = np.repeat(np.arange(customers), counts)
    times = t0_days[cust] + (horizon - t0_days[cust]) * frac
    J = rng.geometric(p)
    keep = _alive(cust, np.ones(len(times), bool), J, customers)
    _ = times[keep]
    vec = time.perf_counter() - start
    return {"loop_seconds": loop, "vectorised_seconds": vec}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000, 1_000_000])
    ap.add_argument("--write", action="store_true", help="also time writing the DuckDB file")
    ap.add_argument("--baseline-customers", type=int, default=20_000)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child, args.write)
        return 0
    results = []
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--child", str(n)] + (["--write"] if args.write else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    tables = list(results[0]["rows"])
    head = (
        ["customers", "seconds", "peak GB", *tables]
        + (["write s"] if args.write else [])
        + ["target"]
    )
    rows = []
    for r in results:
        target = TARGETS.get(r["customers"])
        verdict = ""
        if target:
            ok = r["seconds"] < target[0] and (target[1] is None or r["peak_rss_gb"] < target[1])
            verdict = (
                ("ok" if ok else "MISSED")
                + f" (< {target[0]:g} s"
                + (f", < {target[1]:g} GB)" if target[1] else ")")
            )
        rows.append(
            [
                f"{r['customers']:,}",
                f"{r['seconds']:.1f}",
                f"{r['peak_rss_gb']:.2f}",
                *[f"{r['rows'][t]:,}" for t in tables],
            ]
            + ([f"{r['write_seconds']:.1f}"] if args.write else [])
            + [verdict]
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    print("  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    b = _baseline(args.baseline_customers)
    print(
        f"\nbaseline, purchase layer at {args.baseline_customers:,} customers: "
        f"Python loop over customers {b['loop_seconds']:.2f} s, "
        f"vectorised {b['vectorised_seconds']:.3f} s "
        f"(ratio {b['loop_seconds'] / b['vectorised_seconds']:.0f}×)"
    )
    print(
        "peak GB: peak resident memory of the process (interpreter and libraries included); "
        f"after imports it was {results[0]['rss_after_import_gb']:.2f} GB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
