"""Which purchase model fits better: the comparison table and its verdict (by AIC)."""

from __future__ import annotations

import pandas as pd

from shopbook.analysis.clv.base import _Fit


def model_comparison(*fits: _Fit) -> pd.DataFrame:
    """Fitted models side by side.

    Parameters
    ----------
    *fits
        Fitted models (e.g. :class:`~shopbook.analysis.clv.BGNBDFit` and
        :class:`~shopbook.analysis.clv.ParetoNBDFit` on the same summary).

    Returns
    -------
    pandas.DataFrame
        One row per fit, in the order given: ``model``, ``log-likelihood``, ``AIC``
        (lower is better) and ``parameters`` (the estimates as a dict).
    """
    return pd.DataFrame(
        {
            "model": [f.model for f in fits],
            "log-likelihood": [f.log_likelihood for f in fits],
            "AIC": [f.aic for f in fits],
            "parameters": [f.params for f in fits],
        }
    )


def aic_verdict(candidate: _Fit, reference: _Fit) -> str:
    """Whether ``candidate`` fits ``"better"`` or ``"no better"`` than ``reference``.

    By AIC (lower is better; a tie is "no better"), so models with different numbers of
    parameters compare fairly. Both must be fitted on the same customers.
    """
    return "better" if candidate.aic < reference.aic else "no better"
