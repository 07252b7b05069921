"""The carry-over and saturation transforms of a channel's spend.

* **Geometric adstock**, normalised: ``A(t) = (1 − λ)·S(t) + λ·A(t − 1)``. Its weights
  ``(1 − λ)·λ^l`` sum to 1, so a steady spend ``S`` gives ``A = S`` and the adstock is in
  the spend's own unit (CNY per day). This is pymc-marketing's ``geometric_adstock`` with
  ``normalize=True`` and an unbounded ``l_max``, and Robyn's ``adstock_geometric``
  (``x_decayed[t] = x[t] + θ·x_decayed[t − 1]``) times ``1 − θ``.
* **Hill saturation**: ``h(A) = A^s / (A^s + K^s)`` — half of the maximum at ``A = K``;
  pymc-marketing's ``hill_function(x, slope=s, kappa=K)`` and Robyn's ``saturation_hill``
  with its inflexion point as ``K``. Shape ``s = 1`` is the Michaelis–Menten curve the
  budget model fits.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.signal import lfilter

__all__ = ["adstock_decay_derivative", "geometric_adstock", "hill"]


def geometric_adstock(
    spend: np.ndarray, decay: float, initial: Literal["steady", "zero"] = "steady"
) -> np.ndarray:
    """Normalised geometric adstock of a spend series (along the first axis).

    Parameters
    ----------
    spend
        Spend per period, 1-D (or 2-D: periods × series, one decay for all).
    decay
        λ in [0, 1): the share of the previous period's adstock carried over.
    initial
        ``"steady"``: before the first period the spend was steady at its first value
        (``A(0) = S(0)``); ``"zero"``: nothing was spent before (``A(0) = (1 − λ)·S(0)``).

    Returns
    -------
    numpy.ndarray
        The adstock, same shape and unit as ``spend``.
    """
    x = np.asarray(spend, dtype=float)
    lam = float(decay)
    if initial == "zero":
        return lfilter([1.0 - lam], [1.0, -lam], x, axis=0)
    zi = lam * x[:1]
    out, _ = lfilter([1.0 - lam], [1.0, -lam], x, axis=0, zi=zi)
    return out


def adstock_decay_derivative(spend: np.ndarray, adstock: np.ndarray, decay: float) -> np.ndarray:
    """∂A/∂λ of :func:`geometric_adstock` with ``initial="steady"`` (1-D series).

    From ``A(t) = (1 − λ)S(t) + λA(t − 1)``: ``D(t) = A(t − 1) − S(t) + λD(t − 1)``, ``D(0) = 0``.
    """
    u = np.zeros_like(adstock)
    u[1:] = adstock[:-1] - spend[1:]
    return lfilter([1.0], [1.0, -float(decay)], u)


def hill(x: np.ndarray, half_saturation: float, shape: float = 1.0) -> np.ndarray:
    """Hill saturation ``x^s / (x^s + K^s)`` of a non-negative input (0 at 0, ½ at K)."""
    x = np.asarray(x, dtype=float)
    if shape == 1.0:
        return x / (x + half_saturation)
    xs = np.power(x, shape)
    return xs / (xs + half_saturation**shape)
