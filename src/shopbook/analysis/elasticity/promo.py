"""Demand uplift by discount depth and the dip after a promotion: :func:`promo_response`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shopbook.analysis.elasticity._common import (
    alias,
    fe_columns,
    need,
    numeric_controls,
    period_index,
)
from shopbook.analysis.elasticity._fe import fe_ols
from shopbook.analysis.result import Result
from shopbook.i18n import _

#: Default discount-depth band edges (fractions off the list price).
DEFAULT_DEPTH_BINS = (0.05, 0.15, 0.25, 0.35)


def depth_bins(threshold: float = DEFAULT_DEPTH_BINS[0]) -> tuple[float, ...]:
    """Depth band edges starting at the promotion ``threshold`` (then 15 %, 25 %, 35 % off)."""
    return (threshold, *DEFAULT_DEPTH_BINS[1:])


#: Section of a :class:`PromoResponse` about the depth bands (skipped when none has an estimate).
DEPTH = "depth"

#: Columns of :attr:`PromoResponse.table`.
PROMO_COLUMNS = [
    "term",
    "kind",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "uplift",
    "uplift_low",
    "uplift_high",
    "n_rows",
]


@dataclass
class PromoResponse(Result):
    """Uplift per discount-depth band and per period after a promotion.

    Attributes
    ----------
    table
        Rows ``term``, ``kind`` (``depth`` or ``post``), ``estimate`` (log points),
        ``se``, ``ci_low``, ``ci_high``, ``uplift`` (``exp(estimate) − 1``),
        ``uplift_low``, ``uplift_high``, ``n_rows``.
    notes
        Rows set aside and terms not identified.
    problems
        ``ok()`` is false when no term could be estimated; ``ok("depth")`` also when no
        discount band has an estimate (:meth:`deepest` is then ``None``).
    """

    def deepest(self) -> pd.Series | None:
        """The deepest discount band with an estimate (``None`` when there is none)."""
        t = self.table
        rows = t[(t["kind"] == "depth") & t["uplift"].notna()]
        return rows.iloc[-1] if len(rows) else None

    def after(self, k: int = 1) -> pd.Series:
        """The row of the ``k``-th period after a promotion."""
        return self.table[self.table["kind"] == "post"].iloc[k - 1]

    def pulled_forward(self, k: int = 1) -> bool:
        """Whether units dip clearly ``k`` periods after a promotion (interval below zero).

        A clear dip means the promotion moved sales forward (customers stocked up)
        rather than adding them.
        """
        return bool(self.after(k)["uplift_high"] < 0)


def promo_response(
    panel: pd.DataFrame,
    quantity: str,
    entity: str,
    time: str,
    depth: str = "discount_depth",
    bins: Sequence[float] = DEFAULT_DEPTH_BINS,
    post_periods: int = 2,
    controls: Sequence[str] = (),
    fixed_effects: Sequence[str] = ("entity", "time"),
    cluster: str | None = "entity",
    level: float = 0.95,
) -> PromoResponse:
    """Demand uplift by discount depth, and the dip after a promotion ends.

    Fits ``log q = Σ_b u_b · [depth in band b] + Σ_k d_k · [k periods after a promo]
    + fixed effects`` with clustered SEs. Band edges ``bins`` split depth into "no
    promo" (below the first edge, the baseline) and bands up to the last edge and beyond.
    A row is "k periods after a promo" when it is not itself on promotion and the
    entity's promotion ended k periods earlier (by calendar, not by row).

    Parameters
    ----------
    panel
        Entity × period rows with ``quantity``, ``entity``, ``time`` and ``depth``
        (fraction off the list price, 0–1).
    bins
        Increasing depth edges; the first is the promo threshold.
    post_periods
        How many periods after a promotion get their own dip term.
    controls
        Further regressors (e.g. :func:`demand_history`, so promotions timed to demand
        peaks do not pass for uplift). Rows with a missing control are set aside.

    Returns
    -------
    PromoResponse
        ``table`` (one row per depth band and post-promotion period) and ``notes``.
    """
    need(panel, [quantity, entity, time, depth, *controls])
    df = panel.copy()
    notes: list[str] = []
    # lags are read from every row with a promotion, before any row is set aside
    pidx_all, unit = period_index(df[time])
    on_promo = df[depth].astype(float).fillna(0.0) >= bins[0]
    promo_keys = set(zip(df.loc[on_promo, entity], pidx_all[on_promo], strict=True))
    df["_pidx"] = pidx_all.to_numpy()
    df = _usable(df, quantity, depth, controls, notes)
    terms, kinds, counts = _depth_terms(df, depth, bins)
    for k in range(1, post_periods + 1):
        col = f"{k} {unit}{'s' if k > 1 else ''} after promo"
        after = [
            (e, t - k) in promo_keys and all((e, t - j) not in promo_keys for j in range(0, k))
            for e, t in zip(df[entity], df["_pidx"], strict=True)
        ]
        df[col] = np.asarray(after, dtype=float)
        terms.append(col)
        kinds.append("post")
        counts.append(int(df[col].sum()))
    df["_lq"] = np.log(df[quantity].astype(float))
    df, ctrl = numeric_controls(df, controls)
    fe_cols = fe_columns(fixed_effects, entity, time)
    cl = alias(cluster, entity, time)
    params, _info, more = fe_ols(df, "_lq", [*terms, *ctrl], fe_cols, cl, level)
    notes.extend(more)
    params = params.iloc[: len(terms)].copy()
    params["kind"] = kinds
    params["n_rows"] = counts
    params["term"] = [t.removeprefix("depth: ") for t in terms]
    for a, b in (("uplift", "estimate"), ("uplift_low", "ci_low"), ("uplift_high", "ci_high")):
        params[a] = np.expm1(params[b])
    res = PromoResponse(table=params[PROMO_COLUMNS], notes=notes)
    if not params["estimate"].notna().any():
        res.skip(notes[-1] if notes else "no discount depth or post-promotion term estimated")
    if res.deepest() is None:
        res.skip("no discount band has an estimate", section=DEPTH)
    return res


def _usable(
    df: pd.DataFrame, quantity: str, depth: str, controls: Sequence[str], notes: list[str]
) -> pd.DataFrame:
    """Rows with a positive quantity, a depth and every control (the rest counted in notes)."""
    bad = ~(pd.to_numeric(df[quantity], errors="coerce") > 0) | df[depth].isna()
    if bad.any():
        notes.append(
            f"{int(bad.sum()):,} rows with {quantity} ≤ 0 or no {depth} set aside (log undefined)."
        )
    if controls:
        miss = df[list(controls)].isna().any(axis=1) & ~bad
        if miss.any():
            notes.append(
                _("{n:,} rows with a missing control set aside.").format(n=int(miss.sum()))
            )
        bad |= miss
    return df[~bad].copy()


def _depth_terms(
    df: pd.DataFrame, depth: str, bins: Sequence[float]
) -> tuple[list[str], list[str], list[int]]:
    """One 0/1 column per depth band (added to ``df``): names, kinds and row counts."""
    edges = list(bins)
    labels = []
    for a, b in zip(edges[:-1], edges[1:], strict=False):
        labels.append(f"{a:.0%}–{b:.0%} off")
    labels.append(f"≥{edges[-1]:.0%} off")
    d = df[depth].astype(float)
    band = pd.Series(pd.NA, index=df.index, dtype=object)
    for i, lab in enumerate(labels):
        lo_ = edges[i]
        hi_ = edges[i + 1] if i + 1 < len(edges) else np.inf
        band[(d >= lo_) & (d < hi_)] = lab
    terms, kinds, counts = [], [], []
    for lab in labels:
        col = f"depth: {lab}"
        df[col] = (band == lab).astype(float)
        terms.append(col)
        kinds.append("depth")
        counts.append(int(df[col].sum()))
    return terms, kinds, counts
