"""A mapping applied to one table in the engine: fill-down, derived columns, value maps,
constants, date formats and combined lines, all as ibis expressions (no row loops).

Order of the steps (``data/README.md`` documents them): rename (``columns``) → fill down
the mapped columns → ``derive`` (in the order written; each derived column can be used by
the next) → fill down the derived columns → ``constants`` (fill blank or absent columns)
→ ``values`` (a present value not in the map marks the row ``unmapped <column> value``) →
``formats`` → ``combine_lines``.

Derived columns are parsed with :mod:`ast` into ibis expressions — never ``eval``: only
the calls of :data:`FUNCTIONS`, names, ``+ - * /`` and literals are accepted.

The text of every source column is trimmed once, first (blank → null), and each step
reads the previous one's columns through a subquery (``Table.view()``): every function
of the language then reads clean text and writes clean text, and no expression is
written out again inside the next (a ``money()`` of a trimmed value of a ``coalesce()``
once made 260 kB of SQL for a file of 27 lines).
"""

from __future__ import annotations

import ast
import string
from collections.abc import Iterable, Mapping
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir

from shopbook.data.contract import TABLES
from shopbook.data.sources.language import nearest
from shopbook.data.sources.mapping import rename
from shopbook.errors import ContractError

#: The column a file source numbers its rows with (file order), for fill-down.
ROW = "__row"
#: The column naming the first column whose value is not in its value map, and its text.
UNMAPPED = "__unmapped"
UNMAPPED_VALUE = "__unmapped_value"
FUNCTIONS = ("col", "money", "number", "text", "datetime", "lines", "coalesce")
_MONEY_JUNK = r"[^0-9.eE+\-]"
#: Junk of most amounts (thousands separators, yuan signs), removed without a regexp.
_MONEY_COMMON = (",", "¥", "￥")


@ibis.udf.scalar.builtin(name="try_strptime")
def _try_strptime(value: str, fmt: str) -> dt.timestamp:
    """DuckDB's ``try_strptime``: NULL where the text does not fit the format."""


def one_of(x: ir.Value, values: Iterable[Any]) -> ir.BooleanValue:
    """``x`` equals one of ``values`` (null for a null ``x``), as ``x = a OR x = b …``.

    Written out rather than ``x.isin(values)``: inside a ``CASE`` DuckDB plans an ``IN``
    list of more than a few values as a join per use (four times slower on a million
    rows); the equalities mean the same on every engine.
    """
    tests = [x == ibis.literal(v) for v in values]
    return ibis.or_(*tests) if tests else ibis.literal(False)


def strip(x: ir.StringValue) -> ir.StringValue:
    """``x.strip()``, trimmed only where ``x`` starts or ends with white space.

    Means the same (ibis trims :data:`string.whitespace`, or less, on every engine: all of
    it code points up to 32, so a value whose first character is above 32 and whose last
    is none of :data:`string.whitespace` has nothing to trim) and is faster on DuckDB,
    whose ``trim`` with a set of characters is slow and is run on every text value of
    every table. The first character is tested by its code point (``ascii()``), the last
    by ``ends_with`` per white-space character: byte comparisons, where ``right(x, 1)``
    walks the UTF-8 text (5 M lines × 4 columns of Chinese text: 0.29 s for the tests
    against 0.73 s with ``ascii(right(x, 1))``, which this used, and more for a plain
    ``trim`` on every value).
    """
    edge = x.ascii_str() <= 32
    for space in string.whitespace:
        edge |= x.endswith(space)
    return ibis.cases((edge, x.strip()), else_=x)


def blank_null(x: ir.Value) -> ir.Value:
    """Text trimmed, blank text as null; other types unchanged."""
    if x.type().is_string():
        return strip(x).nullif("")
    return x


def _text(x: ir.Value) -> ir.StringValue:
    """``x`` as clean text (trimmed, blank as null).

    Inside :func:`apply` every text value already is (the source columns are trimmed
    first, and each function's result is clean): only other types are cast, which
    cannot give blanks.
    """
    return x if x.type().is_string() else x.cast("string")


def _money(x: ir.Value) -> ir.StringValue:
    """``"¥1,299.00"``, ``"1,299.00元"``, ``"$12.50"`` → ``"1299.00"``; text with no number
    in it stays as it is (validation then rejects it as unparseable)."""
    if x.type().is_numeric():
        return x.cast("string")
    text = _text(x)
    # The common junk removed with plain replaces, the regular expression only for text
    # that still holds some (removing characters commutes: the result is the same, at a
    # third of the cost on DuckDB, where this runs on every amount of every row).
    quick = text
    for junk in _MONEY_COMMON:
        quick = quick.replace(junk, "")
    cleaned = ibis.cases(
        (quick.re_search(_MONEY_JUNK), text.re_replace(_MONEY_JUNK, "")), else_=quick
    )
    return ibis.cases((cleaned.try_cast("float64").notnull(), cleaned), else_=text)


def _num(x: ir.Value) -> ir.NumericValue:
    if x.type().is_numeric():
        return x.cast("float64")
    return _money(x).try_cast("float64")


def _stamp_text(text: ir.StringValue, formats: list[str]) -> ir.StringValue:
    """Text in one of ``formats`` as ISO text; other text unchanged (so that validation
    rejects it as unparseable rather than losing it)."""
    parsed = ibis.coalesce(*[_try_strptime(text, f) for f in formats]) if formats else None
    if parsed is None:
        return text
    iso = parsed.strftime("%Y-%m-%d %H:%M:%S")
    return ibis.coalesce(iso, text)


class _Scope:
    """Names an expression may use: contract columns so far, source columns, and the
    contract columns other tables map from this file."""

    def __init__(
        self,
        t: ir.Table,
        names: dict[str, str],
        tname: str,
        siblings: Mapping[str, str],
        origin: str,
    ) -> None:
        self.t, self.names, self.tname, self.siblings, self.origin = (
            t,
            names,
            tname,
            siblings,
            origin,
        )
        self.key = TABLES[tname].primary_key[0]
        #: Derived columns holding a ``money()``/``number()`` result (clean number text,
        #: or text with no number in it): arithmetic reads them with a plain cast.
        self.numbers: set[str] = set()

    def source(self, name: str, where: str) -> ir.Value:
        if name in self.names:
            return self.t[self.names[name]]
        choices = [n for n in self.names if not n.startswith("__")]
        raise ContractError(
            table=self.tname,
            column=where,
            expected=f"a column {name!r} in the source, as {self.origin} says",
            found="no such column"
            + nearest(name, choices)
            + "; the file has "
            + ", ".join(choices[:15]),
            fix=f"correct the column name in {self.tname}.derive.{where} (or {self.tname}.columns)",
        )

    def name(self, name: str, where: str) -> ir.Value:
        if name in TABLES[self.tname] and name in self.t.columns:
            return self.t[name]
        if name in self.names:
            return self.t[self.names[name]]
        other = self.siblings.get(name)
        if other is not None and other.startswith("="):
            inner = _Scope(self.t, self.names, self.tname, {}, self.origin)
            return _compile(parse(other[1:], self.tname, where, self.origin), inner, where)
        if other is not None and other in self.names:
            return self.t[self.names[other]]
        choices = [
            *[c for c in self.t.columns if c in TABLES[self.tname]],
            *[n for n in self.names if not n.startswith("__")],
            *self.siblings,
        ]
        raise ContractError(
            table=self.tname,
            column=where,
            expected=f"a contract column mapped so far or a source column for {name!r} "
            f"(in {self.tname}.derive.{where} of {self.origin})",
            found="no such column" + nearest(name, choices),
            fix='use col("<source column>") for a source column, or map it first',
        )


def _compile(node: ast.AST, scope: _Scope, where: str) -> Any:
    """One node of a derive expression as an ibis expression (or a Python literal)."""
    if isinstance(node, ast.Expression):
        return _compile(node.body, scope, where)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
        return node.value
    if isinstance(node, ast.Name):
        return scope.name(node.id, where)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_as_num(_compile(node.operand, scope, where), scope)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        a = _as_num(_compile(node.left, scope, where), scope)
        b = _as_num(_compile(node.right, scope, where), scope)
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            return a * b
        return a / (b.nullif(0) if isinstance(b, ir.Value) else (b or None))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        return _call(node.func.id, node.args, scope, where)
    raise _bad(scope, where, ast.unparse(node))


def _as_num(x: Any, scope: _Scope | None = None) -> Any:
    if isinstance(x, ir.Value):
        if scope is not None and _is_number_text(x, scope):
            # money() of its text is that text (money() is idempotent): cast it only
            return x.try_cast("float64")
        return _num(x)
    if isinstance(x, str):
        try:
            return float(x)
        except ValueError:
            return ibis.null("float64")
    return x


def _is_number_text(x: ir.Value, scope: _Scope) -> bool:
    """``x`` is a column of the scope's table that holds a ``money()`` result."""
    op = x.op()
    return (
        isinstance(op, ops.Field)
        and op.name in scope.numbers
        and op.rel == scope.t.op()
        and x.type().is_string()
    )


def _numeric_result(tree: ast.AST, scope: _Scope) -> bool:
    """The expression gives a ``money()``/``number()`` result: such a call, or the name of
    a column that holds one."""
    node = tree.body if isinstance(tree, ast.Expression) else tree
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id in ("money", "number") and len(node.args) == 1
    return isinstance(node, ast.Name) and node.id in scope.numbers


def _as_value(x: Any) -> ir.Value:
    """An ibis value; a text literal trimmed (blank as null) like every text value."""
    if isinstance(x, ir.Value):
        return x
    if isinstance(x, str):
        text = x.strip()
        return ibis.literal(text, type="string") if text else ibis.null("string")
    return ibis.literal(x)


def _call(fn: str, args: list[ast.expr], scope: _Scope, where: str) -> Any:
    if fn == "col":
        if len(args) != 1 or not (
            isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)
        ):
            raise _bad(scope, where, 'col() takes one quoted column name, e.g. col("付款时间")')
        return scope.source(args[0].value, where)
    if fn == "coalesce" and args:
        # the first of the columns the file has: one mapping for two exports' headers
        found, errors = [], []
        for a in args:
            try:
                found.append(_compile(a, scope, where))
            except ContractError as exc:
                errors.append(exc)
        if not found:
            raise errors[0]
        return ibis.coalesce(*[_as_value(v) for v in found])
    values = [_compile(a, scope, where) for a in args]
    if fn in ("money", "number", "text") and len(values) == 1:
        v = _as_value(values[0])
        return _text(v) if fn == "text" else _money(v)
    if fn == "lines" and len(values) == 1:
        key = scope.name(scope.key, where)
        return _as_num(values[0]).sum().over(group_by=key)
    if fn == "datetime" and len(values) in (1, 2):
        first = _text(_as_value(values[0]))
        if len(values) == 2 and isinstance(values[1], str) and "%" in values[1]:
            return _stamp_text(first, [values[1]])
        if len(values) == 1:
            return first
        second = _text(_as_value(values[1]))
        both = first.concat(" ", second)
        return ibis.cases((second.isnull(), first), else_=both)
    if fn not in FUNCTIONS:
        raise _bad(scope, where, f"{fn}(){nearest(fn, FUNCTIONS)}")
    raise _bad(scope, where, f"{fn}() with {len(values)} argument(s)")


def _bad(scope: _Scope, where: str, what: str) -> ContractError:
    return ContractError(
        table=scope.tname,
        column=where,
        expected=f"an expression of {', '.join(f + '()' for f in FUNCTIONS)}, column names, "
        f"+ - * / and literals in {scope.tname}.derive.{where} of {scope.origin}",
        found=what,
        fix='write e.g. `net_amount: money(col("实付金额"))` or `discount_amount: '
        "gross_amount - net_amount`",
    )


def parse(text: str, tname: str, where: str, origin: str) -> ast.Expression:
    """A derive expression parsed (syntax only); a syntax error is a one-line error."""
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ContractError(
            table=tname,
            column=where,
            expected=f"a valid expression in {tname}.derive.{where} of {origin}",
            found=f"{text!r} ({exc.msg})",
            fix='quote source columns as col("name"); write e.g. money(col("实付金额"))',
        ) from None


def _source_names(tree: ast.AST) -> list[str]:
    """The source columns an expression reads outside ``lines()`` (``col("x")`` and bare
    names; names that are not source columns are ignored by the caller)."""
    return [name for kind, name in _references(tree, into_lines=False) if kind != "lines"]


def siblings(
    specs: Mapping[str, Mapping[str, Any]], name: str, columns: list[str]
) -> dict[str, str]:
    """``{contract column: source column, or "=" + its derive expression}`` that the
    mappings ``specs`` of the other tables read from the same source table as ``name``
    (whose columns are ``columns``) give: names a derive of ``name`` may use."""
    out: dict[str, str] = {}
    for other, spec in specs.items():
        if other == name:
            continue
        for src, dst in (spec.get("columns") or {}).items():
            if src in columns:
                out.setdefault(dst, src)
        for dst, text in (spec.get("derive") or {}).items():
            out.setdefault(dst, "=" + text)
    return out


def _references(tree: ast.AST, into_lines: bool = True) -> list[tuple[str, str]]:
    """The names an expression reads: ``("col", x)`` for ``col("x")``, ``("name", x)`` for
    a bare name (not a function's), ``("lines", "")`` for a ``lines()``, whose names are
    included only ``into_lines``."""
    found: list[tuple[str, str]] = []

    def walk(node: ast.AST) -> None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "lines":
                found.append(("lines", ""))
                if not into_lines:
                    return
            if node.func.id == "col" and node.args and isinstance(node.args[0], ast.Constant):
                found.append(("col", str(node.args[0].value)))
                return
            for child in [*node.args, *node.keywords]:
                walk(child)
            return
        if isinstance(node, ast.Name):
            found.append(("name", node.id))
        for child in ast.iter_child_nodes(node):
            walk(child)

    walk(tree)
    return found


def read_columns(
    spec: Mapping[str, Any],
    tname: str,
    header: list[str],
    siblings: Mapping[str, str] | None = None,
    origin: str = "the column mapping",
) -> tuple[list[str], bool] | None:
    """The columns of ``header`` that :func:`apply` of ``spec`` reads, in header order,
    and whether each mapped row is made from its own row alone (no ``fill_down``, no
    ``lines()``: then mapping the distinct rows of those columns gives the same distinct
    rows as mapping every row).

    A superset is safe; ``None`` when a column the mapping names is not in the header
    (:func:`apply` then says so, naming the nearest of all the header's columns).

    Parameters
    ----------
    spec, tname, siblings, origin
        As :func:`apply`.
    header
        The source table's columns.
    """
    have = set(header)
    contract = {c.lower() for c in TABLES[tname].column_names}
    named = set(spec.get("columns") or {})
    if not named <= have:
        return None
    lowered = {c.strip().lower() for c in header}
    # header columns a contract column's name matches in any case (mapping.rename)
    wanted = named | {c for c in header if c.strip().lower() in contract}
    row_wise = not spec.get("fill_down")
    derive = dict(spec.get("derive") or {})
    siblings = siblings or {}
    # names a derive may read that are no source column: contract columns made so far
    made = {*derive, *(spec.get("columns") or {}).values(), *(spec.get("constants") or {})}
    made |= {c for c in TABLES[tname].column_names if c.lower() in lowered}
    todo = list(derive.items())
    seen: set[str] = set()
    while todo:
        target, text = todo.pop()
        for kind, name in _references(parse(text, tname, target, origin)):
            if kind == "lines":
                row_wise = False
            elif name in have:
                wanted.add(name)
            elif name in siblings:
                if name not in seen:
                    seen.add(name)
                    other = siblings[name]
                    if other.startswith("="):
                        todo.append((target, other[1:]))
                    elif other in have:
                        wanted.add(other)
            elif kind == "col" or name not in made:
                return None  # apply() names the nearest of every column
    return [c for c in header if c in wanted], row_wise


def _fill_down(t: ir.Table, cols: list[str], key: str) -> ir.Table:
    """Blank values take the last value above them: the key column over the whole file,
    other columns within their order (partitioned by the key)."""
    if ROW not in t.columns:
        raise ContractError(
            table="(mapping)",
            expected="a CSV or Parquet file source (rows in file order) for `fill_down`",
            found="a source without file order",
            fix="remove fill_down, or read the data from its exported files",
        )
    for group in ([c for c in cols if c == key], [c for c in cols if c != key]):
        group = [c for c in group if c in t.columns]
        if not group:
            continue
        part = [t[key]] if key in t.columns and key not in group else []
        counts = {}
        for c in group:
            w = ibis.window(group_by=part, order_by=t[ROW], preceding=None, following=0)
            counts[f"__n_{c}"] = t[c].count().over(w)  # the text is clean: blank is null
        t = t.mutate(**counts)
        part = [t[key]] if part else []
        filled = {}
        for c in group:
            w = ibis.window(group_by=[*part, t[f"__n_{c}"]], order_by=t[ROW])
            filled[c] = t[c].first().over(w)
        t = t.mutate(**filled).drop(*counts)
    return t


def _combine(t: ir.Table, present: list[str], repeats: list[ir.Table] | None = None) -> ir.Table:
    """Repeated (order_id, sku) lines as one: quantities summed, prices weighted by them.

    A group with an unreadable quantity is left as it is (validation rejects its lines);
    its key is appended to ``repeats`` when given (:func:`apply`).
    """
    keep = [*present, *([ROW] if ROW in t.columns else []), UNMAPPED, UNMAPPED_VALUE]
    # only the columns kept: the source's other columns made the steps below spill to
    # disk at 5 M lines
    t = t.select(*keep)
    t = t.mutate(**{c: _text(t[c]) for c in present})
    # once: the counts and the semi- and anti-joins below read these rows, and would
    # otherwise each map the source again
    t = t.cache()
    # the repeated (order_id, sku) keys, and whether their quantities all read as numbers,
    # by a GROUP BY and a join against those few keys: a window over every line (as this
    # was) sorted all of them with all their columns, and spilled to disk at 5 M lines
    named = t.filter(t.order_id.notnull() & t.sku.notnull())
    counts = named.group_by(["order_id", "sku"]).aggregate(
        __n=named.order_id.count(), __nq=_num(named.quantity).count()
    )
    # materialised (a few keys): each join below would otherwise aggregate every line again
    several = (
        counts.filter(counts.__n > 1)
        .select("order_id", "sku", __sum=counts.__n == counts.__nq)
        .cache()
    )
    repeated = several.filter(several.__sum).select("order_id", "sku")
    if repeats is not None:
        repeats.append(several.filter(~several.__sum).select("order_id", "sku"))
    # a semi- and an anti-join against those keys, each a scan of the rows: a left join
    # of every row to them, read by both halves, was materialised whole by DuckDB
    keys = ["order_id", "sku"]
    summed = t.semi_join(repeated, keys)
    alone = t.anti_join(repeated, keys).union(summed.filter(summed[UNMAPPED].notnull()))
    rows = summed.filter(summed[UNMAPPED].isnull())
    q = _num(rows.quantity)
    total = q.sum()
    agg: dict[str, Any] = {}
    qty = ibis.cases(
        (total == total.round(), total.cast("int64").cast("string")), else_=total.cast("string")
    )
    agg["quantity"] = qty
    for c in ("unit_price", "list_price", "unit_cost"):
        if c in present:
            x = _num(rows[c])
            weighted = (x * q).sum() / total.nullif(0)
            agg[c] = ibis.cases((x.count() == rows.order_id.count(), weighted.cast("string")))
    for c in present:
        if c not in agg and c not in ("order_id", "sku"):
            agg[c] = rows[c].first()
    if ROW in rows.columns:
        agg[ROW] = rows[ROW].min()
    agg[UNMAPPED] = rows[UNMAPPED].first()
    agg[UNMAPPED_VALUE] = rows[UNMAPPED_VALUE].first()
    combined = rows.group_by(["order_id", "sku"]).aggregate(**agg).select(*keep)
    return alone.union(combined.cast(alone.schema()))


def apply(
    t: ir.Table,
    tname: str,
    spec: Mapping[str, Any],
    siblings: Mapping[str, str] | None = None,
    origin: str = "the column mapping",
    repeats: list[ir.Table] | None = None,
) -> ir.Table:
    """The table ``t`` (source columns) as the mapping ``spec`` of ``tname`` makes it.

    Parameters
    ----------
    t
        The source table, any columns; ``__row`` (file order) when ``fill_down`` is used.
    tname
        The contract table.
    spec
        The checked entry of ``tname`` (:func:`shopbook.data.sources.language.check_table`
        plus ``columns``).
    siblings
        ``{contract column: source column}`` that other tables map from the same file, for
        names in ``derive`` (``lines(unit_price * quantity)`` under orders).
    origin
        The mapping, for messages.
    repeats
        When given and the lines are combined (``combine_lines: sum``), the
        ``(order_id, sku)`` keys the combining left on several rows (a quantity that is
        not a number) are appended to it, as a small table of the engine: no other key of
        the result repeats.

    Returns
    -------
    ibis.Table
        The contract columns (text, or numbers from arithmetic), ``__row`` when the source
        has it, ``__unmapped`` (``None``, or the first column whose value is not in its
        value map) and ``__unmapped_value`` (that value).
    """
    contract = TABLES[tname]
    columns = dict(spec.get("columns") or {})
    for src in columns:
        if src not in t.columns:
            have = [c for c in t.columns if not c.startswith("__")]
            raise ContractError(
                table=tname,
                column=columns[src],
                expected=f"the source column {src!r} that {origin} maps to {columns[src]}",
                found="no such column"
                + nearest(src, have)
                + "; the file has "
                + ", ".join(have[:15]),
                fix=f"correct {src!r} in {tname}.columns, or remove the entry",
            )
    renamed = rename(t, columns, tname)
    names = dict(zip(t.columns, renamed.columns, strict=True))
    # the text of every column trimmed once, blank as null (what each step below expects)
    t = renamed.mutate(
        **{c: blank_null(renamed[c]) for c in renamed.columns if renamed[c].type().is_string()}
    ).view()
    derive: dict[str, str] = dict(spec.get("derive") or {})
    fill = list(spec.get("fill_down") or [])
    key = contract.primary_key[0]
    before = [c for c in fill if c not in derive]
    if before:
        t = _fill_down(t, before, key)
    # a derived order-level column: fill down the source columns it is made of (a date
    # and a time blank independently on an order's later lines)
    sources = []
    for target in (c for c in fill if c in derive):
        for src in _source_names(parse(derive[target], tname, target, origin)):
            if src in names and names[src] not in sources and names[src] not in before:
                sources.append(names[src])
    if sources:
        t = _fill_down(t, sources, key)
    numbers: set[str] = set()  # derived columns holding money() results
    for target, text in derive.items():
        tree = parse(text, tname, target, origin)
        scope = _Scope(t, names, tname, siblings or {}, origin)
        scope.numbers = numbers
        value = _as_value(_compile(tree, scope, target))
        numbers = {n for n in numbers if n != target}
        if (
            _numeric_result(tree, scope)
            and isinstance(value, ir.Value)
            and value.type().is_string()
        ):
            numbers.add(target)
        t = t.mutate(**{target: value}).view()  # the next derive reads it as a column
        if target in fill:  # before the next derive uses it
            t = _fill_down(t, [target], key)
    for col, value in (spec.get("constants") or {}).items():
        const = ibis.null("string") if value is None else _as_value(str(value))
        t = t.mutate(**{col: ibis.coalesce(_text(t[col]), const) if col in t.columns else const})
    t = t.view()
    bad = []
    for col, vmap in (spec.get("values") or {}).items():
        if col not in t.columns:
            continue
        v = _text(t[col])
        low = v.lower()
        keys = [k.strip().lower() for k in vmap]
        cases = [
            (low == ibis.literal(k), ibis.literal(m, type="string"))
            for k, m in zip(keys, vmap.values(), strict=True)
        ]
        flag = f"__bad_{col}"
        bad.append((flag, col))
        t = t.mutate(
            **{
                flag: ibis.cases((v.notnull() & ~one_of(low, keys), v), else_=ibis.null("string")),
                col: ibis.cases(*cases, else_=ibis.null("string")) if cases else v,
            }
        )
    t = t.view()
    for col, fmt in (spec.get("formats") or {}).items():
        if col in t.columns:
            formats = [fmt] if isinstance(fmt, str) else list(fmt)
            t = t.mutate(**{col: _stamp_text(_text(t[col]), formats)})
    t = t.view()
    none = ibis.null("string")
    unmapped = (
        ibis.cases(*[(t[flag].notnull(), ibis.literal(col)) for flag, col in bad], else_=none)
        if bad
        else none
    )
    value = ibis.coalesce(*[t[flag] for flag, _ in bad]) if bad else none
    t = t.mutate(**{UNMAPPED: unmapped, UNMAPPED_VALUE: value})
    present = [c for c in contract.column_names if c in t.columns]
    if spec.get("combine_lines") == "sum" and {"order_id", "sku", "quantity"} <= set(present):
        return _combine(t, present, repeats)
    keep = [*present, *([ROW] if ROW in t.columns else []), UNMAPPED]
    return t.select(*keep, UNMAPPED_VALUE)
