"""Pseudonymous ids: a personal id must not leave the building unless a parameter says so.

:func:`pseudonymise` replaces every id-like column — customer, visitor, experiment unit,
session and order ids (a CDNOW-style order id embeds the customer id) — with a keyed hash,
``c_`` + 16 hex digits (64 bits) of HMAC-SHA256 of the id.

The key
-------
* ``SHOPBOOK_PII_SALT``, when it is set. An empty value is an error (it used to mean a
  default, which made every pseudonym reversible).
* Otherwise a per-installation secret, created on first use with mode 0600 in
  ``SHOPBOOK_PII_KEY_FILE``, else ``$XDG_CONFIG_HOME/shopbook/pii.key``, else
  ``~/.config/shopbook/pii.key`` — outside the repository and the reports folder (a key
  file inside either is refused), and reused afterwards.

There is no key in the source: without the key, a published pseudonym of a guessable id
(``1``, ``2``, … or ``00042``) cannot be recovered by hashing every candidate. A key of
fewer than :data:`MIN_KEY_CHARS` characters can itself be guessed: it gives a
:class:`WeakKeyWarning` and a visible note in the report (:func:`key_warning`, shown by
:func:`~shopbook.notebook.setup`). The same id maps to the same pseudonym under one key
(joins and counts still work); another installation's key gives other pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from shopbook.notebook.session import flag, show_pii_default

#: Columns treated as personal identifiers (and names ending in them, e.g. ``first_order_id``).
PII_COLUMNS: tuple[str, ...] = ("customer_id", "visitor_id", "unit_id", "session_id", "order_id")
#: Pseudonym prefix per identifier column; other columns a caller names get ``id_``.
PII_PREFIX: dict[str, str] = {
    "customer_id": "c_",
    "visitor_id": "v_",
    "unit_id": "u_",
    "session_id": "s_",
    "order_id": "o_",
}
#: Hex digits of the HMAC shown: 16 digits are 64 bits (no collision expected below ~10^9 ids).
PSEUDONYM_HEX = 16
#: Keys shorter than this many characters are weak: a warning in the report.
MIN_KEY_CHARS = 16
#: The environment variable holding the key, when set.
SALT_VARIABLE = "SHOPBOOK_PII_SALT"
#: The environment variable naming the key file used when ``SHOPBOOK_PII_SALT`` is unset.
KEY_FILE_VARIABLE = "SHOPBOOK_PII_KEY_FILE"


class PseudonymKeyError(ValueError):
    """The pseudonym key cannot be used (empty, unreadable, or stored where it is shared)."""


class WeakKeyWarning(UserWarning):
    """The pseudonym key is short enough to be guessed."""


@dataclass(frozen=True)
class PseudonymKey:
    """The key pseudonyms are computed with.

    Attributes
    ----------
    secret
        The key bytes.
    origin
        Where it came from, as a report may name it: ``"SHOPBOOK_PII_SALT"`` or
        ``"the key file"``.
    """

    secret: bytes
    origin: str

    @property
    def weak(self) -> bool:
        """Whether the key is shorter than :data:`MIN_KEY_CHARS` characters."""
        return len(self.secret) < MIN_KEY_CHARS


def key_file() -> Path:
    """The key file used when ``SHOPBOOK_PII_SALT`` is unset (it may not exist yet).

    ``SHOPBOOK_PII_KEY_FILE``, else ``$XDG_CONFIG_HOME/shopbook/pii.key``, else
    ``~/.config/shopbook/pii.key``.
    """
    if os.environ.get(KEY_FILE_VARIABLE):
        return Path(os.environ[KEY_FILE_VARIABLE]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "shopbook" / "pii.key"


def _shared_folders() -> list[tuple[str, Path]]:
    """Folders a key must not be stored in: the reports folder and the project."""
    from shopbook import config

    folders = [("the reports folder", config.reports_dir()), ("the project", config.home())]
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "pyproject.toml").exists():
        folders.append(("the Shopbook repository", checkout))
    if not os.environ.get("SHOPBOOK_HOME"):  # home() is the working directory then
        folders = [f for f in folders if f[0] != "the project"]
    return folders


def _shown(path: Path) -> str:
    """A path as a message shows it: the home folder as ``~`` (reports name no home)."""
    try:
        return str(Path("~") / path.expanduser().relative_to(Path.home()))
    except ValueError:
        return str(path)


def _check_location(path: Path) -> None:
    resolved = path.expanduser().resolve()
    for what, folder in _shared_folders():
        if resolved.is_relative_to(folder.expanduser().resolve()):
            raise PseudonymKeyError(
                f"pseudonym key file {_shown(path)} lies inside {what} ({_shown(folder)}), "
                "where it can be "
                f"committed or published; set {KEY_FILE_VARIABLE} to a path outside it "
                "(default ~/.config/shopbook/pii.key)"
            )


def _create(path: Path) -> None:
    """Write a new random key to ``path`` (mode 0600) unless another process just did."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # never replaces a key another process created meanwhile
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def _file_key(path: Path) -> PseudonymKey:
    _check_location(path)
    if not path.exists():
        _create(path)
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise PseudonymKeyError(
            f"cannot read the pseudonym key file {_shown(path)}: {exc.strerror or exc}; fix its "
            f"permissions or set {KEY_FILE_VARIABLE} to another path"
        ) from None
    if not secret:
        raise PseudonymKeyError(
            f"the pseudonym key file {_shown(path)} is empty: delete it (a new key is created on "
            "first use; pseudonyms then change) or write a long random secret into it"
        )
    return PseudonymKey(secret, "the key file")


_KEYS: dict[tuple[str | None, str], PseudonymKey] = {}


def pseudonym_key() -> PseudonymKey:
    """The key in use: ``SHOPBOOK_PII_SALT``, else the key file (created on first use).

    A weak key gives a :class:`WeakKeyWarning` the first time it is used.

    Raises
    ------
    PseudonymKeyError
        When ``SHOPBOOK_PII_SALT`` is set but empty, or the key file cannot be used.
    """
    salt = os.environ.get(SALT_VARIABLE)
    cache_key = (salt, str(key_file()) if salt is None else "")
    if cache_key in _KEYS:
        return _KEYS[cache_key]
    if salt is not None and not salt.strip():
        raise PseudonymKeyError(
            f"{SALT_VARIABLE} is set but empty: set it to a long random secret "
            "(python -c 'import secrets; print(secrets.token_hex(32))') or unset it to use "
            f"the per-installation key file {_shown(key_file())}"
        )
    key = PseudonymKey(salt.encode(), SALT_VARIABLE) if salt is not None else _file_key(key_file())
    _KEYS[cache_key] = key
    if key.weak:
        warnings.warn(key_warning(key) or "", WeakKeyWarning, stacklevel=2)
    return key


def key_warning(key: PseudonymKey | None = None) -> str | None:
    """The warning a report shows when pseudonyms use a weak key; ``None`` for a good key."""
    key = key or pseudonym_key()
    if not key.weak:
        return None
    return (
        f"pseudonyms use a weak key ({key.origin} holds {len(key.secret)} characters, fewer "
        f"than {MIN_KEY_CHARS}): the key can be guessed and the ids behind this report's "
        f"pseudonyms recovered; set {SALT_VARIABLE} to a long random secret, or unset it "
        "to use the per-installation key file"
    )


def pseudonym(value: Any, prefix: str = "c_") -> Any:
    """The pseudonym of one id: ``prefix`` + 16 hex digits of HMAC-SHA256 of the id.

    Missing values stay missing.
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return value
    digest = hmac.new(pseudonym_key().secret, str(value).encode("utf-8"), hashlib.sha256)
    return prefix + digest.hexdigest()[:PSEUDONYM_HEX]


def pii_kind(name: Any) -> str | None:
    """The identifier column of :data:`PII_COLUMNS` a column name denotes, if any.

    ``customer_id``, ``CustomerID``, ``Customer ID`` and ``first_customer_id`` all denote
    ``customer_id``; ``sku`` denotes none.
    """
    norm = re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")
    for col in PII_COLUMNS:
        if norm == col or norm.endswith("_" + col) or norm.replace("_", "") == col.replace("_", ""):
            return col
    return None


def _is_missing(v: Any) -> bool:
    return v is None or v != v  # noqa: PLR0124 - NaN and NA are not equal to themselves


def _map(values: pd.Series | pd.Index, name: Any) -> Any:
    prefix = PII_PREFIX.get(pii_kind(name) or "", "id_")
    base = hmac.new(pseudonym_key().secret, digestmod=hashlib.sha256)
    lookup = {}
    for v in pd.unique(values):
        if not _is_missing(v):
            h = base.copy()
            h.update(str(v).encode("utf-8"))
            lookup[v] = prefix + h.hexdigest()[:PSEUDONYM_HEX]
    return values.map(lambda v: v if _is_missing(v) else lookup.get(v, v))


def _personal(name: Any, columns: list[str]) -> bool:
    return name is not None and (name in columns or pii_kind(name) is not None)


def _pseudonymise_index(index: pd.Index, columns: list[str]) -> pd.Index:
    """The index with its personal levels replaced."""
    if not any(_personal(n, columns) for n in index.names):
        return index
    if isinstance(index, pd.MultiIndex):
        levels = [
            _map(index.get_level_values(i), n)
            if _personal(n, columns)
            else index.get_level_values(i)
            for i, n in enumerate(index.names)
        ]
        return pd.MultiIndex.from_arrays(levels, names=index.names)
    return pd.Index(_map(index, index.name), name=index.name)


def pseudonymise(
    data: pd.DataFrame | pd.Series,
    columns: Iterable[str] = PII_COLUMNS,
    show_pii: bool | str | None = None,
) -> pd.DataFrame | pd.Series:
    """Replace personal ids with stable keyed pseudonyms.

    Parameters
    ----------
    data
        A DataFrame or a Series (replaced as a whole; its name picks the prefix,
        ``c_`` when it names no id). In a DataFrame every column and index level that
        ``columns`` lists, or whose name denotes an id (:func:`pii_kind`: ``order_id``,
        ``Customer ID``, ``first_visitor_id``, …), is replaced; so are the column labels
        when the columns axis is named after an id.
    columns
        Further identifier columns; the default :data:`PII_COLUMNS`. Id-like columns are
        replaced whatever this says: only ``show_pii`` shows real ids.
    show_pii
        ``True`` (or ``"true"``) returns ``data`` unchanged. Default: the notebook's
        :func:`~shopbook.notebook.setup` setting (``False`` unless set).

    Returns
    -------
    DataFrame or Series
        A copy; the same id always maps to the same pseudonym under one key
        (:func:`pseudonym_key`), so joins and counts still work.

    Raises
    ------
    PseudonymKeyError
        When there is no usable key (``SHOPBOOK_PII_SALT`` set but empty, …).
    NotebookParameterError
        For a ``show_pii`` that is neither a bool nor ``"true"`` / ``"false"``.
    """
    if show_pii is None:
        show_pii = show_pii_default()
    if flag("show_pii", show_pii):
        return data
    cols = [columns] if isinstance(columns, str) else list(columns)
    if isinstance(data, pd.Series):
        name = data.name if pii_kind(data.name) else "customer_id"
        values = _map(data, name).astype(object)
        return pd.Series(values, index=_pseudonymise_index(data.index, cols), name=data.name)
    out = data.copy()
    for i, col in enumerate(out.columns):
        if _personal(col, cols):
            out.isetitem(i, _map(out.iloc[:, i], col).astype(object))
    out.index = _pseudonymise_index(out.index, cols)
    out.columns = _pseudonymise_index(out.columns, cols)
    return out
