"""R, F and M scores by the tie rule, and the segment and layer of each score pair.

Works on the one-row-per-customer frame of
:func:`shopbook.features.rfm.customer_rfm`; see :mod:`shopbook.analysis.rfm` for the
definitions and the tie rule.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.rfm._common import LEVELS, empty_window_error, grid, names
from shopbook.analysis.rfm.rules import load_rules
from shopbook.errors import ContractError

#: Columns :func:`rfm_table` returns, in order.
RFM_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "recency",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "fm_score",
    "segment",
    "layer",
    "first_order",
    "last_order",
)


def quintile_scores(
    values: Sequence[float] | np.ndarray | pd.Series,
    reference: Sequence[float] | np.ndarray | pd.Series | None = None,
    higher_is_better: bool = True,
    levels: int = LEVELS,
) -> np.ndarray:
    """Scores 1..``levels`` by the share of ``reference`` customers strictly worse.

    ``score = 1 + ⌊levels × (share of reference values strictly worse)⌋``, capped at
    ``levels`` (the cap only matters when a value beats every reference value, which
    cannot happen when ``reference`` is ``values`` itself). Equal values always get
    equal scores; see :mod:`shopbook.analysis.rfm` for the tie rule.

    Parameters
    ----------
    values
        The values to score.
    reference
        The distribution that defines the quintiles; default ``values`` itself.
    higher_is_better
        ``True`` for frequency and monetary, ``False`` for recency.
    levels
        Number of score levels.

    Returns
    -------
    numpy.ndarray
        Integer scores.
    """
    v = np.asarray(values, dtype="float64")
    ref = np.sort(np.asarray(values if reference is None else reference, dtype="float64"))
    n = len(ref)
    if n == 0:
        raise ValueError("quintile_scores needs at least one reference value")
    # Search the sorted distinct values, not every customer's value: sorted queries are
    # cache-friendly (score() on 650,000 customers went from 4.1 s to 1.6 s).
    uniq, inverse = np.unique(v, return_inverse=True)
    if higher_is_better:
        worse = np.searchsorted(ref, uniq, side="left")  # reference values < v
    else:
        worse = n - np.searchsorted(ref, uniq, side="right")  # reference values > v
    scores = np.minimum(1 + (levels * worse) // n, levels).astype("int64")
    return scores[inverse.reshape(-1)]


def fm_scores(f_score: Any, m_score: Any) -> np.ndarray:
    """Combined value score ⌈(F + M) / 2⌉ (the mean of F and M, halves rounded up)."""
    return (np.asarray(f_score, dtype="int64") + np.asarray(m_score, dtype="int64") + 1) // 2


def assign(
    r_score: Any, fm_score: Any, rules: pd.DataFrame | None = None, scheme: str = "segment"
) -> pd.Categorical:
    """Segment (or layer) names for score pairs, by the rules' R × FM grid.

    Returns
    -------
    pandas.Categorical
        Ordered by the rules' rank (best first), with every name of the scheme as a
        category even when no customer falls in it.
    """
    rules = load_rules() if rules is None else rules
    part = rules[rules["scheme"] == scheme]
    if part.empty:
        raise ValueError(
            f"the rules have no scheme {scheme!r} (have {sorted(set(rules['scheme']))})"
        )
    cells = grid(part, where=f"scheme {scheme!r}")
    r = np.asarray(r_score, dtype="int64")
    fm = np.asarray(fm_score, dtype="int64")
    labels = cells[r - 1, fm - 1] if len(r) else np.array([], dtype=object)
    return pd.Categorical(labels, categories=names(rules, scheme), ordered=True)


def score(
    base: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    rules: pd.DataFrame | None = None,
    check: bool = True,
) -> pd.DataFrame:
    """Score a per-customer frame and name its segments and layers.

    Parameters
    ----------
    base
        One row per customer with ``customer_id``, ``recency`` (days), ``frequency``
        (orders) and ``monetary`` (money); other columns are kept
        (e.g. ``first_order``, ``last_order`` from
        :func:`shopbook.features.rfm.customer_rfm`).
    reference
        A frame with the same three columns whose distribution defines the quintiles;
        default ``base`` itself. Migration uses the earlier date's customers so that
        a later score means the same behaviour as an earlier one.
    rules
        Segment rules (:func:`load_rules`); default the shipped file.
    check
        Refuse degenerate input (fewer than two customers, all customers identical).

    Returns
    -------
    pandas.DataFrame
        ``base`` with ``r_score``, ``f_score``, ``m_score``, ``fm_score`` (ints 1–5),
        ``segment`` and ``layer`` (ordered categoricals, best first), columns in the
        order of :data:`RFM_COLUMNS` when present.

    Raises
    ------
    ContractError
        With ``check``: fewer than two reference customers, or all identical.
    """
    rules = load_rules() if rules is None else rules
    ref = base if reference is None else reference
    if check:
        _check_spread(ref)
    out = base.copy()
    out["r_score"] = quintile_scores(out["recency"], ref["recency"], higher_is_better=False)
    out["f_score"] = quintile_scores(out["frequency"], ref["frequency"])
    out["m_score"] = quintile_scores(out["monetary"], ref["monetary"])
    out["fm_score"] = fm_scores(out["f_score"], out["m_score"])
    out["segment"] = assign(out["r_score"], out["fm_score"], rules, "segment")
    if (rules["scheme"] == "layer").any():
        out["layer"] = assign(out["r_score"], out["fm_score"], rules, "layer")
    cols = [c for c in RFM_COLUMNS if c in out.columns]
    return out[cols + [c for c in out.columns if c not in cols]]


def _check_spread(ref: pd.DataFrame) -> None:
    n = len(ref)
    if n < 2:
        raise ContractError(
            table="orders",
            column="customer_id",
            expected="at least 2 customers with orders in the window (RFM scores rank "
            "customers against each other)",
            found=f"{n} customer",
            fix="use a longer lookback, a later asof, or more data",
        )
    constant = [c for c in ("recency", "frequency", "monetary") if ref[c].nunique() == 1]
    if len(constant) == 3:
        row = ref.iloc[0]
        raise ContractError(
            table="orders",
            column="customer_id",
            expected="customers who differ in recency, frequency or monetary value",
            found=f"all {n:,} customers identical (recency {row['recency']} days, "
            f"{row['frequency']} orders, {row['monetary']:g} spent); every score would be 1",
            fix="check the data (a test fixture or a load that duplicated one customer?)",
        )
    for c in constant:
        warnings.warn(
            f"every customer has the same {c} ({ref[c].iloc[0]}); its score is 1 "
            "for all and carries no information",
            stacklevel=3,
        )


def rfm_table(
    customers: pd.DataFrame,
    *,
    rules: pd.DataFrame | str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Recency, frequency, monetary, their 1–5 scores and the segment of each customer.

    Parameters
    ----------
    customers
        :func:`shopbook.features.rfm.customer_rfm` output: one row per customer with
        ``customer_id``, ``recency``, ``frequency``, ``monetary`` (and ``first_order``,
        ``last_order``); its ``attrs`` say which window it covers.
    rules
        Segment rules: a path, a DataFrame, or ``None`` for the shipped file.

    Returns
    -------
    pandas.DataFrame
        One row per customer, in the order of ``customers``: ``customer_id, recency,
        frequency, monetary, r_score, f_score, m_score, fm_score, segment, layer,
        first_order, last_order``. ``attrs`` holds ``asof``, ``window_start`` (or
        ``None``) and ``statuses`` from ``customers``.

    Raises
    ------
    ContractError
        No customer bought in the window (the message says when the orders run); fewer
        than two customers; all customers identical.
    """
    if customers.empty:
        raise empty_window_error(customers)
    out = score(customers, rules=load_rules(rules))
    out.attrs = {k: v for k, v in customers.attrs.items() if k != "order_span"}
    return out


__all__ = ["RFM_COLUMNS", "assign", "fm_scores", "quintile_scores", "rfm_table", "score"]
