"""Monthly KPI targets (the plan's goals): read, validated, found beside the data.

A targets file holds, per calendar month, the goals the KPI brief measures attainment
against (:func:`shopbook.analysis.kpi.targets.attainment`). Two formats:

**YAML** (``targets.yml``)::

    currency: CNY            # optional; when given it must be the data's currency
    months:
      2024-12:
        gmv: 2500000         # money: Σ paid amount of the month's paid orders
        new_customers: 1800  # count: customers whose first paid order ever is in the month
        cac: 90              # money: marketing spend / new customers (lower is better)
        repurchase_rate: 0.25  # share 0..1: buyers with 2+ paid orders in the month / buyers
        gross_margin: 0.27   # share 0..1 (``margin`` is accepted for it)
      2025-01: {gmv: 2000000}

**CSV** (``targets.csv``) with the columns ``month, metric, target`` (and optionally
``currency``, one value), one row per month and metric.

The metrics (:data:`TARGET_METRICS`) are KPIs of the brief, defined once in
:mod:`shopbook.analysis.kpi.definitions`: ``gmv``, ``orders``, ``new_customers``,
``cac``, ``repurchase_rate``, ``gross_margin``. A month may name any subset of them.

Validation: every problem is one line of a :class:`~shopbook.errors.ContractError`
naming the file, the entry, what was expected, what was found and the fix — an unknown
metric (with the nearest allowed name and the list of allowed ones), a month that is not
``YYYY-MM``, a target that is not a number, a negative target, a share outside 0..1, a
month and metric given twice (CSV), a file that is neither YAML nor CSV.

Where it is found (:func:`load_targets`): the path given (a notebook's ``targets``
parameter); else ``targets.yml`` / ``targets.yaml`` / ``targets.csv`` inside a folder
source, or ``<name>.targets.yml`` (``.yaml``, ``.csv``) beside a DuckDB file ``<name>.duckdb``
(so two DuckDB files in one folder each have their own); else there are no targets and
:attr:`Targets.missing` says why (the brief's Targets section is then skipped).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from shopbook.errors import ContractError, Problem, yaml_problem

#: The metrics a target may be set for → their unit (names as in
#: :data:`shopbook.analysis.kpi.definitions.METRICS`; a test checks they are there).
TARGET_METRICS: dict[str, str] = {
    "gmv": "money",
    "orders": "count",
    "new_customers": "count",
    "cac": "money",
    "repurchase_rate": "share",
    "gross_margin": "share",
}

#: Other names accepted for a metric.
ALIASES: dict[str, str] = {"margin": "gross_margin", "new": "new_customers"}

#: File names looked for beside the data, in order.
FILE_NAMES = ("targets.yml", "targets.yaml", "targets.csv")

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_COLUMNS = ["month", "metric", "target"]


@dataclass(frozen=True)
class Targets:
    """Monthly targets.

    Attributes
    ----------
    table
        ``month`` (``YYYY-MM`` text), ``metric`` (a :data:`TARGET_METRICS` name),
        ``target`` (float), sorted by month then metric.
    currency
        The currency of money targets (``None`` when the file does not say).
    path
        The file read (``None`` when there is none).
    missing
        Why there are no targets (``""`` when a file was read).
    """

    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_COLUMNS))
    currency: str | None = None
    path: Path | None = None
    missing: str = ""

    @property
    def months(self) -> list[str]:
        """The months with at least one target (``YYYY-MM``)."""
        return sorted(self.table["month"].unique())

    def for_month(self, month: Any) -> dict[str, float]:
        """Metric → target of ``month`` (``"2024-12"``, a date or a timestamp in it)."""
        text = str(month).strip()
        key = text if _MONTH.match(text) else f"{pd.Timestamp(month):%Y-%m}"
        rows = self.table[self.table["month"] == key]
        return dict(zip(rows["metric"], rows["target"].astype(float), strict=True))


def _nearest(word: str, choices: list[str]) -> str:
    # the one nearest-match helper of the mapping language
    from shopbook.data.sources.language import nearest

    return nearest(word, choices)


def _check_entry(where: str, month: Any, metric: Any, target: Any, name: str) -> list[Problem]:
    """The problems of one (month, metric, target) entry of file ``name``."""
    out = []
    m = str(month).strip()
    if not _MONTH.match(m):
        out.append(
            Problem(name, where, "a month as YYYY-MM (e.g. 2024-12)", repr(month),
                    "write the month as four-digit year, dash, two-digit month")
        )  # fmt: skip
    key = ALIASES.get(str(metric).strip(), str(metric).strip())
    allowed = list(TARGET_METRICS)
    if key not in TARGET_METRICS:
        out.append(
            Problem(name, where, f"a metric among {', '.join(allowed)}",
                    repr(metric) + _nearest(str(metric), [*allowed, *ALIASES]),
                    "use one of the allowed metric names")
        )  # fmt: skip
        return out
    try:
        value = float(target)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(target, bool) or not math.isfinite(value):
        out.append(
            Problem(name, where, "a number", repr(target), "give the target as a plain number")
        )
    elif value < 0:
        out.append(Problem(name, where, "a target ≥ 0", repr(target), "targets are never negative"))
    elif TARGET_METRICS[key] == "share" and value > 1:
        out.append(
            Problem(name, where, "a share between 0 and 1", repr(target),
                    f"write {value:g}% as {value / 100:g}" if value <= 100 else
                    "a rate is a share of buyers or revenue, between 0 and 1")
        )  # fmt: skip
    return out


def _entries_from_yaml(text: str, name: str) -> tuple[list[tuple[str, Any, Any, Any]], Any]:
    """(where, month, metric, target) entries and the currency of a YAML targets file."""
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ContractError(
            table=name, expected="valid YAML", found=f"a syntax error at {yaml_problem(exc)}",
            fix="correct the file's syntax (a 'key: value' per line, consistent indentation)",
        ) from None  # fmt: skip
    unknown = [k for k in doc if k not in ("currency", "months")] if isinstance(doc, dict) else []
    if unknown:
        raise ContractError(
            table=name, column=str(unknown[0]), expected="only the keys currency and months",
            found=repr(unknown[0]) + _nearest(str(unknown[0]), ["currency", "months"]),
            fix="put the targets under 'months:'",
        )  # fmt: skip
    if not isinstance(doc, dict) or not isinstance(doc.get("months"), dict):
        raise ContractError(
            table=name, column="months",
            expected="a mapping 'months:' of YYYY-MM → {metric: target}",
            found="no 'months:' mapping" if not isinstance(doc, dict) or "months" not in doc
            else f"{type(doc['months']).__name__}",
            fix="see docs/targets.md for the format",
        )  # fmt: skip
    entries: list[tuple[str, Any, Any, Any]] = []
    problems = []
    for month, metrics in doc["months"].items():
        # YAML reads 2024-12-01 as a date: that is not a month key either
        if not isinstance(metrics, dict):
            problems.append(
                Problem(name, f"months.{month}", "a mapping of metric → target",
                        repr(metrics), "write e.g. '2024-12: {gmv: 2500000}'")
            )  # fmt: skip
            continue
        for metric, target in metrics.items():
            entries.append((f"months.{month}.{metric}", month, metric, target))
    if problems:
        raise ContractError(problems=problems)
    return entries, doc.get("currency")


def _entries_from_csv(path: Path, name: str) -> tuple[list[tuple[str, Any, Any, Any]], Any]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise ContractError(
            table=name, column=missing[0], expected="the columns month, metric, target",
            found=", ".join(frame.columns) or "no header", fix="add the missing column(s)",
        )  # fmt: skip
    currency = None
    if "currency" in frame.columns:
        found = sorted({c.strip() for c in frame["currency"] if c.strip()})
        if len(found) > 1:
            raise ContractError(
                table=name, column="currency", expected="one currency",
                found=", ".join(found), fix="give every target in the data's currency",
            )  # fmt: skip
        currency = found[0] if found else None
    entries = [
        (f"line {i + 2}", r["month"], r["metric"], r["target"].strip() or None)
        for i, r in frame.iterrows()
    ]
    return entries, currency


def read_targets(path: str | Path) -> Targets:
    """Read and validate a targets file (YAML or CSV; see the module's docstring).

    Parameters
    ----------
    path
        A ``.yml`` / ``.yaml`` or ``.csv`` file.

    Returns
    -------
    Targets
        ``table`` with ``month``, ``metric``, ``target``; ``currency``; ``path``.

    Raises
    ------
    ContractError
        One line per problem: the file (``table``), the entry (``months.2024-12.gmv`` or
        ``line 3``), what was expected, what was found and how to fix it.
    """
    p = Path(path)
    name = p.name
    if not p.is_file():
        raise ContractError(
            table=name, expected="a targets file", found=f"no file {p}",
            fix="pass the path of a targets.yml or targets.csv (see docs/targets.md)",
        )  # fmt: skip
    suffix = p.suffix.lower()
    if suffix in (".yml", ".yaml"):
        entries, currency = _entries_from_yaml(p.read_text(encoding="utf-8"), name)
    elif suffix == ".csv":
        entries, currency = _entries_from_csv(p, name)
    else:
        raise ContractError(
            table=name, expected="a .yml, .yaml or .csv file", found=f"a {suffix or 'bare'} file",
            fix="write the targets as YAML or CSV (see docs/targets.md)",
        )  # fmt: skip
    problems = [q for e in entries for q in _check_entry(*e, name=name)]
    rows = [
        (str(month).strip(), ALIASES.get(str(metric).strip(), str(metric).strip()), float(t))
        for _, month, metric, t in entries
    ] if not problems else []  # fmt: skip
    seen: dict[tuple[str, str], str] = {}
    for (where, *_), (month, metric, _t) in zip(entries, rows, strict=False):
        if (month, metric) in seen:
            problems.append(
                Problem(name, where, "one target per month and metric",
                        f"{metric} of {month} again (first at {seen[month, metric]})",
                        "keep one of the two")
            )  # fmt: skip
        seen.setdefault((month, metric), where)
    if problems:
        raise ContractError(problems=problems)
    table = pd.DataFrame(rows, columns=_COLUMNS).sort_values(["month", "metric"], ignore_index=True)
    cur = str(currency).strip() if currency is not None and str(currency).strip() else None
    return Targets(table=table, currency=cur, path=p)


def find_targets(source: str) -> Path | None:
    """``targets.yml`` (``.yaml``, ``.csv``) inside a folder source, or
    ``<name>.targets.yml`` (``.yaml``, ``.csv``) beside a file source ``<name>.<ext>``.

    Parameters
    ----------
    source
        The resolved data source (:func:`shopbook.config.resolve_source`): a folder, a
        DuckDB file or a URI (a URI has no folder: ``None``).
    """
    for candidate in _candidates(source):
        if candidate.is_file():
            return candidate
    return None


def _candidates(source: str) -> list[Path]:
    text = str(source or "")
    if not text or ("://" in text and not text.startswith("file://")):
        return []
    p = Path(text.removeprefix("file://"))
    if p.is_dir():
        return [p / n for n in FILE_NAMES]
    return [p.with_name(f"{p.stem}.{n}") for n in FILE_NAMES]


def load_targets(path: str = "", source: str = "") -> Targets:
    """The targets a report uses: the file given, else the one beside the data, else none.

    Parameters
    ----------
    path
        A notebook's ``targets`` parameter: a YAML/CSV file (relative paths are looked
        up as a source is, up to the project root); empty: :func:`find_targets`.
    source
        The data source (``report.source.uri``), for :func:`find_targets`.

    Returns
    -------
    Targets
        The validated targets; with no file, empty with :attr:`Targets.missing` saying why.

    Raises
    ------
    ContractError
        When the file given does not exist or is not valid (see :func:`read_targets`).
    """
    from shopbook.config import resolve_source

    if path:
        return read_targets(resolve_source(path))
    found = find_targets(source)
    if found is not None:
        return read_targets(found)
    looked = _candidates(source)
    where = (
        f"no {' / '.join(c.name for c in looked)} beside the data"
        if looked
        else "the source is not a folder or file"
    )
    return Targets(
        missing=f"{where} and no targets parameter given "
        "(see docs/targets.md; e.g. targets=data/targets.example.yml)"
    )


__all__ = [
    "ALIASES",
    "FILE_NAMES",
    "TARGET_METRICS",
    "Targets",
    "find_targets",
    "load_targets",
    "read_targets",
]
