"""Clusters of customers on transformed R, F and M, with k chosen by silhouette."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.result import Result
from shopbook.i18n import _

#: The clustering methods of :func:`cluster`.
METHODS: tuple[str, ...] = ("kmeans", "gmm")
#: The transforms of :func:`transform_rfm`.
TRANSFORMS: tuple[str, ...] = ("log", "boxcox")


@dataclass(kw_only=True)
class ClusterResult(Result):
    """The result of :func:`cluster` (a :class:`~shopbook.analysis.result.Result`).

    When the customers cannot be clustered (every value constant, no usable k) the
    result is skipped: ``ok()`` is false and ``why()`` says why.

    Attributes
    ----------
    table
        One row per candidate k: ``k``, ``silhouette`` (and ``bic`` for ``"gmm"``).
    labels
        Cluster per customer (``pd.Series`` of ints 1..k, index ``customer_id``).
        Clusters are numbered by value: 1 has the highest mean of standardised
        (−recency, frequency, monetary), so the numbering does not depend on the
        algorithm's arbitrary label order.
    k
        The chosen number of clusters (highest silhouette).
    silhouette
        Mean silhouette per candidate k (``pd.Series`` indexed by k).
    method, transform
        ``"kmeans"`` or ``"gmm"``; ``"log"`` or ``"boxcox"``.
    features
        The columns clustered (a column constant across customers is left out).
    bic
        For ``"gmm"``: BIC per k (lower is better), shown for reference.
    sample_size
        Customers the silhouette was computed on (a seeded sample when the data is larger).
    seed, lambdas
        The random seed; the Box-Cox λ per column (``"boxcox"`` only).
    """

    labels: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64", name="cluster"))
    k: int = 0
    silhouette: pd.Series = field(
        default_factory=lambda: pd.Series(dtype="float64", name="silhouette")
    )
    method: str = "kmeans"
    transform: str = "log"
    features: list[str] = field(default_factory=list)
    bic: pd.Series | None = None
    sample_size: int = 0
    seed: int = 0
    lambdas: dict[str, float] = field(default_factory=dict)


def transform_rfm(
    rfm: pd.DataFrame,
    transform: str = "log",
    columns: Sequence[str] = ("recency", "frequency", "monetary"),
) -> tuple[np.ndarray, list[str], dict[str, float]]:
    """The clustering matrix: transformed and standardised R, F, M.

    ``"log"`` is ``log(1 + x)``; ``"boxcox"`` is scipy's Box-Cox of ``1 + x`` with λ
    fitted per column by maximum likelihood (``1 +`` because monetary can be 0). Each
    column is then standardised (mean 0, sd 1). Constant columns are left out.

    Parameters
    ----------
    rfm
        One row per customer with the ``columns``.

    Returns
    -------
    (X, columns used, Box-Cox λ per column)
    """
    from scipy import stats
    from sklearn.preprocessing import StandardScaler

    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be 'log' or 'boxcox', not {transform!r}")
    used = [c for c in columns if rfm[c].nunique() > 1]
    if not used:
        raise ValueError("recency, frequency and monetary are all constant; nothing to cluster")
    cols, lambdas = [], {}
    for c in used:
        x = rfm[c].to_numpy(dtype="float64")
        if (x < 0).any():
            raise ValueError(f"{c} has negative values; RFM values are ≥ 0")
        if transform == "log":
            cols.append(np.log1p(x))
        else:
            y, lam = stats.boxcox(1.0 + x)
            cols.append(y)
            lambdas[c] = float(lam)
    X = StandardScaler().fit_transform(np.column_stack(cols))
    return X, used, lambdas


def _candidates(X: np.ndarray, k_range: Iterable[int]) -> tuple[list[int], str]:
    """The usable k of ``k_range`` and, when there is none, why."""
    n = len(X)
    distinct = len(np.unique(X, axis=0))
    ks = sorted({int(k) for k in k_range if 2 <= int(k) <= min(n - 1, distinct)})
    why = (
        ""
        if ks
        else f"no usable k in k_range: need 2 ≤ k ≤ {min(n - 1, distinct)} "
        f"({n:,} customers, {distinct:,} distinct RFM points)"
    )
    return ks, why


def _fit(X: np.ndarray, k: int, method: str, seed: int) -> tuple[np.ndarray, float | None] | None:
    """Labels (and BIC for a GMM) of one fit; ``None`` when fewer than 2 clusters are used."""
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    bic: float | None
    if method == "kmeans":
        labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(X).labels_
        bic = None
    else:
        model = GaussianMixture(
            n_components=k, covariance_type="full", random_state=seed, n_init=2
        ).fit(X)
        labels, bic = model.predict(X), float(model.bic(X))
    if len(np.unique(labels)) < 2:
        return None
    return labels, bic


def _fit_all(
    X: np.ndarray, ks: list[int], method: str, seed: int, m: int
) -> tuple[dict[int, float], dict[int, float], dict[int, np.ndarray]]:
    """Silhouette, BIC and labels per k (a k whose fit used one cluster is left out)."""
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits

    n = len(X)
    sil, bic, fits = {}, {}, {}
    # scikit-learn's KMeans runs OpenMP threads over chunks of 256 rows; on a few
    # thousand customers the threads' start-up and spin-waiting dominate, and on a busy
    # machine a fit took 100× longer (6 s instead of 0.03 s for 3,000 customers). One
    # thread up to 200,000 customers; above that the threads pay for themselves.
    with threadpool_limits(limits=1 if n <= 200_000 else None):
        for k in ks:
            label = _fit(X, k, method, seed)
            if label is None:
                continue
            labels, k_bic = label
            if k_bic is not None:
                bic[k] = k_bic
            sil[k] = float(
                silhouette_score(X, labels, sample_size=m if m < n else None, random_state=seed)
            )
            fits[k] = labels
    return sil, bic, fits


def _by_value(X: np.ndarray, used: list[str], raw: np.ndarray) -> np.ndarray:
    """Cluster numbers 1..k by value: mean of standardised (-recency, frequency, monetary)."""
    sign = np.array([-1.0 if c == "recency" else 1.0 for c in used])
    value = (X * sign).mean(axis=1)
    order = pd.Series(value).groupby(raw).mean().sort_values(ascending=False).index
    relabel = {old: new for new, old in enumerate(order, start=1)}
    return np.array([relabel[v] for v in raw], dtype="int64")


def cluster(
    rfm: pd.DataFrame,
    k_range: Iterable[int] = range(2, 9),
    seed: int = 0,
    *,
    method: str = "kmeans",
    transform: str = "log",
    sample_size: int = 3000,
) -> ClusterResult:
    """Cluster customers on transformed RFM and choose k by silhouette.

    Parameters
    ----------
    rfm
        One row per customer with ``customer_id``, ``recency``, ``frequency``,
        ``monetary`` (e.g. :func:`~shopbook.analysis.rfm.rfm_table`).
    k_range
        Candidate numbers of clusters (values outside 2..n−1 are skipped).
    seed
        Random seed: the same seed gives the same labels.
    method
        ``"kmeans"`` (scikit-learn ``KMeans``, 10 initialisations) or ``"gmm"``
        (``GaussianMixture``, full covariance).
    transform
        ``"log"`` or ``"boxcox"`` (see :func:`transform_rfm`).
    sample_size
        The silhouette is O(n²); above this many customers it is computed on a seeded
        random sample of this size (the same sample for every k).

    Returns
    -------
    ClusterResult
        Skipped (``ok()`` false, ``why()`` the reason) when R, F and M are all constant,
        no k of ``k_range`` is usable, or no fit used two or more clusters.

    Raises
    ------
    ValueError
        An unknown ``method`` or ``transform``, or negative values.
    """
    if method not in METHODS:
        raise ValueError(f"method must be 'kmeans' or 'gmm', not {method!r}")
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be 'log' or 'boxcox', not {transform!r}")
    settings: dict[str, Any] = {"method": method, "transform": transform, "seed": seed}
    columns = ("recency", "frequency", "monetary")
    if not any(rfm[c].nunique() > 1 for c in columns):
        return ClusterResult.skipped(
            "recency, frequency and monetary are all constant; nothing to cluster", **settings
        )
    X, used, lambdas = transform_rfm(rfm, transform, columns)
    ks, why = _candidates(X, k_range)
    if not ks:
        return ClusterResult.skipped(why, features=used, **settings)
    m = min(len(X), int(sample_size))
    sil, bic, fits = _fit_all(X, ks, method, seed, m)
    if not sil:
        return ClusterResult.skipped(
            "no candidate k gave two or more non-empty clusters", features=used, **settings
        )
    best = max(sil, key=lambda k: (sil[k], -k))  # ties → the smaller k
    labels = pd.Series(
        _by_value(X, used, fits[best]),
        index=pd.Index(rfm["customer_id"].astype(str), name="customer_id"),
        name="cluster",
        dtype="int64",
    )
    silhouette = pd.Series(sil, name="silhouette").rename_axis("k")
    bic_series = pd.Series(bic, name="bic").rename_axis("k") if bic else None
    table = silhouette.to_frame()
    if bic_series is not None:
        table = table.join(bic_series)
    return ClusterResult(
        table=table.reset_index(),
        labels=labels,
        k=best,
        silhouette=silhouette,
        features=used,
        bic=bic_series,
        sample_size=m,
        lambdas=lambdas,
        **settings,
    )


def _level(value: float, cuts: np.ndarray, words: tuple[str, str, str]) -> str:
    """``words[0]`` at or below the lower tercile ``cuts[0]``, ``words[2]`` at or above the
    upper one, else ``words[1]``."""
    lo, hi = cuts
    if value <= lo:
        return words[0]
    if value >= hi:
        return words[2]
    return words[1]


def _profile(med: pd.Series, q: dict[str, np.ndarray]) -> str:
    """A cluster's medians in words, against the customer base's terciles ``q``."""
    rec = _level(
        med["recency"],
        q["recency"],
        (_("bought recently"), _("bought a while ago"), _("bought long ago")),
    )
    if med["frequency"] <= 1:
        freq = _("one-time buyers")
    else:
        freq = _level(
            med["frequency"], q["frequency"], (_("occasional"), _("occasional"), _("frequent"))
        )
    spend = _level(
        med["monetary"], q["monetary"], (_("low spend"), _("mid spend"), _("high spend"))
    )
    return _("{recency}, {frequency}, {spend}").format(recency=rec, frequency=freq, spend=spend)


def _clusters_of(rfm: pd.DataFrame, result: ClusterResult) -> np.ndarray:
    if not result.ok():
        raise ValueError(f"the clustering was skipped: {result.why()}")
    return result.labels.reindex(rfm["customer_id"].astype(str)).to_numpy()


def cluster_profiles(rfm: pd.DataFrame, result: ClusterResult) -> pd.DataFrame:
    """Each cluster in numbers and in plain words, with the named segment it is mostly.

    Words compare a cluster's median with the customer base's terciles: recency
    "bought recently" / "a while ago" / "long ago"; frequency "one-time buyers" when
    the median customer bought once, else "occasional" / "frequent"; spend "low" /
    "mid" / "high".

    Parameters
    ----------
    rfm
        :func:`~shopbook.analysis.rfm.rfm_table` output (``customer_id``, ``recency``,
        ``frequency``, ``monetary``, ``segment``).
    result
        :func:`cluster` on the same customers.

    Returns
    -------
    pandas.DataFrame
        ``cluster, customers, customer_share, revenue_share, median_recency,
        median_frequency, median_monetary, profile, main_segment, main_segment_share``.
    """
    df = rfm.assign(cluster=_clusters_of(rfm, result))
    q = {c: df[c].quantile([1 / 3, 2 / 3]).to_numpy() for c in ("recency", "frequency", "monetary")}
    total = df["monetary"].sum()
    rows = []
    for k, part in df.groupby("cluster", sort=True):
        med = part[["recency", "frequency", "monetary"]].median()
        seg = part["segment"].astype(str).value_counts()
        rows.append(
            {
                "cluster": int(k),
                "customers": len(part),
                "customer_share": len(part) / len(df),
                "revenue_share": part["monetary"].sum() / total if total > 0 else np.nan,
                "median_recency": med["recency"],
                "median_frequency": med["frequency"],
                "median_monetary": med["monetary"],
                "profile": _profile(med, q),
                "main_segment": seg.index[0],
                "main_segment_share": seg.iloc[0] / len(part),
            }
        )
    return pd.DataFrame(rows)


def cluster_centers(rfm: pd.DataFrame, result: ClusterResult) -> pd.DataFrame:
    """Mean of each clustered feature per cluster, in the transformed, standardised units.

    Parameters
    ----------
    rfm
        The customers clustered (``customer_id`` and the clustered columns).
    result
        :func:`cluster` on them.

    Returns
    -------
    pandas.DataFrame
        Index ``cluster`` (1..k), columns the features (``recency``, ``frequency``,
        ``monetary``), values in standard deviations from the customer mean.
    """
    clusters = _clusters_of(rfm, result)
    X, used, _ = transform_rfm(rfm, result.transform, result.features)
    out = pd.DataFrame(X, columns=used).groupby(clusters).mean()
    out.index.name = "cluster"
    return out


def cluster_vs_segment(rfm: pd.DataFrame, result: ClusterResult) -> pd.DataFrame:
    """Customers per cluster (rows) × named segment (columns, best first, empty ones too).

    Parameters
    ----------
    rfm
        :func:`~shopbook.analysis.rfm.rfm_table` output (``customer_id``, ``segment``).
    result
        :func:`cluster` on the same customers.
    """
    clusters = _clusters_of(rfm, result)
    segments = rfm["segment"].reset_index(drop=True).rename("segment")
    return pd.crosstab(pd.Series(clusters, name="cluster"), segments, dropna=False)


def cluster_agreement(result: ClusterResult, other: ClusterResult) -> float:
    """How far two clusterings of the same customers agree, from 0 to 1.

    The share of customers who are in the ``other`` cluster that most of their
    ``result`` cluster is in (e.g. k-means against the Gaussian mixture alternative).
    1 means every cluster of ``result`` lies inside one cluster of ``other``.
    """
    if not (result.ok() and other.ok()):
        raise ValueError(f"a clustering was skipped: {result.why() or other.why()}")
    agree = pd.crosstab(result.labels, other.labels.reindex(result.labels.index))
    return float(agree.max(axis=1).sum() / len(result.labels))


__all__ = [
    "METHODS",
    "TRANSFORMS",
    "ClusterResult",
    "cluster",
    "cluster_agreement",
    "cluster_centers",
    "cluster_profiles",
    "cluster_vs_segment",
    "transform_rfm",
]
