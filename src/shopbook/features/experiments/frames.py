"""A per-unit table the user already has, checked and typed like :func:`unit_metrics`'s."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from shopbook.errors import ContractError
from shopbook.features.experiments.units import UNIT_COLUMNS

__all__ = ["from_frame"]


def from_frame(frame: pd.DataFrame, mapping: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Accept a per-unit table the user already has (one row per unit).

    Parameters
    ----------
    frame
        Must have ``unit_id``, ``variant`` and ``converted`` or ``orders``; may have any
        other column of :data:`UNIT_COLUMNS` (``revenue``, ``pre_revenue``,
        ``assigned_ts``, ``device`` …). Extra columns are kept (usable as segments).
    mapping
        ``{column in frame: unit column}`` to rename first, e.g. ``{"user": "unit_id"}``.

    Returns
    -------
    DataFrame
        Typed: counts as int64, money as float64, ``converted`` 0/1, timestamps as
        datetime64, segments as strings. ``converted`` is derived from ``orders > 0``
        when absent; missing counts/money are 0.

    Raises
    ------
    ContractError
        Missing required columns, unreadable values, or a unit on more than one row
        (e.g. in two variants).
    """
    df = frame.rename(columns=dict(mapping or {})).copy()
    _check_unit_table(df)
    df["unit_id"] = df["unit_id"].astype(str)
    df["variant"] = df["variant"].astype(str)
    _check_one_row_per_unit(df)
    for col in (*_COUNT_COLUMNS, *_MONEY_COLUMNS, "converted"):
        if col in df.columns:
            df[col] = _numbers(df, col)
    df["converted"] = _converted(df)
    for col in ("assigned_ts", "first_order_ts"):
        if col in df.columns:
            df[col] = pd.to_datetime(df[col], errors="raise")
    for col in ("device", "channel", "new_vs_returning"):
        if col in df.columns:
            df[col] = df[col].astype("string")
    ordered = [c for c in UNIT_COLUMNS if c in df.columns]
    return df[ordered + [c for c in df.columns if c not in ordered]].reset_index(drop=True)


#: Per-unit columns that are counts (int64) and money (float64).
_COUNT_COLUMNS = ("sessions", "orders", "refunded_orders", "pre_sessions", "pre_orders")
_MONEY_COLUMNS = ("revenue", "pre_revenue", "revenue_capped")


def _check_unit_table(df: pd.DataFrame) -> None:
    """The required columns are there and every row has a unit id and a variant."""
    missing = [c for c in ("unit_id", "variant") if c not in df.columns]
    if "converted" not in df.columns and "orders" not in df.columns:
        missing.append("converted (or orders)")
    if missing:
        raise ContractError(
            table="units",
            column=missing[0].split()[0],
            expected="a per-unit table with unit_id, variant and converted (or orders)",
            found="columns " + ", ".join(map(str, df.columns)),
            fix="rename the columns (mapping={'your name': 'unit_id', …}) or add them",
        )
    if df["unit_id"].isna().any() or df["variant"].isna().any():
        raise ContractError(
            table="units",
            column="unit_id" if df["unit_id"].isna().any() else "variant",
            expected="a value on every row",
            found="missing values",
            fix="drop or fill rows without a unit id / variant",
        )


def _check_one_row_per_unit(df: pd.DataFrame) -> None:
    dup = df["unit_id"].duplicated(keep=False)
    if dup.any():
        two = int((df.loc[dup].groupby("unit_id")["variant"].nunique() > 1).sum())
        n_units = int(df.loc[dup, "unit_id"].nunique())
        raise ContractError(
            table="units",
            column="unit_id",
            expected="one row per unit (a unit is in exactly one variant)",
            found=f"{n_units:,} units on several rows, {two:,} of them in two variants",
            fix="remove those units (they break the comparison) or aggregate to one row per unit",
        )


def _numbers(df: pd.DataFrame, col: str) -> pd.Series:
    """Column ``col`` as non-negative numbers, missing as 0: int64 counts, float64 otherwise."""
    values = pd.to_numeric(df[col], errors="coerce")
    bad = values.isna() & df[col].notna()
    if bad.any():
        raise ContractError(
            table="units",
            column=col,
            expected="numbers",
            found=f"{int(bad.sum()):,} unreadable values, e.g. {df.loc[bad, col].iloc[0]!r}",
            fix=f"clean the {col} column",
        )
    if (values < 0).any():
        raise ContractError(
            table="units",
            column=col,
            expected="values ≥ 0",
            found=f"{int((values < 0).sum()):,} negative values",
            fix=f"clean the {col} column",
        )
    values = values.fillna(0)
    return values.astype("int64") if col in _COUNT_COLUMNS else values.astype("float64")


def _converted(df: pd.DataFrame) -> pd.Series:
    """``converted`` as 0/1 (int64), derived from ``orders > 0`` when absent."""
    if "converted" not in df.columns:
        return (df["orders"] > 0).astype("int64")
    if (df["converted"] > 1).any():
        raise ContractError(
            table="units",
            column="converted",
            expected="0/1 or true/false",
            found="values above 1",
            fix="use 1 for converted units and 0 otherwise",
        )
    return (df["converted"] > 0).astype("int64")
