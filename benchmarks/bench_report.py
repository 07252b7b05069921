"""Benchmark: ``make report`` after setup — every notebook of the ``all`` job rendered on
the shipped shop (``shopbook run --job all``), one notebook at a time against side by
side, in the same run.

Each case runs the installed ``shopbook`` command in a fresh process into its own
reports folder under ``$TMPDIR/shopbook_bench/report_<case>`` (never the repo's
``reports/``) and reads the run's ``summary.json``. Printed: seconds (the median of
``--repeat`` runs, the cases alternating so that all see the same load), CPU seconds of
the process tree, peak RSS of the largest process, each notebook's seconds, and issue
18's goal: the whole job within 60 s on this 2-core machine.

Usage::

    .venv/bin/python benchmarks/bench_report.py             # workers 1 and the default
    .venv/bin/python benchmarks/bench_report.py --repeat 3
    .venv/bin/python benchmarks/bench_report.py --cases default,default-cold  # warm kernels
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
GOAL_S = 60.0


def one(case: str, out: Path) -> dict:
    """Run the job once with ``case`` workers (``"default"``: the runner's default; a
    ``-cold`` suffix: without warm kernels, ``SHOPBOOK_WARM_KERNELS=0``)."""
    shutil.rmtree(out, ignore_errors=True)
    shopbook = Path(sys.executable).parent / "shopbook"
    cmd = [str(shopbook), "run", "--job", "all", "--out", str(out), "--quiet"]
    workers, cold = case.removesuffix("-cold"), case.endswith("-cold")
    if workers != "default":
        cmd += ["--workers", workers]
    env = {**os.environ, **({"SHOPBOOK_WARM_KERNELS": "0"} if cold else {})}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False, env=env)
    seconds = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{case}: shopbook run failed\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    (summary,) = {p.resolve() for p in out.glob("all/*/summary.json")}  # latest links it
    runs = json.loads(summary.read_text(encoding="utf-8"))["notebooks"]
    return {
        "seconds": seconds,
        "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "peak_mb": after.ru_maxrss / 1024,
        "notebooks": {r["notebook"][:2]: r["duration_s"] for r in runs},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--cases", default="1,default", help="worker counts, or 'default'; '-cold' suffix"
    )
    args = parser.parse_args()
    base = Path(os.environ.get("TMPDIR") or tempfile.gettempdir()) / "shopbook_bench"
    cases = args.cases.split(",")
    results: dict[str, list[dict]] = {c: [] for c in cases}
    for _ in range(args.repeat):
        for case in cases:
            results[case].append(one(case, base / f"report_{case}"))
    from shopbook.report.runs import default_workers

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'workers':<10} {'seconds':>8} {'cpu s':>8} {'peak MB':>8}  notebooks (s)")
    for case, runs in results.items():
        median = statistics.median(r["seconds"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        each = " ".join(f"{k} {v:.0f}" for k, v in runs[0]["notebooks"].items())
        label = case.replace("default", f"{default_workers()} (default)")
        print(f"{label:<10} {median:>8.1f} {cpu:>8.1f} {peak:>8.0f}  {each}")
    best = min(statistics.median(r["seconds"] for r in runs) for runs in results.values())
    verdict = "met" if best <= GOAL_S else "NOT met"
    print(f"goal: make report (shopbook run --job all) ≤ {GOAL_S:.0f} s after setup: {verdict}")


if __name__ == "__main__":
    main()
