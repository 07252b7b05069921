"""The rows a log-log fit can use, and the counts and notes of what was set aside."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from shopbook.analysis.elasticity._common import CONSTANT_PRICE_TOL, FLAT_LOG_SPREAD, need
from shopbook.i18n import _


def prepare(
    panel: pd.DataFrame,
    quantity: str,
    price: str,
    entity: str,
    time: str,
    extra: Sequence[str] = (),
) -> tuple[pd.DataFrame, dict[str, int], list[str]]:
    """Rows usable for a log-log fit, plus counts and notes of what was set aside.

    Adds ``_lq`` (log quantity) and ``_lp`` (log price). Drops rows with missing values
    in the needed columns and rows with quantity or price ≤ 0, counting each reason.
    Keeps constant-price entities (they still inform time effects) but counts them.
    """
    cols = list(dict.fromkeys([quantity, price, entity, time, *extra]))
    need(panel, cols)
    df = panel.loc[:, cols].reset_index(drop=True)
    counts: dict[str, int] = {"rows_in": len(df)}
    notes: list[str] = []
    df = _drop_missing(df, cols, counts, notes)
    df = _drop_nonpositive(df, quantity, price, counts, notes)
    counts["rows_used"] = len(df)
    counts["entities"] = int(df[entity].nunique())
    counts["periods"] = int(df[time].nunique())
    _describe_entities(df, entity, time, counts, notes)
    return df, counts, notes


def _drop_missing(
    df: pd.DataFrame, cols: list[str], counts: dict[str, int], notes: list[str]
) -> pd.DataFrame:
    missing = df.isna().any(axis=1)
    counts["rows_missing"] = int(missing.sum())
    if counts["rows_missing"]:
        notes.append(
            _("{n:,} of {total:,} rows have a missing value in {cols}: set aside.").format(
                n=counts["rows_missing"],
                total=len(df),
                cols=", ".join(c for c in cols if df[c].isna().any()),
            )
        )
    return df[~missing]


def _drop_nonpositive(
    df: pd.DataFrame, quantity: str, price: str, counts: dict[str, int], notes: list[str]
) -> pd.DataFrame:
    q = pd.to_numeric(df[quantity], errors="coerce")
    p = pd.to_numeric(df[price], errors="coerce")
    bad_q = ~(q > 0)
    bad_p = ~(p > 0)
    counts["rows_nonpositive_quantity"] = int(bad_q.sum())
    counts["rows_nonpositive_price"] = int((bad_p & ~bad_q).sum())
    if bad_q.any():
        notes.append(
            _(
                "{n:,} rows with {q} ≤ 0 set aside: the log of zero or a negative number is "
                "undefined (zero-sales periods carry no observed price)."
            ).format(n=int(bad_q.sum()), q=quantity)
        )
    if (bad_p & ~bad_q).any():
        notes.append(
            _(
                "{n:,} rows with {p} ≤ 0 set aside: the log of zero or a negative price is "
                "undefined (free items, data errors)."
            ).format(n=counts["rows_nonpositive_price"], p=price)
        )
    df = df[~(bad_q | bad_p)].copy()
    df["_lq"] = np.log(q.loc[df.index].astype(float))
    df["_lp"] = np.log(p.loc[df.index].astype(float))
    return df


def _describe_entities(
    df: pd.DataFrame, entity: str, time: str, counts: dict[str, int], notes: list[str]
) -> None:
    spread = df.groupby(entity, observed=True)["_lp"].agg(lambda s: s.max() - s.min())
    const = spread[spread <= FLAT_LOG_SPREAD]
    counts["constant_price_entities"] = len(const)
    if len(const):
        shown = ", ".join(map(str, const.index[:5])) + (" …" if len(const) > 5 else "")
        notes.append(
            f"{len(const):,} of {counts['entities']:,} {entity}s never changed price "
            f"(spread < {CONSTANT_PRICE_TOL:.1%}: {shown}); elasticity cannot be learned "
            "from them — they are kept and only inform the time effects."
        )
    sizes = df.groupby(entity, observed=True).size()
    counts["singleton_entities"] = int((sizes == 1).sum())
    if counts["singleton_entities"]:
        notes.append(
            f"{counts['singleton_entities']:,} {entity}s have a single row: with {entity} "
            "fixed effects they are fitted exactly and add nothing."
        )
    if counts["periods"] == 1 and len(df):
        notes.append(f"The panel has a single {time}: there is no change over time to learn from.")
