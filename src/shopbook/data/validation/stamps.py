"""Reading timestamp text value by value, each value in its own time zone.

One value's zone never changes how another value is read (DuckDB's vectorised
``TIMESTAMPTZ`` cast does that: after ``… Asia/Shanghai`` it reads the naive values that
follow in Shanghai time). So the text is split in the engine, per value, into a local
date-time and what follows it, and each shape is read on its own:

* no zone (``2024-01-02 10:00:00``): a time in the dataset's zone, kept as written;
* an offset (``+08:00``, ``+0800``, ``+08``, ``-05:00``) or ``Z`` / ``UTC`` / ``GMT``: the
  instant it names, converted to the dataset's zone;
* an IANA zone name of the form Area/Location (``Asia/Shanghai``, ``America/New_York``,
  ``Etc/GMT-8``): the local time in that zone (daylight saving time per value),
  converted to the dataset's zone;
* letters that are not such a name (``CST``, ``EST``, ``IST``, ``PRC``…): an abbreviation
  that names several zones (``CST`` is China, US Central or Cuba). The row is rejected
  as ``ambiguous time zone in <column>`` — also when the mapping names a timezone,
  because that names the zone of the *naive* values, not what an abbreviation means;
* anything else is unreadable (``unparseable <column>``).

The *dataset's zone* is the mapping's top-level ``timezone`` (default ``UTC``): every
timestamp the validator keeps is a naive wall-clock time in it.

Converting between zones per value needs an engine function: ``timezone(zone, ts)`` on
DuckDB and PostgreSQL, ``to_utc_timestamp`` / ``from_utc_timestamp`` on Spark. On other
engines values with a zone name are unreadable, and a dataset zone other than UTC is a
structural error; offsets work everywhere (plain arithmetic).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from shopbook.data.sources.transform import blank_null, one_of
from shopbook.data.validation._common import ambiguous_zone, unparseable

# Working columns of :func:`split_stamps` (+ column name).
_AT, _ZONE, _OFFSET = "__at_", "__zone_", "__offset_"
# … and the steps to them: the trimmed text, the value cast as it is, the local prefix
_TEXT, _CAST, _PREFIX = "__stamp_", "__cast_", "__prefix_"

#: The time-zone names honoured in a value: IANA names of the form Area/Location.
ZONE_NAMES = frozenset(n for n in zoneinfo.available_timezones() if "/" in n)

#: Zone text meaning UTC itself (compared in upper case).
UTC_TEXT = ("Z", "UTC", "GMT")

_LOCAL = r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?)?"
_LOCAL_PREFIX = f"^{_LOCAL}"
_OFFSET_TEXT = r"^[+-]\d{2}(?::?\d{2})?$"
_LETTERS = r"^[A-Za-z]{2,}$"
_NAME = r"^[A-Za-z]+(?:/[A-Za-z0-9_+\-]+)+$"
_MAX_CONSTANT_ZONES = 20
_MAX_OFFSET_HOURS = 18


@ibis.udf.scalar.builtin(name="timezone")
def _timezone(zone: str, ts: dt.datetime) -> dt.datetime:  # type: ignore[empty-body]
    """DuckDB / PostgreSQL: naive ``ts`` read in ``zone`` (or an instant shown in it)."""


@ibis.udf.scalar.builtin(name="to_utc_timestamp")
def _to_utc_timestamp(ts: dt.datetime, zone: str) -> dt.datetime:  # type: ignore[empty-body]
    """Spark: the local time ``ts`` in ``zone`` as UTC."""


@ibis.udf.scalar.builtin(name="from_utc_timestamp")
def _from_utc_timestamp(ts: dt.datetime, zone: str) -> dt.datetime:  # type: ignore[empty-body]
    """Spark: the UTC time ``ts`` as local time in ``zone``."""


Convert = Callable[[ir.TimestampValue, ir.StringValue | str, str], ir.TimestampValue]


def _convert_sql(ts: ir.TimestampValue, zone: ir.StringValue | str, to: str) -> ir.TimestampValue:
    return _timezone(to, _timezone(zone, ts))


def _convert_spark(ts: ir.TimestampValue, zone: ir.StringValue | str, to: str) -> ir.TimestampValue:
    return _from_utc_timestamp(_to_utc_timestamp(ts, zone), to)


_CONVERTERS: dict[str, Convert] = {
    "duckdb": _convert_sql,
    "postgres": _convert_sql,
    "pyspark": _convert_spark,
}


@dataclass(frozen=True)
class Zones:
    """How a source's timestamps are read.

    Attributes
    ----------
    dataset
        The dataset's zone: naive values are in it and every kept timestamp is a naive
        time in it.
    convert
        ``convert(ts, from_zone, to_zone)`` per value in the engine, or ``None`` when the
        engine has no such function (see the module docstring).
    """

    dataset: str = "UTC"
    convert: Convert | None = None

    @classmethod
    def for_backend(cls, backend: str, dataset: str | None = None) -> Zones:
        return cls(dataset or "UTC", _CONVERTERS.get(backend))

    def from_utc(self, ts: ir.TimestampValue) -> ir.TimestampValue:
        """Naive UTC ``ts`` as a naive time in the dataset's zone."""
        if self.dataset == "UTC":
            return ts
        if self.convert is None:  # pragma: no cover - refused before any table is read
            raise AssertionError("no zone conversion on this engine")
        return self.convert(ts, "UTC", self.dataset)

    def convert_to_dataset(
        self, ts: ir.TimestampValue, zone: ir.StringValue | str
    ) -> ir.TimestampValue:
        """Naive local times ``ts`` in ``zone`` as naive times in the dataset's zone."""
        if isinstance(zone, str) and zone == self.dataset:
            return ts
        if self.convert is None:  # pragma: no cover - no branch is built without it
            raise AssertionError("no zone conversion on this engine")
        return self.convert(ts, zone, self.dataset)

    def localise(self, now: dt.datetime) -> dt.datetime:
        """Naive UTC ``now`` as a naive time in the dataset's zone."""
        if self.dataset == "UTC":
            return now
        aware = now.replace(tzinfo=dt.UTC).astimezone(zoneinfo.ZoneInfo(self.dataset))
        return aware.replace(tzinfo=None)


def split_stamps(t: ir.Table, columns: Iterable[str], clean: bool = False) -> ir.Table:
    """``t`` plus the parts of each text timestamp column in ``columns``.

    Per column ``c``: ``__at_c`` the local date-time as a naive timestamp, ``__zone_c`` the
    text after it (null for a naive value) and ``__offset_c`` its offset in minutes east
    of UTC (null unless the zone text is an offset). ``clean``: the text columns are
    already trimmed, blank as null (:func:`~shopbook.data.sources.transform.blank_null`).
    The parts are columns of their own
    — each computed once per row — because inside the ``CASE`` that reads them an
    engine recomputes every repeated part (a regular expression) per branch.

    A value that is exactly what the engine writes for the timestamp it casts to
    (``YYYY-MM-DD hh:mm:ss``, or with a ``T``, or ``YYYY-MM-DD``: :func:`_cast_whole`)
    is that timestamp, with no zone, without the regular expression the other values go
    through (the longest local date-time they start with): the expression matches all of
    such a text and leaves no zone. On 5 M order lines, reading ``2024-06-18 20:15:00``
    took 1.85 s through the expression and 0.35 s cast (one of the checks of an import).
    """
    columns = list(columns)
    if not columns:
        return t
    texts = {c: _TEXT + c for c in columns}
    if not clean:
        t = t.mutate(**{texts[c]: blank_null(t[c]) for c in columns}).view()

    def text(c: str) -> ir.StringValue:
        return t[c] if clean else t[texts[c]]

    t = t.mutate(**{_CAST + c: text(c).try_cast("timestamp") for c in columns}).view()
    t = t.mutate(**{_CAST + c: _cast_whole(text(c), t[_CAST + c]) for c in columns}).view()
    # one regular expression per value not cast whole
    t = t.mutate(
        **{
            _PREFIX + c: ibis.cases(
                (t[_CAST + c].isnull(), text(c).re_extract(_LOCAL_PREFIX, 0).nullif("")),
                else_=ibis.null("string"),
            )
            for c in columns
        }
    ).view()
    parts: dict[str, ir.Value] = {}
    for c in columns:
        local = t[_PREFIX + c]
        parts[_AT + c] = ibis.coalesce(t[_CAST + c], local.try_cast("timestamp"))
        parts[_ZONE + c] = text(c).substr(local.length()).strip().nullif("")
    working = [x + c for c in columns for x in (_CAST, _PREFIX)]
    t = t.mutate(**parts).drop(*working, *([] if clean else texts.values())).view()
    # the zone text is read five times by its offset
    return t.mutate(**{_OFFSET + c: _offset_minutes(t[_ZONE + c]) for c in columns})


def _cast_whole(text: ir.StringValue, cast: ir.TimestampValue) -> ir.TimestampValue:
    """``cast`` (``text`` cast to a timestamp) where ``text`` is exactly the engine's own
    text of it — ``YYYY-MM-DD hh:mm:ss``, with a ``T`` or a space, or ``YYYY-MM-DD`` —
    else null. Compared as text, not tested by a regular expression: the cast alone
    reads more (a missing digit, a ``Z``, a second space), which the expression reads
    differently."""
    back = cast.cast("string")
    same = (back == text) | (back == text.concat(" 00:00:00")) | (back == text.replace("T", " "))
    return ibis.cases((text.length().isin([10, 19]) & same, cast), else_=ibis.null("timestamp"))


def parse_stamps(
    t: ir.Table, column: str, zones: Zones, name: str | None = None, clean: bool = False
) -> tuple[ir.TimestampValue, ir.StringValue]:
    """Read text column ``column`` of ``t`` (parts from :func:`split_stamps`) as naive
    timestamps in the dataset's zone.

    Runs one small query: the zone names the values carry (see :func:`_zone_names`).
    ``name`` is the contract column named in reasons (default ``column``); ``clean``: the
    text is already trimmed, blank as null.

    Returns
    -------
    (typed, why)
        ``typed`` is null where the value is missing or cannot be read; ``why`` is the
        reject reason of a present value that cannot be read (``unparseable <column>`` or
        ``ambiguous time zone in <column>``), else null.
    """
    name = name or column
    at, zone, offset = t[_AT + column], t[_ZONE + column], t[_OFFSET + column]
    utc = one_of(zone.upper(), UTC_TEXT)
    branches = [
        (zone.isnull(), at),
        (utc, zones.from_utc(at)),
        (offset.notnull(), zones.from_utc(at - offset.as_interval("m"))),
    ]
    if zones.convert is not None:
        branches += _named_zone_branches(at, zone, _zone_names(t, zone, column), zones)
    typed = ibis.cases(*branches, else_=ibis.null("timestamp"))
    letters = zone.re_search(_LETTERS) & ~utc
    present = (t[column] if clean else blank_null(t[column])).notnull()
    why = ibis.cases(
        (typed.notnull() | ~present, ibis.null("string")),
        (letters, ambiguous_zone(name)),
        else_=unparseable(name),
    )
    return typed, why


def _zone_names(t: ir.Table, zone: ir.StringValue, column: str) -> list[str]:
    """The names of :data:`ZONE_NAMES` among the values' zone texts.

    One query over the column, so that each zone is converted as a constant: a zone that
    varies per row costs the engine a time-zone lookup per value (five times slower),
    and a long ``IN`` list of every zone name becomes a join over every row.
    """
    names = (
        # a name has a slash: a plain test of the text first (the engine pushes it below
        # the regular expressions that split the value), then the zone text is matched
        t.filter(t[column].contains("/"))
        .filter(zone.re_search(_NAME))
        .select(zone=zone)
        .distinct()
        .limit(len(ZONE_NAMES) + 1)
        .execute()["zone"]
    )
    return sorted(set(names) & ZONE_NAMES)


def _named_zone_branches(
    at: ir.TimestampValue, zone: ir.StringValue, names: list[str], zones: Zones
) -> list[tuple[ir.BooleanValue, ir.TimestampValue]]:
    """``(value names zone, its local time converted)`` for the zones the values name."""
    if len(names) > _MAX_CONSTANT_ZONES:  # unusual: convert per value
        return [(zone.isin(names), zones.convert_to_dataset(at, zone))]
    return [(zone == n, zones.convert_to_dataset(at, n)) for n in names]


def _offset_minutes(zone: ir.StringValue) -> ir.IntegerValue:
    """Signed minutes east of UTC of an offset (``+08:00``, ``+0800``, ``-05``), else null."""
    digits = zone.replace(":", "")
    hours = digits.substr(1, 2).try_cast("int64")
    minutes = ibis.coalesce(digits.substr(3, 2).nullif("").try_cast("int64"), 0)
    sign = ibis.cases((zone.startswith("-"), -1), else_=1)
    ok = zone.re_search(_OFFSET_TEXT) & (hours <= _MAX_OFFSET_HOURS) & (minutes <= 59)
    return ibis.cases((ok, sign * (hours * 60 + minutes)), else_=ibis.null("int64"))
