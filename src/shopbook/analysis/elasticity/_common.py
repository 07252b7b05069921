"""Helpers shared by the elasticity modules (private to the subpackage)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

#: Relative price spread (max/min − 1) below which an entity counts as constant-price.
CONSTANT_PRICE_TOL = 0.005

#: ``log`` of one plus :data:`CONSTANT_PRICE_TOL`: the log-price spread of a flat price.
FLAT_LOG_SPREAD = math.log1p(CONSTANT_PRICE_TOL)

#: Columns of a coefficient table.
COEF_COLUMNS = ("term", "estimate", "se", "ci_low", "ci_high", "p_value")


def need(panel: pd.DataFrame, columns: Iterable[str | None]) -> None:
    """Raise a ``KeyError`` naming the columns of ``columns`` that ``panel`` lacks."""
    missing = [c for c in columns if c is not None and c not in panel.columns]
    if missing:
        raise KeyError(
            f"panel has no column(s) {missing}; it has {list(panel.columns)}. "
            "Pass the names of your columns (quantity=, price=, entity=, time=, controls=)."
        )


def codes(values: pd.Series) -> np.ndarray:
    """Integer codes of ``values`` (sorted levels), as int64."""
    return pd.factorize(values, sort=True)[0].astype(np.int64)


def crit(level: float, df: float | None) -> float:
    """Two-sided critical value at ``level``: t with ``df`` degrees of freedom, else normal."""
    from scipy import stats

    q = 0.5 + level / 2
    return (
        float(stats.t.ppf(q, df)) if df and np.isfinite(df) and df > 0 else float(stats.norm.ppf(q))
    )


def alias(name: str | None, entity: str, time: str) -> str | None:
    """``"entity"``/``"time"`` → the entity/time column; other names pass through."""
    if not name:
        return None
    return {"entity": entity, "time": time}.get(name, name)


def fe_columns(fixed_effects: Sequence[str], entity: str, time: str) -> list[str]:
    """The fixed-effect columns (aliases resolved, duplicates dropped, order kept)."""
    names = {"entity": entity, "time": time}
    out = [names.get(f, f) for f in fixed_effects]
    return list(dict.fromkeys(out))


def as_list(by: str | Sequence[str] | None) -> list[str]:
    """``by`` as a list of column names (``None`` → ``[]``)."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def numeric_controls(df: pd.DataFrame, controls: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """Numeric control columns; text/category controls become 0/1 dummies (first level dropped)."""
    names: list[str] = []
    for c in controls:
        s = df[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            df[c] = s.astype(float)
            names.append(c)
        else:
            d = pd.get_dummies(s.astype(str), prefix=c, drop_first=True, dtype=float)
            for col in d.columns:
                df[col] = d[col]
                names.append(col)
    return df, names


def period_index(values: pd.Series) -> tuple[pd.Series, str]:
    """Integer period numbers (consecutive periods differ by 1) and the step's name."""
    if pd.api.types.is_numeric_dtype(values):
        v = values.astype(int)
        return v - v.min(), "period"
    t = pd.to_datetime(values)
    uniq = np.sort(t.unique())
    steps = (
        np.diff(uniq).astype("timedelta64[s]").astype(np.int64)
        if len(uniq) > 1
        else np.array([7 * 86400])
    )
    step = int(steps[steps > 0].min()) if (steps > 0).any() else 7 * 86400
    idx = ((t - t.min()).dt.total_seconds() // step).astype(int)
    return idx, ("week" if step == 7 * 86400 else f"{step // 86400}-day period")


def empty_coefs(xs: Sequence[str]) -> list[dict[str, object]]:
    """One all-``nan`` coefficient row per term of ``xs``."""
    return [
        {
            "term": x,
            "estimate": np.nan,
            "se": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "p_value": np.nan,
        }
        for x in xs
    ]
