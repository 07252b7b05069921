"""Timestamps are read value by value: no value's zone leaks into another row.

The property: a random mix of naive values, values with a UTC offset and values with an
IANA zone name (and zone abbreviations) is read exactly as each value would be read
alone — the answer of an independent reader (Python's ``zoneinfo``), whatever its
neighbours, in whichever order the rows come, with or without a dataset ``timezone``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopbook.data.validation import validate
from tests.builders import ORDER_COLUMNS

NOW = "2100-01-01"  # nothing generated is in the future
AMBIGUOUS = "ambiguous time zone in order_ts"

# DST zones in both hemispheres, a 30-minute DST (Lord Howe), quarter/half-hour offsets,
# a zone without DST and a POSIX-style Etc name (Etc/GMT-8 is UTC+8).
ZONES = [
    "Asia/Shanghai",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/St_Johns",
    "Pacific/Chatham",
    "Etc/GMT-8",
]
ABBREVIATIONS = ["CST", "EST", "IST", "PST", "BST", "CET"]
DATASET_ZONES = [None, "Asia/Shanghai", "America/New_York"]


def orders(stamps: list[str]) -> pd.DataFrame:
    """A text orders table, one order per timestamp text (``o0``, ``o1``, …)."""
    n = len(stamps)
    frame = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "customer_id": ["c1"] * n,
            "order_ts": stamps,
            "channel": ["site"] * n,
            "status": ["paid"] * n,
            "gross_amount": ["10"] * n,
            "discount_amount": ["0"] * n,
            "net_amount": ["10"] * n,
            "currency": ["CNY"] * n,
        },
        columns=list(ORDER_COLUMNS),
    )
    return frame.astype("string")


def read(stamps: list[str], dataset_zone: str | None) -> dict[str, object]:
    """``{order_id: kept timestamp or reject reason}``; read = kept + rejected checked."""
    mapping = {"timezone": dataset_zone} if dataset_zone else None
    report = validate({"orders": orders(stamps)}, now=NOW, mapping=mapping)
    kept = report.kept("orders").execute()
    rejected = report.rejects("orders").execute()
    h = report.tables["orders"]
    assert h.read == len(stamps) == len(kept) + len(rejected)
    out: dict[str, object] = dict(zip(kept["order_id"], kept["order_ts"], strict=True))
    out |= dict(zip(rejected["order_id"], rejected["reason"], strict=True))
    return out


def local_in_zone(local: dt.datetime, zone: str) -> dt.datetime:
    """The UTC instant of wall time ``local`` in ``zone``, as DuckDB/PostgreSQL read it.

    In the hour that repeats when clocks go back the later (standard-time) reading; in
    the hour skipped when they go forward, the offset before the change (fold 0).
    """
    tz = zoneinfo.ZoneInfo(zone)
    early, late = (
        local.replace(tzinfo=tz, fold=f).astimezone(dt.UTC).replace(tzinfo=None) for f in (0, 1)
    )
    exists = all(
        u.replace(tzinfo=dt.UTC).astimezone(tz).replace(tzinfo=None) == local for u in (early, late)
    )
    return max(early, late) if exists else early


def in_dataset_zone(utc: dt.datetime, dataset_zone: str | None) -> dt.datetime:
    if dataset_zone is None:
        return utc
    aware = utc.replace(tzinfo=dt.UTC).astimezone(zoneinfo.ZoneInfo(dataset_zone))
    return aware.replace(tzinfo=None)


def expected(kind: str, local: dt.datetime, extra: object, dataset_zone: str | None) -> object:
    """What one value alone means (the independent reader)."""
    if kind == "naive":
        return local
    if kind == "offset":
        return in_dataset_zone(local - dt.timedelta(minutes=int(extra)), dataset_zone)
    if kind == "zone":
        return in_dataset_zone(local_in_zone(local, str(extra)), dataset_zone)
    return AMBIGUOUS


def offset_text(minutes: int, style: int) -> str:
    if minutes == 0 and style == 0:
        return "Z"
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    return [f"{sign}{hh:02d}:{mm:02d}", f"{sign}{hh:02d}{mm:02d}", f" {sign}{hh:02d}:{mm:02d}"][
        style % 3
    ]


def text(kind: str, local: dt.datetime, extra: object, style: int) -> str:
    sep = "T" if style % 2 else " "
    base = local.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    if local.microsecond:
        base += f".{local.microsecond:06d}"
    if kind == "naive":
        return base
    if kind == "offset":
        return base + offset_text(int(extra), style)
    return f"{base} {extra}"


LOCALS = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2035, 12, 31))
VALUES = st.tuples(
    st.sampled_from(["naive", "offset", "zone", "abbreviation"]),
    LOCALS,
    st.integers(-12 * 4, 14 * 4).map(lambda q: q * 15),  # offsets in quarter hours
    st.sampled_from(ZONES),
    st.sampled_from(ABBREVIATIONS),
    st.integers(0, 5),
)


def _value(v):
    kind, local, minutes, zone, abbreviation, style = v
    extra = {"offset": minutes, "zone": zone, "abbreviation": abbreviation}.get(kind)
    return kind, local, extra, style


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    values=st.lists(VALUES.map(_value), min_size=1, max_size=12),
    zone=st.sampled_from(DATASET_ZONES),
)
def test_each_value_is_read_as_if_alone(values, zone):
    stamps = [text(kind, local, extra, style) for kind, local, extra, style in values]
    want = {f"o{i}": expected(k, loc, x, zone) for i, (k, loc, x, _) in enumerate(values)}
    got = read(stamps, zone)
    assert {k: _plain(v) for k, v in got.items()} == want, stamps
    # the same values in the opposite order: every value still reads the same
    back = read(stamps[::-1], zone)
    n = len(stamps)
    assert {f"o{n - 1 - int(k[1:])}": _plain(v) for k, v in back.items()} == want


def _plain(value: object) -> object:
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value


# -- the cases the attack found, as fixed examples -------------------------------------------


def test_naive_values_after_a_zone_name_are_not_moved():
    """The attack: one ``… Asia/Shanghai`` among 9,999 rows moved 1,947 naive rows 8 hours."""
    n = 9_999
    start = dt.datetime(2024, 3, 1, 3, 0)
    locals_ = [start + dt.timedelta(minutes=7 * i) for i in range(n)]
    stamps = [t.strftime("%Y-%m-%d %H:%M:%S") for t in locals_]
    stamps[8_052] += " Asia/Shanghai"
    got = read(stamps, None)
    moved = [i for i in range(n) if i != 8_052 and _plain(got[f"o{i}"]) != locals_[i]]
    assert moved == []
    assert _plain(got["o8052"]) == locals_[8_052] - dt.timedelta(hours=8)


def test_an_abbreviation_is_ambiguous_even_when_the_mapping_names_a_timezone():
    stamps = ["2024-01-02 10:00:00 CST", "2024-01-02 10:00:00", "2024-01-02 10:00:00 EST"]
    for zone in (None, "Asia/Shanghai"):
        got = read(stamps, zone)
        assert got == {"o0": AMBIGUOUS, "o1": pd.Timestamp("2024-01-02 10:00"), "o2": AMBIGUOUS}
