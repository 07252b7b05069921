"""Experiments: their windows and the pdp_v2 counterfactual (treated units' outcomes had
they been in control)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopbook.data.synthetic.clock import _Calendar, _monday_on_or_after
from shopbook.data.synthetic.customers import _alive, _Customers
from shopbook.data.synthetic.funnel import _Funnel, _stages
from shopbook.data.synthetic.parameters import EXPERIMENTS


@dataclass
class _Exp:
    name: str
    w0: int  # first day (inclusive)
    w1: int  # last day + 1
    share: float
    lift: float


def _experiment_windows(cal: _Calendar) -> list[_Exp]:
    out = []
    for name, e in EXPERIMENTS.items():
        w0 = _monday_on_or_after(cal, int(round(e["start"] * cal.n)))
        length = min(e["days"], max(14, int(e["max_share"] * cal.n) // 7 * 7))  # whole weeks
        w1 = min(w0 + length, cal.n)
        out.append(_Exp(name, w0, w1, e["treatment_share"], e["lift"]))
    return out


def _pdp_counterfactual(
    vc: np.ndarray,
    t: np.ndarray,
    ch: np.ndarray,
    dev: np.ndarray,
    uu: np.ndarray,
    stage: np.ndarray,
    keep: np.ndarray,
    treat_visit: np.ndarray,
    boost: np.ndarray,
    funnel: _Funnel,
    cust: _Customers,
    asg: dict[str, np.ndarray],
    pdp: _Exp,
) -> dict[str, float]:
    """pdp_v2's treated units' orders in the window after assignment, and the same had they
    been in control (the same uniforms through the control funnel, dropout re-run)."""
    treated = asg["cust"][asg["treat"]]
    if treated.size == 0:
        return {
            "treated_units": 0,
            "orders": 0,
            "orders_if_control": 0,
            "converted_units": 0,
            "converted_units_if_control": 0,
        }
    assigned_at = np.full(cust.n, np.inf)
    assigned_at[treated] = asg["t"][asg["treat"]]
    sel = np.flatnonzero(np.isin(vc, treated))
    v, tt = vc[sel], t[sel]
    # the same boosts (coupon, upgrades as they happened) without the treatment's
    b_cf = np.where(treat_visit[sel], boost[sel] / (1.0 + pdp.lift), boost[sel])
    st_cf = np.where(
        treat_visit[sel], _stages(funnel, ch[sel], dev[sel], uu[sel], b_cf), stage[sel]
    )
    # re-run the dropout within this subset (its visits are contiguous per customer)
    _, local = np.unique(v, return_inverse=True)
    keep_cf = _alive(local.astype(np.int64), st_cf == 4, cust.J[np.unique(v)], int(local.max()) + 1)
    window = (tt >= assigned_at[v]) & (tt < pdp.w1)
    real = window & keep[sel] & (stage[sel] == 4)
    cf = window & keep_cf & (st_cf == 4)
    return {
        "treated_units": int(treated.size),
        "orders": int(real.sum()),
        "orders_if_control": int(cf.sum()),
        "converted_units": int(np.unique(v[real]).size),
        "converted_units_if_control": int(np.unique(v[cf]).size),
    }
