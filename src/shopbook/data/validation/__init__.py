"""Validate a source against the data contract — in the engine, losing nothing.

:func:`validate` reads every row of every contract table in a source and either keeps it,
typed as :mod:`shopbook.data.contract` declares, or rejects it with exactly one reason.
For every table ``read == kept + rejected``. The rules are compiled from the contract
into ibis expressions, so they run where the data lives (DuckDB by default, or Postgres,
Spark…): a ``reason`` column is built with casts, ``CASE`` expressions, window functions
and joins, the result is materialised once per table (``Table.cache()``, a temporary
table), and everything the report shows is counted from it with group-bys. No table is
pulled into pandas.

Reading values
--------------
Source columns that already have the contract type are used as they are. Others are
coerced, value by value; a value that is present but cannot be kept rejects its row:

* text → number: decimal text, surrounding blanks ignored (``" 12.50 "``); ``nan`` is
  ``unparseable <column>``. An ``int64`` column also rejects fractions (``"2.5"``). A
  number the type cannot hold — ≥ 2^63 or ``1e20`` for an ``int64``, ``inf`` or ``1e400``
  for a ``float64`` — is ``out of range <column>`` (also in typed columns: ``uint64``
  above 2^63 - 1, a float ±inf).
* text → timestamp / date: ISO 8601 — ``2024-01-02``, ``2024-01-02 10:00:00``,
  ``2024-01-02T10:00:00``, with optional fractional seconds — each value in its own zone
  (:mod:`~shopbook.data.validation.stamps`): no zone means the dataset's zone (the
  mapping's ``timezone``, default UTC); an offset (``…Z``, ``…+08:00``) or an IANA name
  (``… Asia/Shanghai``) is converted to it; an abbreviation (``CST``) is
  ``ambiguous time zone in <column>``. Time-zone aware columns are converted to naive
  times in the dataset's zone.
* text → bool: ``true/false``, ``1/0``, ``yes/no`` in any case; integers 1/0.
* any → string: blanks are trimmed and blank text counts as missing; values of a column
  with allowed values are matched case-insensitively (``"PAID"`` is kept as ``"paid"``).
  In id columns (``Column.identifier``) ``NULL``, ``N/A``, ``None``, ``-``, ``nan``…
  (:data:`MISSING_ID_TEXT`) are missing too: ``null <column>``, the text kept for
  :meth:`ValidationReport.rejects`.
* float → int64: whole numbers only. NaN in a float column means "missing".

Rule order
----------
A rejected row gets the reason of the **first** rule it fails, in this order
(:func:`rules` lists them for a table):

1. Column rules, column by column in contract order; for each column:

   a. ``unparseable <column>`` — present but not readable as the column's type;
      ``out of range <column>`` — a number the type cannot hold;
      ``ambiguous time zone in <column>`` — a zone abbreviation;
   b. ``null <column>`` — missing in a non-nullable column;
   c. bounds: ``non-positive <column>`` (``gt=0``), ``negative <column>`` (``ge=0``),
      ``<column> below <n>`` (other ``ge``), ``<column> not above <n>`` (other ``gt``);
   d. ``unknown <column>`` — not one of the allowed values;
   e. ``<column> in the future`` — later than ``now``.

2. Row rules (``Table.row_rules``), rules across the columns of one row, in contract
   order; for orders ``discount > gross`` (``discount_amount`` above ``gross_amount``)
   and ``net ≠ gross − discount``, each within one cent (``contract.MONEY_TOLERANCE``).
3. Group rules (``Table.unique_groups``), e.g. ``unit in two variants``: every row of an
   experiment × unit whose rows name more than one variant.
4. Duplicate keys (``Table.key_reason``, e.g. ``duplicate order_id``): of the rows with
   the same primary key the first is kept and later ones rejected. "First" is the order
   of the remaining contract columns, which is deterministic on every engine (for
   orders: the earliest ``order_ts``). Two lines of one SKU in an order are such
   duplicates; the reason names the mapping option that adds them up
   (``combine_lines: sum``).
5. Foreign keys (``Table.foreign_keys``), e.g. ``orphan order_item``: the key is not
   among the **kept** rows of the referenced table. Checked whenever the referenced table
   is in the source — even when it is empty or all its rows were rejected (a warning
   says so) — and skipped when it is not (``unknown customer_id`` needs a customers
   table). A null in a nullable reference passes.

Rules 2–5 only look at rows that passed the rules before them, so a duplicate of an
invalid row is not counted against the valid one.

Reported, not rejected
----------------------
Two checks reject nothing and add a warning (:mod:`~shopbook.data.validation.consistency`):

* a row rule that rejects more than half of a table: the columns are probably mapped
  wrong (a paid amount that includes shipping as ``net_amount``), and the warning says
  what to map;
* a total that disagrees with its lines (``Table.line_totals``): kept orders with kept
  lines whose ``gross_amount`` is not Σ quantity × unit_price within one cent are
  counted, with an example. Exports differ on what a total includes (shipping,
  item-level discounts) and a partial export of lines does not make an order wrong, so
  neither side is rejected.

Structural problems
-------------------
Problems no row-level reject can express raise :class:`~shopbook.errors.ContractError`,
with every problem found (one :class:`~shopbook.errors.Problem` each):

* a table in ``require`` that is missing, or empty;
* a required column that is missing;
* a column whose type cannot be converted at all (e.g. integers for a timestamp);
* a mapping ``timezone`` that is not an IANA zone name, or that the engine cannot use;
* an **uncoercible** column: more than half of its present values cannot be read. Such
  a column is the wrong column or in the wrong format, not a column with a few bad
  values; half or fewer are row rejects (``unparseable <column>``). Values out of range
  and zone abbreviations are in the right format: they are always row rejects;
* a ``one_value`` column (``orders.currency``) holding more than one value;
* with ``strict=True``: any rejected row (one problem per table and reason).

An empty table nobody required, an optional column that is absent, or a reference that
cannot be checked are :attr:`ValidationReport.warnings`.

Layout
------
``entry`` :func:`validate` · ``report`` :class:`ValidationReport`, :class:`TableHealth` ·
``coerce`` reading values · ``stamps`` timestamps and their zones · ``reasons`` the rules
and :func:`rules` · ``check`` one table checked and counted · ``consistency`` the checks
that only warn · ``_common`` shared constants and helpers.
"""

from shopbook.data.validation._common import (
    FALSE_TEXT,
    MISSING_ID_TEXT,
    TRUE_TEXT,
    UNCOERCIBLE_SHARE,
)
from shopbook.data.validation.entry import validate
from shopbook.data.validation.reasons import rules
from shopbook.data.validation.report import TableHealth, ValidationReport

__all__ = [
    "FALSE_TEXT",
    "MISSING_ID_TEXT",
    "TRUE_TEXT",
    "UNCOERCIBLE_SHARE",
    "TableHealth",
    "ValidationReport",
    "rules",
    "validate",
]
