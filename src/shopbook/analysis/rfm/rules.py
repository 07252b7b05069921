"""Segment rules: the editable table that names each cell of the R × FM grid.

The rules are data: ``rfm_segments.csv`` in :mod:`shopbook.analysis` (:func:`load_rules`),
one row per rule with the score ranges ``r_min..r_max`` × ``fm_min..fm_max`` it covers, the
segment's rank (best first), its private-domain community, a description and the
recommended action. Each scheme (``segment``, ``layer``) covers the 25 cells exactly once.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pandas as pd

from shopbook.analysis.rfm._common import LEVELS, grid

#: Columns of a rules table.
RULE_COLUMNS: tuple[str, ...] = (
    "scheme",
    "name",
    "rank",
    "r_min",
    "r_max",
    "fm_min",
    "fm_max",
    "community",
    "description",
    "action",
)


def default_rules_path() -> Path:
    """The shipped rules file, ``shopbook/analysis/rfm_segments.csv``."""
    return Path(str(resources.files("shopbook.analysis") / "rfm_segments.csv"))


def _read(path: str | os.PathLike | pd.DataFrame | None) -> tuple[pd.DataFrame, str]:
    if isinstance(path, pd.DataFrame):
        return path.copy(), "rules table"
    where = str(path or default_rules_path())
    return pd.read_csv(path or default_rules_path(), dtype=str, keep_default_na=False), where


def _check_bounds(rules: pd.DataFrame, where: str) -> pd.DataFrame:
    for col in ("rank", "r_min", "r_max", "fm_min", "fm_max"):
        values = pd.to_numeric(rules[col], errors="coerce")
        bad = rules.loc[values.isna() | (values != values.round()), "name"]
        if len(bad):
            raise ValueError(
                f"{where}: column {col} must hold whole numbers; "
                f"rule {bad.iloc[0]!r} has {rules.loc[bad.index[0], col]!r}"
            )
        rules[col] = values.astype("int64")
    for lo, hi in (("r_min", "r_max"), ("fm_min", "fm_max")):
        out = rules[(rules[lo] < 1) | (rules[hi] > LEVELS) | (rules[lo] > rules[hi])]
        if len(out):
            row = out.iloc[0]
            raise ValueError(
                f"{where}: rule {row['name']!r} has {lo}={row[lo]}, {hi}={row[hi]}; "
                f"scores run from 1 to {LEVELS} and {lo} ≤ {hi}"
            )
    return rules


def load_rules(path: str | os.PathLike | pd.DataFrame | None = None) -> pd.DataFrame:
    """Read and check the segment rules.

    Parameters
    ----------
    path
        A CSV file with the columns of :data:`RULE_COLUMNS`, a DataFrame with them, or
        ``None`` for the shipped :func:`default_rules_path`.

    Returns
    -------
    pandas.DataFrame
        The rules, sorted by scheme and rank.

    Raises
    ------
    ValueError
        When a column is missing, a score bound is not an integer 1–5, a name has two
        ranks, or a scheme leaves a cell of the R × FM grid uncovered or covers it twice
        (the message names the cell and the rules).
    """
    rules, where = _read(path)
    missing = [c for c in RULE_COLUMNS if c not in rules.columns]
    if missing:
        raise ValueError(
            f"{where}: missing column(s) {', '.join(missing)}; "
            f"a rules table needs {', '.join(RULE_COLUMNS)}"
        )
    rules = _check_bounds(rules[list(RULE_COLUMNS)].copy(), where)
    for col in ("scheme", "name", "community", "description", "action"):
        rules[col] = rules[col].astype(str).str.strip()
    for scheme, group in rules.groupby("scheme", sort=False):
        ranks = group.groupby("name")["rank"].nunique()
        if (ranks > 1).any():
            raise ValueError(
                f"{where}: {scheme} {ranks[ranks > 1].index[0]!r} has more than one rank"
            )
        grid(group, where=f"{where} (scheme {scheme!r})")
    if "segment" not in set(rules["scheme"]):
        raise ValueError(f"{where}: no rules with scheme 'segment'")
    return rules.sort_values(["scheme", "rank", "name"], kind="stable").reset_index(drop=True)


def rule_table(rules: pd.DataFrame | None = None, scheme: str = "segment") -> pd.DataFrame:
    """The rules of one scheme as an operator reads them: one row per segment.

    Parameters
    ----------
    rules
        A rules table (:data:`RULE_COLUMNS`); default the shipped file.
    scheme
        ``"segment"`` or ``"layer"``.

    Returns
    -------
    pandas.DataFrame
        ``name``, ``rank``, ``scores`` (the R × FM ranges as text), ``community``,
        ``description``, ``action``; best rank first.
    """
    rules = load_rules() if rules is None else load_rules(rules)
    part = rules[rules["scheme"] == scheme]

    def rng(lo: int, hi: int) -> str:
        return str(lo) if lo == hi else f"{lo}–{hi}"

    rows = []
    for name, group in part.groupby("name", sort=False):
        cells = "; ".join(
            f"R {rng(g.r_min, g.r_max)} × FM {rng(g.fm_min, g.fm_max)}" for g in group.itertuples()
        )
        first = group.iloc[0]
        rows.append(
            {
                "name": name,
                "rank": first["rank"],
                "scores": cells,
                "community": first["community"],
                "description": first["description"],
                "action": first["action"],
            }
        )
    return pd.DataFrame(rows).sort_values("rank", kind="stable").reset_index(drop=True)


def segment_grid(rules: pd.DataFrame | None = None, scheme: str = "segment") -> pd.DataFrame:
    """The name of each (r_score, fm_score) cell: a 5 × 5 frame, R 5 (best) on top.

    Laid out like :func:`shopbook.analysis.rfm.score_grid`; ``rules`` as for
    :func:`rule_table`.
    """
    rules = load_rules() if rules is None else rules
    cells = grid(rules[rules["scheme"] == scheme], where=f"scheme {scheme!r}")
    levels = list(range(1, LEVELS + 1))
    out = pd.DataFrame(cells, index=levels, columns=levels).loc[levels[::-1]]
    out.index.name, out.columns.name = "r_score", "fm_score"
    return out


def wake_up_layer(rules: pd.DataFrame | None = None) -> str:
    """The layer of the high-value customers who are lapsing: the wake-up list.

    It is the layer that covers the grid's corner of the most valuable customers who
    have been away longest (``r_score`` 1, ``fm_score`` 5), so the pick follows the rules
    table: rename the layer or move its cells in ``rfm_segments.csv`` and this follows.

    Parameters
    ----------
    rules
        A rules table with a ``layer`` scheme; default the shipped file.

    Returns
    -------
    str
        The layer's name (``"High value · lapsing"`` in the shipped rules).

    Raises
    ------
    ValueError
        The rules have no ``layer`` scheme.
    """
    rules = load_rules() if rules is None else rules
    part = rules[rules["scheme"] == "layer"]
    if part.empty:
        raise ValueError("the rules have no 'layer' scheme, so there is no wake-up layer")
    return str(grid(part, where="scheme 'layer'")[0, LEVELS - 1])


__all__ = [
    "RULE_COLUMNS",
    "default_rules_path",
    "load_rules",
    "rule_table",
    "segment_grid",
    "wake_up_layer",
]
