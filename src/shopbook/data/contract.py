"""The data contract: the canonical tables, declared once (eight of the design, and the
optional ``promotions`` and ``offers`` of the loyalty notebook).

Every other part of Shopbook reads this module instead of repeating column names,
types or rules: :mod:`shopbook.data.validation` compiles the row rules into engine
(ibis) expressions, ``data/README.md`` documents it (a test keeps the two in step),
and the synthetic shop is checked against it.

The form is declarative: a :class:`Table` is a list of :class:`Column` objects plus
table-level rules (primary key, foreign keys, columns that hold one value per
dataset, groups that must be unique, rules across the columns of a row, totals checked
against another table). Nothing here executes a query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

DType = Literal["string", "int64", "float64", "bool", "timestamp", "date"]

#: ibis type names for each contract dtype.
IBIS_DTYPES: dict[str, str] = {
    "string": "string",
    "int64": "int64",
    "float64": "float64",
    "bool": "boolean",
    "timestamp": "timestamp",
    "date": "date",
}


@dataclass(frozen=True)
class Column:
    """One column of a contract table.

    Parameters
    ----------
    name
        Canonical column name.
    dtype
        Contract type: ``string``, ``int64``, ``float64``, ``bool``, ``timestamp`` or ``date``.
    nullable
        Whether a missing value is allowed. A null in a non-nullable column rejects the row.
    required
        Whether the column must be present in the source. An optional column that is
        absent is added as all-null.
    ge, gt
        Inclusive / strict lower bound for numbers; a row below it is rejected.
    allowed
        The only values a string column may take.
    not_future
        For timestamps and dates: a value later than the validation time is rejected.
    identifier
        For string columns holding ids (customers, orders, SKUs, visits…): text that
        exports write for "no value" (``NULL``, ``N/A``, ``None``, ``-``, ``nan``…) is a
        missing value, not an id.
    description
        One line for ``data/README.md``.
    note_absent
        For an optional column: whether validation warns when the source lacks it. Off
        for columns most sources do not have (a refund time is in few order exports).
    """

    name: str
    dtype: DType
    nullable: bool = False
    required: bool = True
    ge: float | None = None
    gt: float | None = None
    allowed: tuple[str, ...] | None = None
    not_future: bool = False
    identifier: bool = False
    description: str = ""
    note_absent: bool = True

    @property
    def rule(self) -> str:
        """The row rule in words, as documented in ``data/README.md``."""
        parts = []
        if self.identifier:
            parts.append("an id")
        if self.gt is not None:
            parts.append(f"> {self.gt:g}")
        if self.ge is not None:
            parts.append(f"≥ {self.ge:g}")
        if self.allowed:
            parts.append("one of " + ", ".join(f"'{a}'" for a in self.allowed))
        if self.not_future:
            parts.append("not in the future")
        return "; ".join(parts)


@dataclass(frozen=True)
class ForeignKey:
    """Rows whose ``columns`` are not found in ``ref_table.ref_columns`` are rejected.

    The check only runs when the referenced table is in the source.
    """

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    reason: str


#: Money amounts that should agree (net = gross − discount…) may differ by this much:
#: one cent (fen) of the dataset's currency, for amounts rounded on their own.
MONEY_TOLERANCE = 0.01
# Float noise of a difference of amounts (13.25 − 1.10 is not exactly 12.15).
_FLOAT_SLACK = 1e-6


def amounts_differ(a: Any, b: Any) -> Any:
    """Whether amounts ``a`` and ``b`` differ by more than :data:`MONEY_TOLERANCE`."""
    return (a - b).abs() > MONEY_TOLERANCE + _FLOAT_SLACK


def amount_exceeds(a: Any, b: Any) -> Any:
    """Whether amount ``a`` is above amount ``b`` by more than :data:`MONEY_TOLERANCE`."""
    return a > b + (MONEY_TOLERANCE + _FLOAT_SLACK)


@dataclass(frozen=True)
class RowRule:
    """A rule across the columns of one row: a row for which ``test`` holds is rejected.

    Checked after the column rules, on the rows that passed them; a row with a null in
    one of ``columns`` (a nullable column) passes, and a rule on a column absent from
    the source is not checked.

    Parameters
    ----------
    reason
        The reject reason, e.g. ``net ≠ gross − discount``.
    columns
        The columns ``test`` takes, in this order; the first is the column the rule is
        about (named in strict-mode problems).
    test
        ``test(*values)`` is true for a bad row. It uses only arithmetic, comparisons and
        ``abs()``, so it is an expression in any engine (ibis) and works on pandas too.
    rule
        The rule in words, for ``data/README.md``.
    fix
        What to check when most rows fail it (usually the mapping).
    """

    reason: str
    columns: tuple[str, ...]
    test: Callable[..., Any]
    rule: str
    fix: str = ""


@dataclass(frozen=True)
class LineTotal:
    """A cross-table check that is **reported, not enforced**: ``column`` of each row
    should equal the sum of ``quantity × price`` over its lines in ``lines_table``
    (joined on ``key``), within :data:`MONEY_TOLERANCE`.

    Validation counts the kept rows that have kept lines and whose total differs, and
    says so in a warning; no row is rejected. Exports differ on what a total includes
    (shipping, item-level discounts, gift lines at zero), and a partial export of lines
    does not make the order wrong — nor says which side is.
    """

    column: str
    lines_table: str
    key: tuple[str, ...]
    quantity: str
    price: str

    @property
    def rule(self) -> str:
        return (
            f"`{self.column}` = Σ {self.quantity} × {self.price} of its "
            f"{self.lines_table} (within {MONEY_TOLERANCE:g})"
        )


@dataclass(frozen=True)
class Table:
    """A contract table.

    Parameters
    ----------
    name
        Table name; also the file name in a Parquet/CSV folder.
    columns
        The columns, in canonical order.
    primary_key
        Columns that identify a row; later duplicates are rejected (``duplicate <key>``).
    foreign_keys
        References to other tables (see :class:`ForeignKey`).
    one_value
        Columns that must hold a single value across the whole table (e.g. currency);
        more than one is a structural error.
    unique_groups
        ``(columns, reason)``: the ``columns`` must determine the rest of the primary
        key. All rows of a group whose rows disagree on it are rejected with ``reason``
        (e.g. a unit in two variants of one experiment: every row of that unit). Rows
        that agree are plain duplicates of the key (see ``duplicate_reason``).
    description
        One line for ``data/README.md``.
    duplicate_reason
        Reason given to a later duplicate of the primary key; default
        ``duplicate <key columns>`` (see :attr:`key_reason`).
    row_rules
        Rules across the columns of one row (see :class:`RowRule`), in the order they
        are applied.
    line_totals
        Totals checked against the kept lines of another table and reported, not
        enforced (see :class:`LineTotal`).
    """

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    one_value: tuple[str, ...] = ()
    unique_groups: tuple[tuple[tuple[str, ...], str], ...] = ()
    description: str = ""
    duplicate_reason: str = ""
    row_rules: tuple[RowRule, ...] = ()
    line_totals: tuple[LineTotal, ...] = ()
    _by_name: dict[str, Column] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})

    def __getitem__(self, name: str) -> Column:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def usual_column_names(self) -> list[str]:
        """The columns a full source has: all but the optional ones most sources lack
        (``note_absent=False``, e.g. ``orders.refund_ts``)."""
        return [c.name for c in self.columns if c.required or c.note_absent]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def key_reason(self) -> str:
        """Reject reason for a later duplicate of the primary key.

        ``duplicate_reason`` when declared, else ``duplicate <key>`` with the key
        columns joined by `` × `` (e.g. ``duplicate order_id``, ``duplicate date × sku``).
        """
        return self.duplicate_reason or "duplicate " + " × ".join(self.primary_key)

    def ibis_schema(self):
        """The table's ibis schema (all columns nullable at the type level)."""
        import ibis

        return ibis.schema({c.name: IBIS_DTYPES[c.dtype] for c in self.columns})


def _id(name: str, description: str, nullable: bool = False) -> Column:
    return Column(name, "string", nullable=nullable, identifier=True, description=description)


def _money(name: str, description: str, nullable: bool = False) -> Column:
    return Column(name, "float64", nullable=nullable, ge=0, description=description)


ORDER_STATUSES = ("paid", "refunded", "cancelled")

ORDERS = Table(
    "orders",
    (
        _id("order_id", description="order identifier, unique"),
        _id("customer_id", description="who bought"),
        Column("order_ts", "timestamp", not_future=True, description="when the order was placed"),
        Column(
            "channel", "string", description="sales channel (tmall, jd, douyin, wechat, site, web…)"
        ),
        Column("status", "string", allowed=ORDER_STATUSES, description="order status"),
        _money("gross_amount", "order value at paid unit prices before order-level discounts"),
        _money("discount_amount", "order-level discounts (coupons, thresholds)"),
        _money("net_amount", "what the customer paid: gross − discount"),
        Column("currency", "string", description="ISO currency code; one per dataset"),
        Column(
            "refund_ts",
            "timestamp",
            nullable=True,
            required=False,
            not_future=True,
            note_absent=False,
            description="when the order was refunded (refunded orders, where the export says)",
        ),
    ),
    primary_key=("order_id",),
    foreign_keys=(
        ForeignKey(("customer_id",), "customers", ("customer_id",), "unknown customer_id"),
    ),
    one_value=("currency",),
    row_rules=(
        # Before net: a discount above the gross makes gross − discount negative, so every
        # such row would also fail the net rule; this reason says what is wrong.
        RowRule(
            "discount > gross",
            ("discount_amount", "gross_amount"),
            amount_exceeds,
            f"`discount_amount` ≤ `gross_amount` (within {MONEY_TOLERANCE:g})",
            "map to discount_amount the order-level discounts only and to gross_amount "
            "the order value before them",
        ),
        RowRule(
            "net ≠ gross − discount",
            ("net_amount", "gross_amount", "discount_amount"),
            lambda net, gross, discount: amounts_differ(net, gross - discount),
            f"`net_amount` = `gross_amount` − `discount_amount` (within {MONEY_TOLERANCE:g})",
            "map to net_amount what the customer paid for the goods (without shipping "
            "or tax added on top), to gross_amount the value before order-level discounts "
            "and to discount_amount those discounts",
        ),
        RowRule(
            "refund before order",
            ("refund_ts", "order_ts"),
            lambda refund, placed: refund < placed,
            "`refund_ts` ≥ `order_ts`",
            "map to refund_ts the time the refund was made, and to order_ts the time the "
            "order was placed, both in the same time zone",
        ),
    ),
    line_totals=(
        LineTotal("gross_amount", "order_items", ("order_id",), "quantity", "unit_price"),
    ),
    description="one row per order",
)

ORDER_ITEMS = Table(
    "order_items",
    (
        _id("order_id", description="the order this line belongs to"),
        _id("sku", description="product stock-keeping unit"),
        Column("quantity", "int64", gt=0, description="units on the line"),
        _money("unit_price", "paid price per unit"),
        _money("list_price", "list (tag) price per unit"),
        _money("unit_cost", "cost per unit", nullable=True),
    ),
    primary_key=("order_id", "sku"),
    foreign_keys=(ForeignKey(("order_id",), "orders", ("order_id",), "orphan order_item"),),
    # Two lines of one SKU in one order (exports list a unit added later as a new line):
    # the mapping can add them up (issue 15).
    duplicate_reason="duplicate order_item (map combine_lines: sum to add them up)",
    description="one row per order line (order × SKU)",
)

PRODUCTS = Table(
    "products",
    (
        _id("sku", description="product stock-keeping unit, unique"),
        Column("name", "string", description="display name"),
        Column("category", "string", description="product category"),
        Column("brand", "string", nullable=True, required=False, description="brand"),
        Column(
            "launch_date", "date", nullable=True, required=False, description="first day on sale"
        ),
        Column(
            "lead_time_days",
            "int64",
            nullable=True,
            required=False,
            ge=0,
            description="replenishment lead time in days",
        ),
    ),
    primary_key=("sku",),
    description="one row per SKU",
)

CUSTOMERS = Table(
    "customers",
    (
        _id("customer_id", description="customer identifier, unique"),
        Column(
            "signup_ts",
            "timestamp",
            nullable=True,
            required=False,
            not_future=True,
            description="registration time",
        ),
        Column(
            "acquisition_channel",
            "string",
            nullable=True,
            required=False,
            description="channel of first contact",
        ),
        Column("region", "string", nullable=True, required=False, description="region or province"),
        Column("member_tier", "string", nullable=True, required=False, description="loyalty tier"),
    ),
    primary_key=("customer_id",),
    description="one row per customer",
)

SESSIONS = Table(
    "sessions",
    (
        _id("session_id", description="visit identifier, unique"),
        _id("visitor_id", description="device/cookie identifier"),
        _id("customer_id", nullable=True, description="logged-in customer, if known"),
        Column("session_ts", "timestamp", not_future=True, description="visit start"),
        Column("channel", "string", description="traffic channel"),
        Column("device", "string", description="mobile, desktop, app…"),
        Column("pageviews", "int64", ge=1, description="pages viewed"),
        Column("product_views", "int64", ge=0, description="product detail pages viewed"),
        Column("added_to_cart", "bool", description="added anything to the cart"),
        Column("reached_checkout", "bool", description="reached the checkout"),
        _id("order_id", nullable=True, description="order placed in the visit, if any"),
    ),
    primary_key=("session_id",),
    description="one row per visit (the funnel)",
)

ASSIGNMENTS = Table(
    "assignments",
    (
        _id("experiment_id", description="experiment name"),
        _id("unit_id", description="randomisation unit (visitor or customer id)"),
        Column("variant", "string", description="arm, e.g. control / treatment"),
        Column("assigned_ts", "timestamp", not_future=True, description="first exposure"),
    ),
    primary_key=("experiment_id", "unit_id", "variant"),
    unique_groups=((("experiment_id", "unit_id"), "unit in two variants"),),
    duplicate_reason="duplicate assignment",
    description="one row per experiment × unit",
)

INVENTORY = Table(
    "inventory",
    (
        Column("date", "date", not_future=True, description="snapshot day"),
        _id("sku", description="product stock-keeping unit"),
        Column("on_hand", "int64", ge=0, description="units in stock at end of day"),
        Column(
            "on_order",
            "int64",
            nullable=True,
            required=False,
            ge=0,
            description="units ordered, not yet received",
        ),
    ),
    primary_key=("date", "sku"),
    description="one row per SKU per day",
)

MARKETING_SPEND = Table(
    "marketing_spend",
    (
        Column("date", "date", not_future=True, description="day"),
        Column("channel", "string", description="marketing channel"),
        _money("spend", "spend in the dataset currency"),
        Column(
            "impressions",
            "int64",
            nullable=True,
            required=False,
            ge=0,
            description="ad impressions",
        ),
        Column("clicks", "int64", nullable=True, required=False, ge=0, description="ad clicks"),
    ),
    primary_key=("date", "channel"),
    description="one row per channel per day",
)

PROMOTIONS = Table(
    "promotions",
    (
        _id("promotion_id", description="promotion identifier, unique (one row per ladder step)"),
        Column(
            "type",
            "string",
            description="mechanic: ladder (满X减Y), coupon, gift, presale, member_day, …",
        ),
        _money(
            "threshold",
            "gross basket value the discount needs (满X: X); null for none",
            nullable=True,
        ),
        _money("discount", "amount off when the threshold is reached (减Y: Y)", nullable=True),
        Column("start", "date", description="first day the promotion runs"),
        Column("end", "date", description="last day the promotion runs (inclusive)"),
    ),
    primary_key=("promotion_id",),
    row_rules=(
        RowRule(
            "promotion ends before it starts",
            ("end", "start"),
            lambda end, start: end < start,
            "`end` ≥ `start`",
            "map to start the first day and to end the last day of the promotion",
        ),
    ),
    description="one row per promotion (optional; the loyalty notebook's ladder and coupons)",
)

OFFERS = Table(
    "offers",
    (
        _id("customer_id", description="who was offered (or held out)"),
        _id("promotion_id", description="the promotion or coupon offered"),
        Column(
            "sent_ts",
            "timestamp",
            not_future=True,
            description="when the offer was sent (control rows: when it would have been)",
        ),
        Column(
            "variant",
            "string",
            nullable=True,
            required=False,
            allowed=("treatment", "control"),
            description="treatment: sent; control: held out at random, not sent "
            "(absent: every row was sent)",
        ),
    ),
    primary_key=("customer_id", "promotion_id"),
    foreign_keys=(
        ForeignKey(("customer_id",), "customers", ("customer_id",), "unknown customer_id"),
        ForeignKey(("promotion_id",), "promotions", ("promotion_id",), "unknown promotion_id"),
    ),
    duplicate_reason="duplicate offer",
    description="one row per customer × promotion offered (optional; CRM send logs)",
)

#: All contract tables by name, in dependency order (referenced tables first).
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        CUSTOMERS,
        ORDERS,
        ORDER_ITEMS,
        PRODUCTS,
        SESSIONS,
        ASSIGNMENTS,
        INVENTORY,
        MARKETING_SPEND,
        PROMOTIONS,
        OFFERS,
    )
}


def table(name: str, fix: str = "use a contract table name (see data/README.md)") -> Table:
    """Return the contract of table ``name``.

    Parameters
    ----------
    name
        A contract table name.
    fix
        The advice the error gives, for callers that know where the name came from.

    Raises
    ------
    ContractError
        When ``name`` is not a contract table.
    """
    from shopbook.errors import ContractError

    try:
        return TABLES[name]
    except (KeyError, TypeError):
        raise ContractError(
            table=str(name),
            expected="a contract table name (" + ", ".join(TABLES) + ")",
            found=repr(name),
            fix=fix,
        ) from None


def to_markdown() -> str:
    """The contract as Markdown tables, the generated part of ``data/README.md``.

    Regenerate the README section with ``make contract-docs``.
    """
    lines: list[str] = []
    for t in TABLES.values():
        lines.append(f"### `{t.name}` — {t.description}")
        lines.append("")
        lines.append("| column | type | null | required | rule | meaning |")
        lines.append("|---|---|---|---|---|---|")
        for c in t.columns:
            lines.append(
                f"| `{c.name}` | {c.dtype} | {'yes' if c.nullable else 'no'} | "
                f"{'yes' if c.required else 'no'} | {c.rule} | {c.description} |"
            )
        lines.append("")
        for rr in t.row_rules:  # in the order they apply: before the key
            lines.append(f"* {rr.rule} — else `{rr.reason}`")
        if t.primary_key:
            lines.append(
                f"* key: ({', '.join(t.primary_key)}) — the first row is kept, later ones are "
                f"rejected: `{t.key_reason}`"
            )
        for fk in t.foreign_keys:
            lines.append(
                f"* ({', '.join(fk.columns)}) must exist in {fk.ref_table}"
                f"({', '.join(fk.ref_columns)}) when that table is present — else `{fk.reason}`"
            )
        for col in t.one_value:
            lines.append(f"* `{col}` holds one value for the whole table (else a structural error)")
        for cols, reason in t.unique_groups:
            others = ", ".join(c for c in t.primary_key if c not in cols) or "row"
            lines.append(
                f"* one {others} per ({', '.join(cols)}) — else every row of that group is "
                f"rejected: `{reason}`"
            )
        for lt in t.line_totals:
            lines.append(
                f"* {lt.rule} for rows with kept {lt.lines_table} — reported in a warning, "
                "not rejected (exports differ on what a total includes, e.g. shipping)"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


BEGIN_MARK = (
    "<!-- contract:begin (generated from src/shopbook/data/contract.py by "
    "`make contract-docs`; do not edit) -->"
)
END_MARK = "<!-- contract:end -->"


def update_readme(path: str = "data/README.md") -> None:
    """Rewrite the generated contract section of ``data/README.md`` in place."""
    from pathlib import Path

    p = Path(path)
    text = p.read_text()
    head, rest = text.split(BEGIN_MARK, 1)
    _, tail = rest.split(END_MARK, 1)
    p.write_text(head + BEGIN_MARK + "\n\n" + to_markdown() + "\n" + END_MARK + tail)
