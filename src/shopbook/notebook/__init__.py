"""Helpers used inside notebooks: key figures, safe sentences, safe tables, pseudonyms.

Every notebook imports these instead of formatting data into Markdown or HTML itself::

    from shopbook.notebook import headline, md, open_report, setup, show, skipped

    setup(lang=lang, show_pii=show_pii)            # theme + defaults, once, after parameters
    report = open_report("01_kpi_brief", source, mapping)   # validate what 01 reads
    headline("orders_kept", 12345, unit="orders")  # a key figure the runner collects
    md("Orders run from **{first}** to **{last}**.", first=d0, last=d1)
    show(top_products)                             # escaped, ids pseudonymised, floats tidy
    skipped("Funnel", "no sessions table in the source")

Why
---
*Shared HTML is a publication* (DESIGN §6). A product named ``<script>alert(1)</script>``
must render as text, a customer id must not leave the building unless a parameter says
so, and a report's key figures must reach the run index without side files. This package
is the one place where that is done, one module per job:

* :mod:`~shopbook.notebook.session` — :func:`setup` (theme, language, ``show_pii``).
* :mod:`~shopbook.notebook.loading` — :func:`open_report`, :func:`resolve_source`.
* :mod:`~shopbook.notebook.formatting` — :func:`format_value`, :func:`escape`, :func:`md`.
* :mod:`~shopbook.notebook.outputs` — :func:`headline` and :func:`skipped`, displayed
  with MIME types the runner reads back.
* :mod:`~shopbook.notebook.tables` — :func:`show`, :func:`formatted`, :func:`styled`: the
  one formatting layer (escaped, pseudonymised, each column by its kind and label from
  :mod:`~shopbook.notebook.columns`; interactive offline itables for long tables).
* :mod:`~shopbook.notebook.pii` — :func:`pseudonymise` (keyed HMAC-SHA256, 64 bits shown,
  of every id-like column; the key is ``SHOPBOOK_PII_SALT`` or a per-installation key file
  outside the project, see :func:`pseudonym_key`).
"""

from shopbook.notebook import columns
from shopbook.notebook.formatting import Markdown, escape, format_value, md, plain_value
from shopbook.notebook.loading import DATA_HEALTH, open_report, report_tables, resolve_source
from shopbook.notebook.outputs import HEADLINE_MIME, SKIPPED_MIME, headline, skipped
from shopbook.notebook.pii import (
    PII_COLUMNS,
    PseudonymKeyError,
    WeakKeyWarning,
    key_warning,
    pii_kind,
    pseudonym,
    pseudonym_key,
    pseudonymise,
)
from shopbook.notebook.session import NotebookParameterError, setup
from shopbook.notebook.tables import formatted, get_currency, prepare, set_currency, show, styled

__all__ = [
    "DATA_HEALTH",
    "HEADLINE_MIME",
    "PII_COLUMNS",
    "SKIPPED_MIME",
    "Markdown",
    "NotebookParameterError",
    "PseudonymKeyError",
    "WeakKeyWarning",
    "columns",
    "escape",
    "formatted",
    "get_currency",
    "format_value",
    "headline",
    "key_warning",
    "md",
    "open_report",
    "pii_kind",
    "plain_value",
    "prepare",
    "pseudonym",
    "pseudonym_key",
    "pseudonymise",
    "report_tables",
    "resolve_source",
    "set_currency",
    "setup",
    "show",
    "styled",
    "skipped",
]
