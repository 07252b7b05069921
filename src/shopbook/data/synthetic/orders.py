"""Orders: the first order of each customer and every buying visit, with its Gamma-Gamma
net amount."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopbook.data.synthetic.customers import _Customers
from shopbook.data.synthetic.sampling import _minutes
from shopbook.data.synthetic.visits import _Visits


@dataclass
class _Orders:
    cust: np.ndarray
    t: np.ndarray
    ch: np.ndarray
    dev: np.ndarray
    first: np.ndarray  # bool: the customer's first order
    start: np.ndarray  # start of the order's session
    z: np.ndarray  # net amount in cents (Gamma-Gamma)
    day: np.ndarray


def _orders(cust: _Customers, vis: _Visits, rng: np.random.Generator) -> _Orders:
    buy = vis.stage == 4
    n_rep = int(buy.sum())
    N = cust.n
    c = np.concatenate([np.arange(N, dtype=np.int32), vis.cust[buy]])
    t = np.concatenate([cust.t0, vis.order_t[buy]])
    start = np.concatenate([np.maximum(cust.t0 - _minutes(rng, N), 0.0), vis.t[buy]])
    ch = np.concatenate([cust.channel, vis.ch[buy]])
    dev = np.concatenate(
        [np.zeros(N, np.int8), vis.dev[buy]]
    )  # first-order devices filled by the caller
    first = np.concatenate([np.ones(N, bool), np.zeros(n_rep, bool)])
    zc = np.concatenate([vis.z0, vis.z[buy]])  # drawn in the visit layer (the tier reviews)
    o = np.lexsort((first.astype(np.int8) * -1, t))
    c, t, ch, dev, first, start, zc = c[o], t[o], ch[o], dev[o], first[o], start[o], zc[o]
    return _Orders(c, t, ch, dev, first, start, zc, np.floor(t).astype(np.int64))
