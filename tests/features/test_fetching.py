"""``features.fetch(expr)`` is ``expr.execute()``: same columns, values and dtypes.

Checked for a table holding every column type (with and without nulls, an all-null
column, an empty result, DuckDB's HUGEINT sums and DECIMAL float literals) and for every
feature builder on the shipped shop (``data/shop.duckdb``): each builder runs once as
shipped (its frames fetched) and once with :func:`fetch` replaced by ``execute()``; the
frames must be equal — to the last bit for one query's result (``check_exact``), to 1e-12
between two runs of a builder (DuckDB's parallel float sums are not reproducible to the
bit) — decimals to the last digit.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest

from shopbook.features import fetch
from shopbook.features import fetching as F

ROOT = Path(__file__).parents[2]

ALL_TYPES = """
CREATE TABLE t AS SELECT * FROM (VALUES
 (1::TINYINT, 1::SMALLINT, 1::INTEGER, 1::BIGINT, 1::UBIGINT, 1.5::FLOAT, 1.5::DOUBLE, true,
  'a', DATE '2024-01-02', TIMESTAMP '2024-01-02 03:04:05.123456',
  '2024-01-02 03:04:05.123456789'::TIMESTAMP_NS, '2024-01-02 03:04:05'::TIMESTAMP_S,
  TIMESTAMPTZ '2024-01-02 03:04:05+00', 12.50::DECIMAL(18,2), 1.1::DECIMAL(38,10),
  INTERVAL 2 DAY, NULL::BIGINT, TIME '10:00:00', [1, 2], {'a': 1}),
 (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL),
 (3, 3, 3, 3, 3, -0.0, 'nan'::DOUBLE, false, 'c', DATE '1999-12-31', TIMESTAMP '1990-01-01',
  '1990-01-01'::TIMESTAMP_NS, '1990-01-01'::TIMESTAMP_S, TIMESTAMPTZ '1990-01-01 00:00:00+00',
  -0.00::DECIMAL(18,2), 0::DECIMAL(38,10), INTERVAL 3 HOUR, NULL::BIGINT, TIME '11:00:00',
  [], {'a': 2})
) v(i8, i16, i32, i64, u64, f32, f64, b, s, d, ts, ts_ns, ts_s, ts_tz, dec, dec38, iv,
    all_null, tm, arr, st)
"""


def assert_same(ours: pd.DataFrame, theirs: pd.DataFrame, exact: bool = True) -> None:
    """Equal frames, dtypes included, floats to the bit (or to 1e-12 when not ``exact``),
    Decimals to the digit."""
    if exact:
        pd.testing.assert_frame_equal(ours, theirs, check_dtype=True, check_exact=True)
    else:
        pd.testing.assert_frame_equal(ours, theirs, check_dtype=True, rtol=1e-12, atol=0)
    for c in ours.columns:
        if ours[c].dtype == object:  # Decimal('1.50') == Decimal('1.5'): compare the text
            assert list(map(repr, ours[c])) == list(map(repr, theirs[c])), c


@pytest.fixture(scope="module")
def con() -> Any:
    con = ibis.duckdb.connect()
    con.raw_sql(ALL_TYPES)
    con.raw_sql(
        "CREATE TABLE r AS SELECT ((hash(range) % 100000000) / 100)::DECIMAL(18, 2) AS m,"
        " range % 7 AS q, (range % 50000)::VARCHAR AS k,"
        " CASE WHEN range % 5 = 0 THEN NULL ELSE ((hash(range + 1) % 1000000) / 1000)"
        "::DECIMAL(18, 3) END AS mn FROM range(200000)"
    )
    return con


@pytest.mark.parametrize("rows", ["all", "no nulls", "empty", "only nulls", "fast types"])
def test_every_type_as_execute(con, rows):
    t = con.table("t")
    expr = {
        "all": t,
        "no nulls": t.filter(t.i64.notnull()),
        "empty": t.filter(t.i64 > 100),
        "only nulls": t.filter(t.i64.isnull()),
        "fast types": t.drop("iv", "tm", "arr", "st", "all_null"),
    }[rows]
    assert_same(fetch(expr), expr.execute())


def test_the_dtypes_of_the_module_table(con):
    """The documented rules, spelled out (a change in ibis shows here first)."""
    t = con.table("t")
    some, none = fetch(t), fetch(t.filter(t.i64.notnull()))
    assert str(none["i64"].dtype) == "int64" and str(some["i64"].dtype) == "float64"
    assert str(none["b"].dtype) == "bool" and str(some["b"].dtype) == "object"
    assert str(none["d"].dtype) == str(some["d"].dtype) == "datetime64[s]"
    assert str(none["ts"].dtype) == "datetime64[us]" and str(some["ts"].dtype) == "datetime64[ns]"
    assert str(none["ts_s"].dtype) == "datetime64[s]"
    assert str(none["ts_tz"].dtype) == "datetime64[us, UTC]"
    assert str(some["ts_tz"].dtype) == "datetime64[ns, UTC]"
    assert repr(none["dec"].iloc[0]) == "Decimal('12.50')"


def test_timestamps_beyond_nanoseconds(con):
    """With a null, ibis's timestamps are nanoseconds — but not after 2262 (objects)."""
    con.raw_sql(
        "CREATE OR REPLACE TABLE far AS SELECT * FROM (VALUES (TIMESTAMP '2500-01-01', 1),"
        " (NULL, 2), (TIMESTAMP '2000-01-01', 3)) v(ts, k)"
    )
    far = con.table("far").order_by("k")
    assert str(fetch(far)["ts"].dtype) == "object"
    assert_same(fetch(far), far.execute())


def test_engine_types_ibis_names_otherwise(con):
    """HUGEINT sums (ibis: int64) and DECIMAL float literals (ibis: float64)."""
    r = con.table("r")
    expr = r.group_by("k").aggregate(
        units=r.q.sum(),
        weeks=ibis.literal(184 / 7, "float64"),
        third=ibis.literal(1 / 3, "float64"),
        money=r.m.sum().cast("float64"),
        sparse=r.mn.sum().cast("float64"),
        exact=r.m.sum(),
        exact_sparse=r.mn.sum(),
    )
    raw = ibis.get_backend(expr)._to_duckdb_relation(expr, limit=1).to_arrow_table().schema
    assert str(raw.field("units").type) == "decimal128(38, 0)"
    assert str(raw.field("third").type).startswith("decimal128")
    assert_same(fetch(expr.order_by("k")), expr.order_by("k").execute())
    with_nulls = expr.mutate(units=ibis.ifelse(expr.k == "7", ibis.null("int64"), expr.units))
    assert_same(fetch(with_nulls.order_by("k")), with_nulls.order_by("k").execute())


def test_memtables_and_limits(con):
    frame = pd.DataFrame({"a": [3, 1, 2], "s": ["x", None, "z"]})
    expr = ibis.memtable(frame).order_by("a")
    assert_same(fetch(expr), expr.execute())
    assert_same(fetch(expr, limit=2), expr.execute(limit=2))


def test_only_tables():
    with pytest.raises(TypeError, match="table expression"):
        fetch(ibis.memtable({"a": [1]}).a.sum())  # type: ignore[arg-type]


# ------------------------------------------------------------ every builder, shipped shop


@pytest.fixture(scope="module")
def shipped():
    from shopbook.data import open_source
    from tests.engines.test_features import Kept

    return Kept(open_source(str(ROOT / "data" / "shop.duckdb")))


def _executing(expr: Any, **kwargs: Any) -> pd.DataFrame:
    return expr.execute(**kwargs)


def _frames(value: Any, get: Any) -> list[pd.DataFrame]:
    if isinstance(value, ibis.Table):
        return [get(value)]
    if isinstance(value, tuple | list):
        return [f for v in value for f in _frames(v, get)]
    if isinstance(value, pd.Series):
        return [value.to_frame()]
    if isinstance(value, dict):
        return [pd.DataFrame([value])]
    assert isinstance(value, pd.DataFrame), type(value)
    return [value]


def _builders() -> list[str]:
    from tests.engines.test_features import BUILDERS

    return list(BUILDERS)


@pytest.mark.parametrize("name", _builders())
def test_builder_frames_as_execute(name, shipped, monkeypatch):
    from tests.engines.test_features import BUILDERS

    build = BUILDERS[name]
    ours = _frames(build(shipped), fetch)
    for module in [m for m in list(sys.modules.values()) if m is not None]:
        if (
            module.__name__.startswith(("shopbook.", "tests."))
            and getattr(module, "fetch", None) is fetch
        ):
            monkeypatch.setattr(module, "fetch", _executing)
    monkeypatch.setattr(F, "fetch", _executing)
    theirs = _frames(build(shipped), _executing)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert len(a), f"{name} is empty on the shipped shop: it tests nothing"
        # Not to the bit: the two runs are two queries, and DuckDB adds floats in a
        # window (line_shares) in whatever order its threads meet the rows.
        assert_same(_in_order(a), _in_order(b), exact=False)


def _in_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by every column: an expression without ORDER BY has no row order."""
    keys = list(frame.columns)
    return frame.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)
