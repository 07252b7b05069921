"""Benchmark: ``shopbook import`` of a GB18030 order-line export against a plain DuckDB
``read_csv`` of the same data (a UTF-8 copy), in the same run.

Builds (deterministically, from hashes of the line number) a platform-style export with
one row per order line — Chinese headers, Chinese status words, money as ``¥1,299.00``
text, the order's fields repeated on each of its lines, every tenth order with one SKU
on two lines — writes it as UTF-8 with DuckDB and transcodes it to GB18030 (streamed).
Then measures, each case in a fresh subprocess so its peak memory is its own:

* ``read_csv``  the baseline: DuckDB reads the UTF-8 copy (all columns as text) into a
                table of a new DuckDB file;
* ``import``    :func:`shopbook.data.importing.import_exports` of the GB18030 file with
                a mapping (value map, ``money()``, ``lines()``, constants,
                ``combine_lines: sum``): transcoding, mapping, validation of orders and
                order_items, and writing the kept rows and ``_rejected``.

Prints lines, seconds (the median of ``--repeat`` runs, the cases alternating so that
all see the same machine load), peak RSS (the largest), the ratio to the baseline and the
import's seconds per stage (read: check, transcode, read the rows; map; validate; write),
and checks that the import lost nothing (lines in = order_items read + merged).

``--also SRC`` adds a case ``import@SRC``: the same import run by the package in another
checkout's ``src`` folder (e.g. ``git archive HEAD~3 src | tar -x -C /tmp/old``), in the
same alternation — a before/after comparison under the same load.

Usage::

    .venv/bin/python benchmarks/bench_import.py              # 5 M lines
    .venv/bin/python benchmarks/bench_import.py --lines 1e6  # smaller
    .venv/bin/python benchmarks/bench_import.py --repeat 3   # alternate, show medians
    .venv/bin/python benchmarks/bench_import.py --also /tmp/old/src  # against older code

The files go to ``$TMPDIR/shopbook_bench`` (reused when present), never the repo.
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
from _common import peak_mb  # noqa: E402

MAPPING = """\
encoding: gb18030
timezone: Asia/Shanghai
currency: CNY
files:
  - kind: orders
    match: [订单编号, 买家会员名, 订单状态, 商品编码]
    produces: [orders, order_items]
orders:
  columns: {订单编号: order_id, 买家会员名: customer_id, 下单时间: order_ts, 订单状态: status}
  values: {status: {交易成功: paid, 退款成功: refunded, 交易关闭: cancelled}}
  constants: {channel: tmall}
  derive:
    net_amount: money(col("实付金额"))
    gross_amount: net_amount
    discount_amount: gross_amount - net_amount
order_items:
  columns: {订单编号: order_id, 商品编码: sku, 购买数量: quantity}
  derive: {unit_price: money(col("单价")), list_price: unit_price}
  constants: {unit_cost: null}
  combine_lines: sum
"""


def build(lines: int, folder: Path) -> tuple[Path, Path]:
    """The UTF-8 and GB18030 copies of an export of ``lines`` order lines (reused)."""
    import duckdb

    utf8 = folder / f"export_{lines}.utf8.csv"
    gb = folder / f"export_{lines}.gb18030.csv"
    if utf8.exists() and gb.exists():
        return utf8, gb
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    # line i belongs to order i // 2 (two lines per order); every tenth order repeats
    # its first SKU on the second line (combine_lines: sum adds them up)
    con.execute(f"""
        COPY (
            WITH r AS (
                SELECT i, i // 2 AS o,
                       (hash(i // 2) % 1000003) / 1000003.0 AS u,
                       (hash(i) % 1000003) / 1000003.0 AS v
                FROM range({lines}) t(i)
            )
            SELECT
                'T' || lpad(o::VARCHAR, 10, '0') AS 订单编号,
                '买家' || (floor(u * 200000))::BIGINT::VARCHAR AS 买家会员名,
                strftime(TIMESTAMP '2023-01-01' + to_seconds(floor(u * 700 * 86400)::BIGINT),
                         '%Y-%m-%d %H:%M:%S') AS 下单时间,
                CASE WHEN u < 0.92 THEN '交易成功' WHEN u < 0.97 THEN '退款成功'
                     ELSE '交易关闭' END AS 订单状态,
                CASE WHEN o % 10 = 0 THEN 'SKU' || (o % 500)::VARCHAR
                     ELSE 'SKU' || ((o + i % 2 * 7) % 500)::VARCHAR END AS 商品编码,
                (1 + floor(v * 3))::BIGINT AS 购买数量,
                '¥' || printf('%,.2f', 20 + floor(u * 4000) / 10) AS 单价,
                '¥' || printf('%,.2f', 100 + floor(u * 90000) / 10) AS 实付金额,
                '收货地址' || (o % 977)::VARCHAR || '号' AS 收货地址
            FROM r
        ) TO '{utf8}' (HEADER, DELIMITER ',')
    """)
    con.close()
    tmp = gb.with_suffix(".tmp")
    with open(utf8, encoding="utf-8", newline="") as src, open(tmp, "wb") as out:
        while chunk := src.read(1 << 22):
            out.write(chunk.encode("gb18030"))
    os.replace(tmp, gb)
    return utf8, gb


def case(name: str, utf8: Path, gb: Path, folder: Path) -> dict:
    """One measurement (run in a subprocess)."""
    out = folder / f"out_{name}.duckdb"
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    if name == "read_csv":
        import duckdb

        con = duckdb.connect(str(out))
        con.execute(f"CREATE TABLE lines AS SELECT * FROM read_csv('{utf8}', all_varchar=true)")
        n = con.execute("SELECT count(*) FROM lines").fetchone()[0]
        con.close()
        extra: dict = {"rows": n}
    else:  # import, or import@SRC (PYTHONPATH points at SRC)
        from shopbook.data.importing import import_exports

        mapping = folder / "bench_mapping.yml"
        mapping.write_text(MAPPING, encoding="utf-8")
        result = import_exports([gb], mapping=mapping, out=out, now="2025-01-01")
        h = result.report.tables
        extra = {
            "orders": h["orders"].kept,
            "lines_kept": h["order_items"].kept,
            "lines_read": h["order_items"].read,
            "lines_merged": result.combined["order_items"],
            "lines_in": result.lines["order_items"],
            "rejected": {t: x.rejected for t, x in h.items()},
            "stages": getattr(result, "seconds", {}),
        }
    seconds = time.perf_counter() - start
    out.unlink(missing_ok=True)
    return {"case": name, "seconds": seconds, "peak_mb": peak_mb(), **extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=float, default=5e6, help="order lines (default 5e6)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each case, alternating (medians shown)"
    )
    parser.add_argument(
        "--also", help="the src folder of another checkout: time its import too (alternating)"
    )
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    lines = int(args.lines)
    folder = Path(tempfile.gettempdir()) / "shopbook_bench"
    utf8, gb = build(lines, folder)
    if args.case:
        print(json.dumps(case(args.case, utf8, gb, folder)))
        return
    runs: dict[str, list[dict]] = {"read_csv": [], "import": []}
    if args.also:
        runs[f"import@{args.also}"] = []
    for _ in range(args.repeat):  # alternating, so all see the same machine load
        for name in runs:
            env = dict(os.environ)
            if name.startswith("import@"):
                env["PYTHONPATH"] = os.pathsep.join(
                    [str(Path(args.also).resolve()), env.get("PYTHONPATH", "")]
                ).rstrip(os.pathsep)
            run = subprocess.run(
                [sys.executable, __file__, "--lines", str(lines), "--case", name.split("@")[0]],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            runs[name].append({**json.loads(run.stdout.strip().splitlines()[-1]), "case": name})
    results = []
    for rs in runs.values():
        by_time = sorted(rs, key=lambda r: r["seconds"])
        median = by_time[len(by_time) // 2]
        results.append(
            {
                **median,
                "peak_mb": max(r["peak_mb"] for r in rs),
                "all": [round(r["seconds"], 1) for r in rs],
            }
        )
    base = results[0]["seconds"]
    size = gb.stat().st_size / 1e6
    print(f"GB18030 export: {lines:,} lines, {size:,.0f} MB")
    width = max(10, *(len(r["case"]) for r in results))
    print(f"{'case':<{width}} {'seconds':>8} {'peak MB':>8} {'× read_csv':>11}  runs (s)")
    for r in results:
        ratio = r["seconds"] / base
        print(
            f"{r['case']:<{width}} {r['seconds']:>8.1f} {r['peak_mb']:>8.0f} {ratio:>11.2f}  "
            + ", ".join(f"{x:.1f}" for x in r["all"])
        )
    for r in results[1:]:
        if r.get("stages"):
            shown = ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items())
            print(f"{r['case']} stages (s, of the median run): {shown}")
    for imp in results[1:]:
        assert imp["lines_in"] == lines == imp["lines_read"] + imp["lines_merged"], "lines lost"
    imp = results[1]
    print(
        f"import: orders kept {imp['orders']:,}, lines kept {imp['lines_kept']:,} of "
        f"{imp['lines_read']:,} read; {imp['lines_merged']:,} repeated lines added up; "
        f"rejected {imp['rejected']}"
    )


if __name__ == "__main__":
    main()
