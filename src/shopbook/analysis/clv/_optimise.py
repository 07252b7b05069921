"""Maximum-likelihood machinery of the BTYD fits: L-BFGS-B, Newton polish, Hessians."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import optimize

from shopbook.analysis.clv.base import _LOG_BOUND, FitError


def _hessian_from_grad(
    grad: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, g0: np.ndarray | None = None
) -> np.ndarray:
    """Hessian by differences of an analytic gradient (relative steps).

    Central differences; with ``g0`` (the gradient at ``theta``) forward differences,
    half the evaluations — accurate to ~1e-5 relative, ample for standard errors.
    """
    k = len(theta)
    H = np.empty((k, k))
    for j in range(k):
        h = 1e-5 * max(abs(theta[j]), 1e-8)
        up = theta.copy()
        up[j] += h
        if g0 is not None:
            H[:, j] = (grad(up) - g0) / h
        else:
            dn = theta.copy()
            dn[j] -= h
            H[:, j] = (grad(up) - grad(dn)) / (2 * h)
    return (H + H.T) / 2


def _hessian_fd(f: Callable[[np.ndarray], float], theta: np.ndarray) -> np.ndarray:
    """Hessian of a scalar function by second-order central differences."""
    k = len(theta)
    h = 1e-4 * np.maximum(np.abs(theta), 1e-8)
    H = np.empty((k, k))
    f0 = f(theta)
    for i in range(k):
        for j in range(i, k):
            if i == j:
                up, dn = theta.copy(), theta.copy()
                up[i] += h[i]
                dn[i] -= h[i]
                H[i, i] = (f(up) - 2 * f0 + f(dn)) / h[i] ** 2
            else:
                pp, pm, mp, mm = (theta.copy() for _ in range(4))
                pp[i] += h[i]
                pp[j] += h[j]
                pm[i] += h[i]
                pm[j] -= h[j]
                mp[i] -= h[i]
                mp[j] += h[j]
                mm[i] -= h[i]
                mm[j] -= h[j]
                H[i, j] = H[j, i] = (f(pp) - f(pm) - f(mp) + f(mm)) / (4 * h[i] * h[j])
    return H


def _central_grad(f: Callable[[np.ndarray], float], z: np.ndarray) -> np.ndarray:
    g = np.empty_like(z)
    for i in range(len(z)):
        h = 1e-6 * max(1.0, abs(z[i]))
        up, dn = z.copy(), z.copy()
        up[i] += h
        dn[i] -= h
        g[i] = (f(up) - f(dn)) / (2 * h)
    return g


def _optimise(
    model: str,
    names: Sequence[str],
    negll: Callable[[np.ndarray], float],
    negll_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]] | None,
    starts: Sequence[np.ndarray],
    scale: float,
    max_iter: int,
    ftol: float = 1e-14,
    gtol: float = 1e-9,
) -> tuple[optimize.OptimizeResult, tuple[str, ...]]:
    """Minimise the mean negative log-likelihood over log-parameters ``z``.

    ``negll_and_grad`` (when the model has an analytic gradient) returns the value and
    the gradient from one pass over the data. Every start in ``starts`` is run (the
    caller's, then the default) and the best optimum kept, so a poor user-supplied start
    cannot trap the fit in a flat region.
    """
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(names)

    target: Callable[[np.ndarray], Any]
    use_jac: Any  # True (the target returns the gradient too) or the gradient function
    if negll_and_grad is not None:

        def objective(z):
            f, g = negll_and_grad(z)
            return f / scale, g / scale

        def fun(z):
            return objective(z)[0]

        def jac(z):
            return objective(z)[1]

        target, use_jac = objective, True
    else:

        def fun(z):
            return negll(z) / scale

        def jac(z):
            return _central_grad(fun, z)

        target, use_jac = fun, jac
    best = None
    for z0 in starts:
        with np.errstate(all="ignore"):
            if not np.isfinite(fun(z0)):
                continue
            res = optimize.minimize(
                target,
                z0,
                jac=use_jac,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": max_iter, "ftol": ftol, "gtol": gtol},
            )
            if not res.success:
                # A second pass restarts the curvature estimate: L-BFGS-B sometimes stops
                # early in the line search on the flat BTYD likelihood surfaces.
                res2 = optimize.minimize(
                    target,
                    res.x,
                    jac=use_jac,
                    method="L-BFGS-B",
                    bounds=bounds,
                    options={"maxiter": max_iter, "ftol": ftol / 10, "gtol": gtol / 10},
                )
                if np.isfinite(res2.fun) and res2.fun <= res.fun:
                    res = res2
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun - 1e-12):
            best = res
    if best is None:
        raise FitError(
            f"{model}: the log-likelihood is not finite at the start values; pass start=."
        )
    res = best
    if not res.success:
        # L-BFGS-B often stops with "ABNORMAL" in the line search when it sits at the
        # optimum and the gradient is numerical; judge convergence by the gradient itself.
        with np.errstate(all="ignore"):
            g = np.asarray(jac(res.x))
        free = np.abs(res.x) < _LOG_BOUND - 1e-3
        if np.all(np.isfinite(g)) and np.max(np.abs(g[free]), initial=0.0) < 1e-5:
            res.success = True
            res.message = f"{res.message} (gradient ≈ 0 at the solution: converged)"
    at_bound = tuple(n for n, z in zip(names, res.x, strict=True) if abs(z) > _LOG_BOUND - 1e-3)
    return res, at_bound


def _newton_polish(
    ll_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    theta: np.ndarray,
    hessian: np.ndarray,
    scale: float,
    max_iter: int = 30,
) -> optimize.OptimizeResult | None:
    """Maximise a log-likelihood by Newton steps with a fixed (approximate) Hessian.

    Used after a fit on a subset: its Hessian, rescaled to the full data, is close to the
    full one, so each step gains digits and only the gradient is evaluated on the full
    data. Returns ``None`` (the caller falls back to L-BFGS-B) when the Hessian is not
    negative definite or the steps stop improving before converging.
    """
    if not np.all(np.isfinite(hessian)) or np.linalg.eigvalsh(-hessian).min() <= 0:
        return None
    with np.errstate(all="ignore"):
        f, g = ll_and_grad(theta)
    if not np.isfinite(f):
        return None
    for _ in range(max_iter):
        step = -np.linalg.solve(hessian, g)
        t = 1.0
        while True:
            new = theta + t * step
            if np.all(new > 0):
                with np.errstate(all="ignore"):
                    f_new, g_new = ll_and_grad(new)
                if np.isfinite(f_new) and f_new >= f - 1e-12 * abs(f):
                    break
            t /= 2
            if t < 1e-4:
                return None
        done = np.max(np.abs(t * step) / theta) < 1e-8
        theta, f, g = new, f_new, g_new
        if done:
            z = np.log(theta)
            if np.any(np.abs(z) > _LOG_BOUND):
                return None
            return optimize.OptimizeResult(
                x=z,
                fun=-f / scale,
                grad=g,
                success=True,
                message="Newton steps from a fit on a subset",
            )
    return None
