"""Benchmark: the validator against one hand-written DuckDB SQL script doing the same checks.

Data: the Parquet files of :mod:`bench_engines` (``orders`` and ``order_items`` of the
shipped shop replicated to ``--lines`` order lines, written by DuckDB into
``$TMPDIR/shopbook_bench/lines_<N>/``, reused when present). That shop is clean — every
row is kept — so ``--dirty`` also writes ``lines_<N>_dirty/``: the same rows with about
one in a hundred broken in the ways the rules catch (ids written ``N/A`` or blank, padded
or upper-case statuses, unknown statuses, negative or infinite amounts, discounts above
the gross, net ≠ gross − discount, orders in the future, repeated orders and lines,
orphan lines, zero quantities, NaN costs), deterministic by row number.

Cases, each in a fresh subprocess (its peak RSS is its own; opening the connection or
the source is not timed):

* ``sql``      one DuckDB SQL script over the Parquet files computing what the validator
  computes for ``orders`` and ``order_items``: per row the reason of the first rule it
  fails (or none: kept), the rows typed, the source text of values that could not be
  read, each table materialised once as a temporary table; from those, rows per reason
  with the uncoercible and one-currency tests, and the line-total check (kept orders
  whose gross is not Σ quantity × unit_price of their kept lines);
* ``sql_plain`` the same script written the textbook way — ``trim(x, chars)`` on every
  value, ``lower(x) IN (…)`` — which DuckDB runs slower (for reference: ``sql`` trims
  only values with white space at an edge and writes the lists as equalities, as the
  validator does);
* ``shopbook`` ``validate(source, tables=("orders", "order_items"), now=NOW)`` on the
  DuckDB source over the same files: the same numbers (it materialises the checked rows
  of each table, counts them by reason and runs the line-total check).

The SQL applies the same rules in the same order (docstring of
:mod:`shopbook.data.validation`): text trimmed, blank as null, missing-id text as null,
statuses matched case-insensitively, NaN as missing, ±inf out of range; column rules in
contract order, the row rules, repeated keys (the first of the passing rows by the other
columns is kept), then orphan lines against the kept orders. It takes no shortcut the
validator could not: it knows nothing of the data. The counts of both cases (read, kept,
rejected per reason and the line-total disagreements) are compared and the result printed.

Printed: lines × case × seconds × peak RSS × ratio to the SQL, CPU seconds and their ratio
(steadier than the seconds when other work shares the cores), and whether the counts
agree. Goal of issue 18: the validator within 1.2× its SQL.

Usage::

    .venv/bin/python benchmarks/bench_validate.py                    # 1 M and 10 M lines
    .venv/bin/python benchmarks/bench_validate.py --lines 1e7 --dirty
    .venv/bin/python benchmarks/bench_validate.py --lines 1e6 --repeat 3
    git archive 14cd398 src | tar -x -C /tmp/old   # the validator before issue 18's work
    .venv/bin/python benchmarks/bench_validate.py --lines 1e7 --dirty --before /tmp/old/src
"""

from __future__ import annotations

import argparse
import json
import string
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_engines import _measure, _slope, build_lines  # noqa: E402

CASES = ("sql", "sql_plain", "shopbook")
NOW = "2026-01-01 00:00:00"  # the present of the "in the future" rule, the same for both
TOL = "0.010001"  # contract.MONEY_TOLERANCE + its float slack, as the validator writes it
WS = string.whitespace  # what the validator trims (ibis strip)
PLAIN = False  # the textbook SQL: trim() and IN lists (the case "sql_plain")
MISSING = ("null", "none", "nan", "n/a", "na", "#n/a", "nil", "undefined", "-", "--")


def _lit(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _clean(c: str) -> str:
    """Source text trimmed, blank as null; ``trim`` only where an edge is white space
    (DuckDB's ``trim`` with a set of characters is twice as slow as these tests)."""
    if PLAIN:
        return f"NULLIF(trim({c}, '{WS}'), '') AS {c}"
    edge = " OR ".join(f"starts_with({c}, '{w}') OR suffix({c}, '{w}')" for w in WS)
    return f"NULLIF(CASE WHEN {edge} THEN trim({c}, '{WS}') ELSE {c} END, '') AS {c}"


def _id(c: str) -> str:
    """An id column: missing-id text is null, with its reason and source text (an ``IN``
    list is planned as a join per use: equalities are faster)."""
    if PLAIN:
        miss = f"lower({c}) IN ({_lit(MISSING)})"
    else:
        miss = "(" + " OR ".join(f"lower({c}) = '{v}'" for v in MISSING) + ")"
    return (
        f"CASE WHEN {miss} THEN NULL ELSE {c} END AS {c}, "
        f"CASE WHEN {miss} THEN 'null {c}' END AS why_{c}, "
        f"CASE WHEN {miss} THEN src_{c} END AS raw_{c}"
    )


def _money(c: str) -> str:
    """A float column: NaN is missing, ±inf out of range (its text kept)."""
    return (
        f"CASE WHEN isnan({c}) OR isinf({c}) THEN NULL ELSE {c} END AS {c}, "
        f"CASE WHEN isinf({c}) THEN 'out of range {c}' END AS why_{c}, "
        f"CASE WHEN isinf({c}) THEN CAST({c} AS VARCHAR) END AS raw_{c}"
    )


def _money_rules(c: str, nullable: bool = False) -> str:
    null = "" if nullable else f" WHEN {c} IS NULL THEN 'null {c}'"
    return f" WHEN why_{c} IS NOT NULL THEN why_{c}{null} WHEN {c} < 0 THEN 'negative {c}'"


def _id_rules(c: str) -> str:
    return f" WHEN why_{c} IS NOT NULL THEN why_{c} WHEN {c} IS NULL THEN 'null {c}'"


def script(d: Path) -> list[str]:
    """The SQL statements: both tables checked and materialised (``orders_checked``,
    ``items_checked``)."""
    amounts = ("gross_amount", "discount_amount", "net_amount")
    prices = ("unit_price", "list_price", "unit_cost")
    orders = f"""
    CREATE TEMP TABLE orders_checked AS
    WITH s AS (
        SELECT order_id AS src_order_id, customer_id AS src_customer_id,
               {_clean("order_id")}, {_clean("customer_id")}, order_ts, {_clean("channel")},
               {_clean("status")}, gross_amount, discount_amount, net_amount,
               {_clean("currency")}, file_row_number AS i
        FROM read_parquet('{d}/orders.parquet', file_row_number = true)),
    t AS (
        SELECT {_id("order_id")}, {_id("customer_id")},
               CAST(order_ts AS TIMESTAMP) AS order_ts, channel,
               CASE lower(status) WHEN 'paid' THEN 'paid' WHEN 'refunded' THEN 'refunded'
                    WHEN 'cancelled' THEN 'cancelled' ELSE status END AS status,
               {", ".join(_money(c) for c in amounts)}, currency, i
        FROM s),
    r AS (
        SELECT * EXCLUDE (reason), CASE
            WHEN reason IS NULL AND discount_amount > gross_amount + {TOL}
                THEN 'discount > gross'
            WHEN reason IS NULL AND abs(net_amount - (gross_amount - discount_amount)) > {TOL}
                THEN 'net ≠ gross − discount'
            ELSE reason END AS reason
        FROM (SELECT *, CASE{_id_rules("order_id")}{_id_rules("customer_id")}
                  WHEN order_ts IS NULL THEN 'null order_ts'
                  WHEN order_ts > TIMESTAMP '{NOW}' THEN 'order_ts in the future'
                  WHEN channel IS NULL THEN 'null channel'
                  WHEN status IS NULL THEN 'null status'
                  WHEN status NOT IN ('paid', 'refunded', 'cancelled') THEN 'unknown status'
                  {"".join(_money_rules(c) for c in amounts)}
                  WHEN currency IS NULL THEN 'null currency' END AS reason
              FROM t)),
    repeated AS (
        SELECT order_id FROM r WHERE reason IS NULL GROUP BY order_id HAVING count(*) > 1),
    later AS (  -- of the passing rows of a repeated key, all but the first
        SELECT i FROM (
            SELECT r.* FROM r SEMI JOIN repeated USING (order_id) WHERE reason IS NULL)
        QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY customer_id, order_ts,
            channel, status, gross_amount, discount_amount, net_amount, currency) > 1)
    SELECT r.* EXCLUDE (i) REPLACE (
        CASE WHEN later.i IS NULL THEN r.reason ELSE 'duplicate order_id' END AS reason)
    FROM r LEFT JOIN later ON r.i = later.i"""
    items = f"""
    CREATE TEMP TABLE items_checked AS
    WITH s AS (
        SELECT order_id AS src_order_id, sku AS src_sku, {_clean("order_id")},
               {_clean("sku")}, quantity, unit_price, list_price, unit_cost,
               file_row_number AS i
        FROM read_parquet('{d}/order_items.parquet', file_row_number = true)),
    r AS (
        SELECT *, CASE{_id_rules("order_id")}{_id_rules("sku")}
               WHEN quantity IS NULL THEN 'null quantity'
               WHEN quantity <= 0 THEN 'non-positive quantity'
               {_money_rules("unit_price")}{_money_rules("list_price")}
               {_money_rules("unit_cost", nullable=True)} END AS reason
        FROM (SELECT {_id("order_id")}, {_id("sku")}, CAST(quantity AS BIGINT) AS quantity,
                     {", ".join(_money(c) for c in prices)}, i FROM s)),
    repeated AS (
        SELECT order_id, sku FROM r WHERE reason IS NULL GROUP BY ALL HAVING count(*) > 1),
    later AS (
        SELECT i FROM (
            SELECT r.* FROM r SEMI JOIN repeated USING (order_id, sku) WHERE reason IS NULL)
        QUALIFY row_number() OVER (PARTITION BY order_id, sku
            ORDER BY quantity, unit_price, list_price, unit_cost) > 1),
    kept_orders AS (SELECT DISTINCT order_id FROM orders_checked WHERE reason IS NULL)
    SELECT r.* EXCLUDE (i) REPLACE (CASE
        WHEN later.i IS NOT NULL THEN 'duplicate order_item (map combine_lines: sum to add them up)'
        WHEN r.reason IS NULL AND r.order_id IS NOT NULL AND k.order_id IS NULL
            THEN 'orphan order_item'
        ELSE r.reason END AS reason)
    FROM r LEFT JOIN later ON r.i = later.i LEFT JOIN kept_orders k ON r.order_id = k.order_id"""
    return [orders, items]


def _counts_sql(table: str, money: tuple[str, ...], one_value: tuple[str, ...]) -> str:
    parts = ["count(*) AS n"]
    for c in money:
        parts += [
            f"count({c}) AS ok_{c}",
            f"count(CASE WHEN why_{c} = 'unparseable {c}' THEN raw_{c} END) AS bad_{c}",
            f"min(CASE WHEN why_{c} = 'unparseable {c}' THEN raw_{c} END) AS eg_{c}",
        ]
    for c in one_value:
        parts += [f"min({c}) AS lo_{c}", f"max({c}) AS hi_{c}"]
    return f"SELECT reason, {', '.join(parts)} FROM {table} GROUP BY reason"


LINE_TOTALS = f"""
    WITH sums AS (
        SELECT order_id, sum(CAST(quantity AS DOUBLE) * unit_price) AS total
        FROM items_checked WHERE reason IS NULL GROUP BY order_id)
    SELECT count(*) AS compared,
           sum(CASE WHEN abs(o.gross_amount - s.total) > {TOL} THEN 1 ELSE 0 END) AS differ,
           min(CASE WHEN abs(o.gross_amount - s.total) > {TOL} THEN o.order_id END) AS example
    FROM orders_checked o JOIN sums s ON o.order_id = s.order_id WHERE o.reason IS NULL"""


def _health(rows: list[tuple]) -> dict:
    reasons = {str(r[0]): int(r[1]) for r in rows if r[0] is not None}
    kept = sum(int(r[1]) for r in rows if r[0] is None)
    return {"read": kept + sum(reasons.values()), "kept": kept, "reasons": reasons}


def run_sql(d: Path) -> dict:
    """The SQL case in this process: seconds, CPU seconds and the counts."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    t0, c0 = time.perf_counter(), time.process_time()
    for statement in script(d):
        con.execute(statement)
    orders = con.execute(
        _counts_sql(
            "orders_checked", ("gross_amount", "discount_amount", "net_amount"), ("currency",)
        )  # fmt: skip
    ).fetchall()
    items = con.execute(
        _counts_sql("items_checked", ("unit_price", "list_price", "unit_cost"), ())
    ).fetchall()
    differ = con.execute(LINE_TOTALS).fetchone()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    counts = {"orders": _health(orders), "order_items": _health(items)}
    counts["line totals differ"] = int(differ[1] or 0)
    return {"seconds": seconds, "cpu": cpu, "counts": counts}


def run_shopbook(d: Path) -> dict:
    """The validator in this process: seconds, CPU seconds and the counts."""
    import re

    from shopbook.data.sources import open_source
    from shopbook.data.validation import validate

    src = open_source(str(d))
    t0, c0 = time.perf_counter(), time.process_time()
    report = validate(src, tables=("orders", "order_items"), now=NOW)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    counts: dict = {
        name: {"read": h.read, "kept": h.kept, "reasons": dict(h.reasons)}
        for name, h in report.tables.items()
    }
    found = [re.match(r"orders: ([\d,]+) of", w) for w in report.warnings]
    counts["line totals differ"] = next((int(m.group(1).replace(",", "")) for m in found if m), 0)
    return {"seconds": seconds, "cpu": cpu, "counts": counts}


def build_dirty(clean: Path) -> Path:
    """``clean``'s rows with about one in a hundred broken (see the module docstring)."""
    import duckdb

    out = clean.with_name(clean.name + "_dirty")
    if (out / "order_items.parquet").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"""
        CREATE TEMP TABLE o AS SELECT * EXCLUDE (file_row_number), file_row_number AS i,
            file_row_number % 997 AS k
        FROM read_parquet('{clean}/orders.parquet', file_row_number = true)""")
    con.execute(f"""COPY (
        SELECT CASE k WHEN 1 THEN ' N/A ' WHEN 2 THEN '' ELSE order_id END AS order_id,
               CASE k WHEN 3 THEN 'null' WHEN 4 THEN '  ' || customer_id ELSE customer_id
                   END AS customer_id,
               CASE k WHEN 5 THEN TIMESTAMP '2030-01-01' WHEN 6 THEN NULL ELSE order_ts
                   END AS order_ts,
               CASE k WHEN 7 THEN NULL ELSE channel END AS channel,
               CASE k WHEN 8 THEN ' PAID' WHEN 9 THEN 'lost' WHEN 10 THEN 'Refunded '
                   ELSE status END AS status,
               CASE k WHEN 11 THEN -1.0 WHEN 12 THEN 'inf'::DOUBLE WHEN 13 THEN 'nan'::DOUBLE
                   ELSE gross_amount END AS gross_amount,
               CASE k WHEN 14 THEN gross_amount + 10 WHEN 15 THEN -0.5
                   ELSE discount_amount END AS discount_amount,
               CASE k WHEN 16 THEN net_amount + 5 WHEN 17 THEN net_amount + 0.004
                   WHEN 11 THEN -1.0 - discount_amount ELSE net_amount END AS net_amount,
               CASE k WHEN 18 THEN NULL WHEN 19 THEN ' CNY ' ELSE currency END AS currency
        FROM o
        UNION ALL  -- repeated orders: a later copy, and an exact copy
        SELECT order_id, customer_id, order_ts + INTERVAL 1 HOUR, channel, status,
               gross_amount, discount_amount, net_amount, currency FROM o WHERE k = 20
        UNION ALL
        SELECT order_id, customer_id, order_ts, channel, status, gross_amount,
               discount_amount, net_amount, currency FROM o WHERE k = 21
        ) TO '{out}/orders.parquet' (FORMAT parquet)""")
    con.execute(f"""
        CREATE TEMP TABLE l AS SELECT * EXCLUDE (file_row_number),
            file_row_number % 991 AS k
        FROM read_parquet('{clean}/order_items.parquet', file_row_number = true)""")
    con.execute(f"""COPY (
        SELECT CASE k WHEN 1 THEN order_id || 'x' WHEN 2 THEN 'NULL' ELSE order_id
                   END AS order_id,
               CASE k WHEN 3 THEN '-' WHEN 4 THEN sku || ' ' ELSE sku END AS sku,
               CASE k WHEN 5 THEN 0 WHEN 6 THEN NULL ELSE quantity END AS quantity,
               CASE k WHEN 7 THEN -2.0 WHEN 8 THEN '-inf'::DOUBLE ELSE unit_price
                   END AS unit_price,
               CASE k WHEN 9 THEN NULL ELSE list_price END AS list_price,
               CASE k WHEN 10 THEN 'nan'::DOUBLE WHEN 11 THEN -1.0 ELSE unit_cost
                   END AS unit_cost
        FROM l
        UNION ALL  -- repeated lines
        SELECT order_id, sku, quantity + 1, unit_price, list_price, unit_cost FROM l
        WHERE k = 12
        ) TO '{out}/order_items.parquet' (FORMAT parquet)""")
    con.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=float, nargs="*", default=[1e6, 1e7])
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--dirty", action="store_true", help="also the data with broken rows")
    ap.add_argument("--repeat", type=int, default=1, help="runs per case (the fastest shown)")
    ap.add_argument(
        "--before",
        metavar="SRC",
        help="also the validator of another checkout's src folder (case 'before'), e.g. "
        "from `git archive <commit> src | tar -x -C /tmp/old`",
    )
    ap.add_argument("--case", nargs=2, help=argparse.SUPPRESS)  # internal: kind dir
    args = ap.parse_args()
    if args.case:
        kind, d = args.case
        global PLAIN
        PLAIN = kind == "sql_plain"
        res = run_shopbook(Path(d)) if kind in ("shopbook", "before") else run_sql(Path(d))
        print(json.dumps(res))
        return
    cases = [c for c in args.cases.split(",") if c]
    if args.before:
        cases.insert(cases.index("shopbook") if "shopbook" in cases else len(cases), "before")
    folder = Path(tempfile.gettempdir()) / "shopbook_bench"
    header = (
        f"{'lines':>11} {'data':6} {'case':9} {'seconds':>8} {'peak MB':>8} {'× SQL':>6}"
        f" {'cpu s':>7} {'cpu×SQL':>7}  counts"
    )
    print(header + "\n" + "-" * len(header))
    times: dict[str, list[tuple[int, float]]] = {}
    for n in [int(x) for x in args.lines]:
        clean = build_lines(n, folder)
        datasets = [("clean", clean)] + ([("dirty", build_dirty(clean))] if args.dirty else [])
        for label, d in datasets:
            base = cpu_base = counts = None
            for kind in ["sql", *[c for c in cases if c != "sql"]]:
                best = None
                for _ in range(args.repeat):
                    cmd = [sys.executable, __file__, "--case", kind, str(d)]
                    if kind == "before":  # the older package first on the path
                        cmd = ["env", f"PYTHONPATH={Path(args.before).resolve()}", *cmd]
                    res, peak, err = _measure(cmd)
                    if res is None:
                        break
                    if best is None or res["seconds"] < best[0]["seconds"]:
                        best = (res, peak)
                if best is None:
                    print(f"{n:>11,} {label:6} {kind:9} failed: {err}")
                    continue
                res, peak = best
                s, cpu = res["seconds"], res["cpu"]
                if kind == "sql":
                    base, cpu_base, counts = s, cpu, res["counts"]
                    note = _summary(counts)
                else:
                    note = (
                        "equal to the SQL's"
                        if counts is None or res["counts"] == counts
                        else "DIFFER: " + json.dumps(res["counts"])
                    )
                ratio = f"{s / base:6.2f}" if base else "     –"
                cpu_ratio = f"{cpu / cpu_base:7.2f}" if cpu_base else "      –"
                print(f"{n:>11,} {label:6} {kind:9} {s:8.2f} {peak:8.0f} {ratio} {cpu:7.2f}"
                      f" {cpu_ratio}  {note}", flush=True)  # fmt: skip
                if label == "clean":
                    times.setdefault(kind, []).append((n, s))
    if any(len(p) > 1 for p in times.values()):
        print("\nslope of log(seconds) over log(lines) (1 = linear):")
        for kind, pts in sorted(times.items()):
            print(f"  {kind:9} {_slope(pts):5.2f}")
    print("goal: the validator within 1.2× its SQL (the × SQL column)")


def _summary(counts: dict) -> str:
    parts = []
    for name in ("orders", "order_items"):
        h = counts[name]
        parts.append(f"{name} {h['kept']:,}/{h['read']:,} kept, {len(h['reasons'])} reasons")
    return "; ".join(parts) + f"; {counts['line totals differ']:,} totals differ"


if __name__ == "__main__":
    main()
