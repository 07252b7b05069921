"""Compatibility path: the notebook helpers now live in :mod:`shopbook.notebook`.

Kept so ``from shopbook.report.notebook import …`` written before the move keeps
working; the integrator removes it once nothing imports it (new code imports
:mod:`shopbook.notebook`).
"""

from shopbook.notebook import (
    HEADLINE_MIME,
    PII_COLUMNS,
    SKIPPED_MIME,
    Markdown,
    escape,
    format_value,
    headline,
    md,
    open_report,
    prepare,
    pseudonym,
    pseudonymise,
    resolve_source,
    setup,
    show,
    skipped,
)

__all__ = [
    "HEADLINE_MIME",
    "PII_COLUMNS",
    "SKIPPED_MIME",
    "Markdown",
    "escape",
    "format_value",
    "headline",
    "md",
    "open_report",
    "prepare",
    "pseudonym",
    "pseudonymise",
    "resolve_source",
    "setup",
    "show",
    "skipped",
]
