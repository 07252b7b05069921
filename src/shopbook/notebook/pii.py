"""Pseudonymous ids: a customer id must not leave the building unless a parameter says so.

:func:`pseudonymise` replaces ids with a stable salted hash (``c_3f9a12b4e0``). The salt
comes from the environment variable ``SHOPBOOK_PII_SALT``; without it a fixed project
default is used, so pseudonyms are stable across runs and machines (which makes them
linkable between reports — set your own salt to make them unlinkable to ours).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from typing import Any

import pandas as pd

from shopbook.notebook.session import show_pii_default

#: Columns treated as personal identifiers by default.
PII_COLUMNS: tuple[str, ...] = ("customer_id", "visitor_id")
#: Pseudonym prefix per identifier column.
PII_PREFIX: dict[str, str] = {"customer_id": "c_", "visitor_id": "v_", "unit_id": "u_"}
#: Salt used when ``SHOPBOOK_PII_SALT`` is not set.
DEFAULT_SALT = "shopbook-pseudonym-v1"


def _salt() -> str:
    return os.environ.get("SHOPBOOK_PII_SALT") or DEFAULT_SALT


def pseudonym(value: Any, prefix: str = "c_") -> Any:
    """The pseudonym of one id: ``prefix`` + 10 hex digits of a salted BLAKE2b hash.

    Missing values stay missing.
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return value
    digest = hashlib.blake2b(str(value).encode(), key=_salt().encode()[:64], digest_size=5)
    return prefix + digest.hexdigest()


def _map(values: pd.Series | pd.Index, name: Any) -> Any:
    prefix = PII_PREFIX.get(str(name), "id_")
    uniq = pd.unique(values)
    lookup = {v: pseudonym(v, prefix) for v in uniq if not (v is None or v != v)}
    return values.map(lambda v: lookup.get(v, v) if not (v is None or v != v) else v)


def _pseudonymise_index(out: pd.DataFrame, columns: list[str]) -> None:
    """Replace the index levels named in ``columns`` (in place)."""
    if isinstance(out.index, pd.MultiIndex):
        levels = [
            _map(out.index.get_level_values(i), n)
            if n in columns
            else out.index.get_level_values(i)
            for i, n in enumerate(out.index.names)
        ]
        out.index = pd.MultiIndex.from_arrays(levels, names=out.index.names)
    else:
        out.index = pd.Index(_map(out.index, out.index.name), name=out.index.name)


def pseudonymise(
    data: pd.DataFrame | pd.Series,
    columns: Iterable[str] = PII_COLUMNS,
    show_pii: bool | None = None,
) -> pd.DataFrame | pd.Series:
    """Replace personal ids with stable salted pseudonyms.

    Parameters
    ----------
    data
        A DataFrame (the listed ``columns`` that it has are replaced; an index level
        with one of those names too) or a Series (replaced as a whole; its name picks
        the prefix).
    columns
        Identifier columns; default ``("customer_id", "visitor_id")``.
    show_pii
        ``True`` returns ``data`` unchanged. Default: the notebook's
        :func:`~shopbook.notebook.setup` setting (``False`` unless set).

    Returns
    -------
    DataFrame or Series
        A copy; the same id always maps to the same pseudonym (for a given
        ``SHOPBOOK_PII_SALT``), so joins and counts still work.
    """
    if show_pii is None:
        show_pii = show_pii_default()
    if show_pii:
        return data
    cols = [columns] if isinstance(columns, str) else list(columns)
    if isinstance(data, pd.Series):
        name = data.name if data.name in PII_PREFIX else "customer_id"
        return pd.Series(_map(data, name).astype(object), index=data.index, name=data.name)
    out = data.copy()
    for col in cols:
        if col in out.columns:
            out[col] = _map(out[col], col).astype(object)
    if any(n in cols for n in (out.index.names or [])):
        _pseudonymise_index(out, cols)
    return out
