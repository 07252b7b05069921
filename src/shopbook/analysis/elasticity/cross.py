"""Cross-price elasticities among a few SKUs: :func:`cross_price` and :class:`CrossPrice`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.elasticity._common import fe_columns, numeric_controls
from shopbook.analysis.elasticity._fe import fe_ols
from shopbook.analysis.elasticity._prepare import prepare
from shopbook.analysis.result import Result
from shopbook.i18n import _, translate

#: Columns of :attr:`CrossPrice.table`.
CROSS_COLUMNS = (
    "demand_of",
    "price_of",
    "elasticity",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "relation",
)

#: Relations that an interval away from zero establishes.
CLEAR_RELATIONS = ("substitute", "complement")


@dataclass
class CrossPrice(Result):
    """A cross-price elasticity matrix.

    Attributes
    ----------
    matrix, se, ci_low, ci_high
        Square frames: row = the SKU whose demand responds, column = the SKU whose price
        changed. The diagonal holds own-price elasticities; off the diagonal, positive
        means substitutes, negative complements.
    n_periods
        Periods in which every listed SKU sold (the regression sample).
    level
        Confidence level of the intervals.
    table
        Tidy form: ``demand_of``, ``price_of``, ``elasticity``, ``se``, ``ci_low``,
        ``ci_high``, ``p_value``, ``relation`` (``own``, ``substitute``, ``complement``
        or ``unclear`` when the interval spans zero).
    notes
        What was set aside and which controls were used.
    problems
        ``ok()`` is false when nothing was estimated; ``why()`` says why.
    """

    matrix: pd.DataFrame = field(default_factory=pd.DataFrame)
    se: pd.DataFrame = field(default_factory=pd.DataFrame)
    ci_low: pd.DataFrame = field(default_factory=pd.DataFrame)
    ci_high: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_periods: int = 0
    level: float = 0.95

    @property
    def entities(self) -> list[Any]:
        """The SKUs of the matrix, in order."""
        return list(self.matrix.index)

    @property
    def n_pairs(self) -> int:
        """Ordered pairs of different SKUs (the off-diagonal cells)."""
        k = len(self.matrix.index)
        return k * (k - 1)

    @property
    def chance_pairs(self) -> float:
        """Pairs expected to look clear by chance alone at the intervals' level."""
        return (1 - self.level) * self.n_pairs

    @property
    def clear(self) -> pd.DataFrame:
        """Rows of :attr:`table` whose interval is away from zero: substitutes, complements."""
        if "relation" not in self.table:
            return self.table
        return self.table[self.table["relation"].isin(list(CLEAR_RELATIONS))]


def cross_price(
    panel: pd.DataFrame,
    quantity: str,
    price: str,
    entity: str,
    time: str,
    entities: Sequence[Any],
    controls: Sequence[str] = (),
    fixed_effects: Sequence[str] = ("entity", "time"),
    hac_lags: int = 4,
    min_periods: int = 20,
    level: float = 0.95,
) -> CrossPrice:
    """Cross-price elasticities among a few entities (e.g. a category's top SKUs).

    One stacked regression over every entity of ``panel``::

        log q_it = α_i + δ_t + Σ_{j listed} e_ij · [i = listed SKU] · log p_jt
                   + e_rest · [i not listed] · log p_it + controls + error

    Week effects ``δ_t`` are learned from all entities of the panel (pass the whole
    category, not only the listed SKUs: the unlisted ones anchor the common weekly
    shocks), each listed SKU gets its own row of the matrix, and unlisted SKUs share
    one own-price slope. Standard errors are Newey–West within each entity
    (statsmodels ``hac-panel``), since weekly demand shocks persist.

    Parameters
    ----------
    panel
        Entity × period rows with the ``quantity``, ``price``, ``entity``, ``time``
        and ``controls`` columns, including entities beyond ``entities``.
    entities
        The SKUs of the matrix (2 to ~8: the number of slopes grows with its square).
    controls
        Further regressors, e.g. :func:`demand_history`.
    fixed_effects
        Absorbed effects (``"entity"``, ``"time"`` or column names).
    hac_lags
        Newey–West lag length in periods.
    min_periods
        Fewest periods in which every listed SKU sold; below it nothing is estimated
        (the matrix is ``nan`` and a note says why).

    Returns
    -------
    CrossPrice
        Rows of a listed SKU in periods where some listed SKU did not sell (its price is
        unobserved) are set aside and counted in ``notes``. Skipped (``ok()`` false, the
        reason in ``why()``) with fewer than two entities, an entity without a usable
        row, too few common periods, or nothing identified.
    """
    entities = list(dict.fromkeys(entities))
    if len(entities) < 2:
        return CrossPrice.skipped(
            f"cross-price elasticities need at least two {entity}s, got {len(entities)}"
        )
    df, _counts, notes = prepare(panel, quantity, price, entity, time, list(controls))
    missing = [e for e in entities if e not in set(df[entity])]
    if missing:
        return CrossPrice.skipped(
            f"{entity}s not in the panel (or without a usable row): {missing}", notes=notes
        )
    fe_cols = fe_columns(fixed_effects, entity, time)
    df, terms, pairs = _design(df, entities, entity, time, fe_cols, notes)
    df, ctrl = numeric_controls(df, controls)
    df = df.sort_values([entity, time], kind="stable")
    n_periods = int(df.loc[df[entity].isin(entities), time].nunique())
    if n_periods < min_periods:
        notes.append(
            f"Only {n_periods} {time}s in which every listed {entity} sold (fewer than "
            f"{min_periods}): cross-price elasticities not estimated."
        )
        return _result(entities, [], n_periods, notes, level).skip(notes[-1])
    params, _info, more = fe_ols(
        df, "_lq", [*terms, *ctrl], fe_cols, None, level, hac=(entity, hac_lags)
    )
    notes.extend(_readable(more, terms, pairs, entity))
    rows = [
        _pair_row(i, j, p)
        for (i, j), (_, p) in zip(pairs, params.iloc[: len(pairs)].iterrows(), strict=True)
    ]
    res = _result(entities, rows, n_periods, notes, level)
    if not res.table["elasticity"].notna().any():
        res.skip(notes[-1] if notes else f"too few {time}s in which every listed {entity} sold")
    return res


def _design(
    df: pd.DataFrame,
    entities: list[Any],
    entity: str,
    time: str,
    fe_cols: list[str],
    notes: list[str],
) -> tuple[pd.DataFrame, list[str], list[tuple[Any, Any]]]:
    """The stacked design: one log-price column per (demand of, price of) pair."""
    listed = df[entity].isin(entities)
    n_other = int(df.loc[~listed, entity].nunique())
    if entity in fe_cols and time in fe_cols and n_other == 0:
        notes.append(
            f"Only the listed {entity}s are in the panel: their common {time} effects cannot "
            "be told apart from the prices. Pass the whole category."
        )
    lp = df[listed].pivot_table(index=time, columns=entity, values="_lp", aggfunc="mean")
    for j in entities:
        col = df[time].map(lp[j])
        df[f"_lp_{j}"] = col.to_numpy()
    has_all = df[[f"_lp_{j}" for j in entities]].notna().all(axis=1)
    drop = listed & ~has_all
    if drop.any():
        notes.append(
            _(
                "{n:,} rows of listed {entity}s set aside: in those {time}s another listed "
                "{entity} did not sell, so its price is unobserved."
            ).format(n=int(drop.sum()), entity=translate(entity), time=translate(time))
        )
    df = df[~drop].copy()
    listed = df[entity].isin(entities)
    terms: list[str] = []
    pairs: list[tuple[Any, Any]] = []
    for i in entities:
        for j in entities:
            name = f"_x_{len(pairs)}"
            df[name] = np.where(df[entity] == i, df[f"_lp_{j}"].fillna(0.0), 0.0)
            terms.append(name)
            pairs.append((i, j))
    if n_other:
        df["_own_rest"] = np.where(listed, 0.0, df["_lp"])
        terms.append("_own_rest")
    return df, terms, pairs


def _readable(
    notes: list[str], terms: list[str], pairs: list[tuple[Any, Any]], entity: str
) -> list[str]:
    """``notes`` of the fit with the design's column names replaced by what they mean."""
    readable = {
        f"`{t}`": f"the effect of {j}'s price on {i}'s units"
        for t, (i, j) in zip(terms, pairs, strict=False)
    }
    readable["`_own_rest`"] = f"the own-price slope of the unlisted {entity}s"
    out = []
    for note in notes:
        for k_, v in readable.items():
            note = note.replace(k_, v)
        out.append(note)
    return out


def relation(own: bool, ci_low: float, ci_high: float) -> str:
    """``own`` on the diagonal; else ``substitute``/``complement`` by the interval's side."""
    if own:
        return "own"
    if ci_low > 0:
        return "substitute"
    if ci_high < 0:
        return "complement"
    return "unclear"


def _pair_row(i: Any, j: Any, p: pd.Series) -> dict[str, Any]:
    return {
        "demand_of": i,
        "price_of": j,
        "elasticity": p["estimate"],
        "se": p["se"],
        "ci_low": p["ci_low"],
        "ci_high": p["ci_high"],
        "p_value": p["p_value"],
        "relation": relation(i == j, p["ci_low"], p["ci_high"]),
    }


def _result(
    entities: list[Any],
    rows: list[dict[str, Any]],
    n_periods: int,
    notes: list[str],
    level: float,
) -> CrossPrice:
    """The matrices and the tidy table from the pair rows (``nan`` where there is none)."""
    shape = pd.DataFrame(
        np.nan,
        index=pd.Index(entities, name="demand_of"),
        columns=pd.Index(entities, name="price_of"),
    )
    est, se_, lo, hi = shape.copy(), shape.copy(), shape.copy(), shape.copy()
    for r in rows:
        i, j = r["demand_of"], r["price_of"]
        est.loc[i, j], se_.loc[i, j] = r["elasticity"], r["se"]
        lo.loc[i, j], hi.loc[i, j] = r["ci_low"], r["ci_high"]
    table = pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(CROSS_COLUMNS))
    return CrossPrice(
        matrix=est,
        se=se_,
        ci_low=lo,
        ci_high=hi,
        n_periods=n_periods,
        level=level,
        table=table,
        notes=notes,
    )
