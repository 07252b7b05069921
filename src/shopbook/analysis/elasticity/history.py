"""Each entity's recent demand as columns: :func:`demand_history` and its column names."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from shopbook.analysis.elasticity._common import need, period_index


def _lags(lags: int | Sequence[int]) -> list[int]:
    return list(range(1, lags + 1)) if isinstance(lags, int) else list(lags)


def history_columns(lags: int | Sequence[int], depth: bool = False) -> list[str]:
    """Names of the columns :func:`demand_history` adds.

    Parameters
    ----------
    lags
        The lags (an int ``n`` means ``1 … n``).
    depth
        Name the lagged discount-depth columns (``discount_lag{k}``) instead of the
        lagged units (``log_units_lag{k}``).
    """
    stem = "discount_lag" if depth else "log_units_lag"
    return [f"{stem}{k}" for k in _lags(lags)]


def demand_history(
    panel: pd.DataFrame,
    quantity: str,
    entity: str,
    time: str,
    lags: int | Sequence[int] = (1, 2),
    depth: str | None = None,
) -> pd.DataFrame:
    """Each entity's recent demand as columns: what a shop reacts to when it times promotions.

    Promotions run "when a product is hot" put price cuts on demand peaks; conditioning
    on the demand the shop saw before deciding (its recent sales) removes that part of
    the confounding, in :func:`fit_loglog` (as controls) or :func:`fit_dml`.

    Parameters
    ----------
    panel
        Entity × period rows with ``quantity``, ``entity``, ``time`` (and ``depth``).
        Periods are matched by calendar, not by row: a period without a row is a period
        without sales.
    lags
        How many periods back (an int ``n`` means ``1 … n``).
    depth
        Optional discount-depth column to lag as well.

    Returns
    -------
    DataFrame
        ``panel`` plus ``log_units_lag{k}`` = log(1 + units k periods earlier), 0 when
        nothing sold then (and ``discount_lag{k}``, 0 when nothing sold). Missing
        (``nan``) when the period k back lies before the panel's first period — fits
        then set those rows aside and say so. :func:`history_columns` names them.
    """
    need(panel, [quantity, entity, time, *([depth] if depth else [])])
    out = panel.copy()
    pidx, _unit = period_index(out[time])
    keys = pd.DataFrame(
        {
            "e": out[entity].to_numpy(),
            "t": pidx.to_numpy(),
            "q": pd.to_numeric(out[quantity], errors="coerce").clip(lower=0).to_numpy(float),
        }
    )
    if depth:
        keys["d"] = out[depth].astype(float).to_numpy()
    table = keys.groupby(["e", "t"]).agg(q=("q", "sum"), **({"d": ("d", "mean")} if depth else {}))
    for k in _lags(lags):
        idx = pd.MultiIndex.from_arrays([keys["e"], keys["t"] - k])
        before = (keys["t"] - k < 0).to_numpy()
        q = table["q"].reindex(idx).to_numpy()
        col = np.log1p(np.nan_to_num(q, nan=0.0))
        col[before] = np.nan
        out[history_columns([k])[0]] = col
        if depth:
            d = np.nan_to_num(table["d"].reindex(idx).to_numpy(), nan=0.0)
            d[before] = np.nan
            out[history_columns([k], depth=True)[0]] = d
    return out
