"""Whether RFM segments (and the CRM lists made from them) mean anything on this data.

RFM names customers by three scores; the segment grid (R × FM, FM = ⌈(F + M) / 2⌉)
reads frequency through the F score. When the F score is the same for everyone, the
named segments and every list made from them rank customers on recency and money alone
while carrying names that promise more (*Loyal*, *Champions*, *Can't Lose Them* need an
FM of 4 or 5, which a constant F of 1 cannot reach unless M is 5, and then only
*half* the value score is measured). :func:`relevance` says when that is so.

The threshold is derived from the tie rule, not chosen
------------------------------------------------------
A customer's F score is ``1 + ⌊5 × w / n⌋`` where ``w`` is the number of customers with
strictly fewer orders and ``n`` all customers
(:func:`~shopbook.analysis.rfm.scores.quintile_scores`).
A score above 1 needs ``w ≥ n / 5``. So **the F score separates customers exactly when the
customers with fewer orders than the most frequent buyers number at least ⌈n / 5⌉**
(:func:`f_step`). Two distinct frequencies are necessary but not sufficient: with 90 %
two-time and 10 % one-time buyers every F is still 1.

For the usual shape — most customers bought once — that means at least one repeat buyer
while the one-time buyers are at least a fifth of the customers. With fewer than ⌈n / 5⌉
repeat buyers F takes two values only (1 and one higher score) and says nothing but
"came back or not"; the segments are then kept with a note saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from shopbook.analysis.result import Result
from shopbook.analysis.rfm._common import LEVELS
from shopbook.analysis.rfm.scores import quintile_scores


def f_step(customers: int, levels: int = LEVELS) -> int:
    """⌈n / levels⌉: how many customers one must out-buy for an F score above 1."""
    return -(-int(customers) // levels)


@dataclass(kw_only=True)
class Relevance(Result):
    """Whether the F score separates customers (:func:`relevance`).

    Attributes
    ----------
    customers
        Customers with a counted order.
    repeat_buyers
        Customers with more than one counted order.
    step
        ⌈customers / 5⌉: the customers a buyer must have more orders than for an F
        score above 1 (:func:`f_step`).
    separated
        Customers whose F score is above 1.
    f_scores
        The distinct F scores held.
    """

    customers: int = 0
    repeat_buyers: int = 0
    step: int = 0
    separated: int = 0
    f_scores: tuple[int, ...] = ()

    @property
    def one_time_share(self) -> float:
        """Share of the customers who bought once (NaN without customers)."""
        return 1 - self.repeat_buyers / self.customers if self.customers else float("nan")


def relevance(customers: pd.DataFrame, levels: int = LEVELS) -> Relevance:
    """Whether RFM segments and CRM lists can be made from these customers.

    Parameters
    ----------
    customers
        :func:`shopbook.features.rfm.customer_rfm` output (one row per customer with a
        ``frequency`` column; ``attrs["asof"]`` names the day in the reasons).
    levels
        Score levels (5: quintiles).

    Returns
    -------
    Relevance
        Skipped (``why()``) when no customer bought, or when the F score is the same for
        every customer — with how many customers are needed and why. A note when F
        separates only repeat buyers from one-time buyers (fewer repeat buyers than one
        score step).
    """
    n = len(customers)
    asof = customers.attrs.get("asof")
    # the last day counted, so no day after the report's end is named
    last = (pd.Timestamp(asof) - pd.Timedelta(days=1)).date() if asof is not None else None
    before = f" up to {last}" if last is not None else ""
    orders_to = f" (orders up to {last})" if last is not None else ""
    if n == 0:
        return Relevance.skipped(
            f"no customer made a counted (paid) order{before}, so there is nobody to score"
        )
    if n == 1:
        return Relevance.skipped(
            f"only 1 customer made a counted (paid) order{before}; RFM scores rank customers "
            "against each other",
            customers=1,
        )
    freq = customers["frequency"].to_numpy()
    scores = quintile_scores(freq, levels=levels)
    held = tuple(int(s) for s in np.unique(scores))
    repeat = int((freq > 1).sum())
    step = f_step(n, levels)
    out = Relevance(
        customers=n,
        repeat_buyers=repeat,
        step=step,
        separated=int((scores > 1).sum()),
        f_scores=held,
    )
    top = int(freq.max())
    below_top = int((freq < top).sum())
    if len(held) < 2:
        need = (
            "; with one-time buyers making up at least that fifth, one repeat buyer is the "
            "least, and the more repeat buyers, the more F tells apart"
        )
        if repeat == 0:
            found = f"all {n:,} customers{orders_to} bought once (100% one-time buyers)"
        else:
            found = (
                f"only {below_top:,} of the {n:,} customers{orders_to} have fewer orders than the "
                f"most frequent ones ({top})"
            )
            need = ""
        return out.skip(
            f"{found}, so every F score is 1 and segments would rank customers on recency "
            "and money alone under names that promise frequency. RFM segments and CRM lists "
            "need repeat buyers: the F score rises above 1 only for a customer with more "
            f"orders than a fifth of all customers (here {step:,}){need}"
        )
    if repeat < step:
        out.note(
            f"Only {repeat:,} of {n:,} customers ({repeat / n:.1%}) bought more than once — "
            f"fewer than one F step (a fifth: {step:,}) — so the F score only tells repeat "
            "buyers from one-time buyers; segments that need a high F hold repeat buyers of "
            "any frequency."
        )
    return out


__all__ = ["Relevance", "f_step", "relevance"]
