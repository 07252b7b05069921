"""Secrets out of anything shared: the one set of redaction rules.

A shared report is a publication (DESIGN §6), and a source's address is shown in reports,
data-health tables and error messages. Everything that shows a URI or a parameter
passes it through these rules — :func:`shopbook.data.sources.open_source` (the address a
source reports), :mod:`shopbook.report.render` (executed notebooks, HTML) and
:mod:`shopbook.report.runs` (``summary.json``, source fingerprints):

* :func:`is_secret_name`: a parameter *name* that says its value is secret (password,
  token, key, secret, credential, auth, dsn…);
* :func:`secrets_in`: the secret *parts* of a value — the password of
  ``scheme://user:pass@host``, ``?password=…`` / ``?token=…`` query values, API-token
  shapes such as ``sk-…``, ``ghp_…``, ``AKIA…``, JWTs;
* :func:`redact_text` / :func:`redact_parameters` replace them with ``***``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "***"

_SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "api_key",
    "credential",
    "private_key",
    "access_key",
    "auth",
)
_SECRET_TOKENS = {"pwd", "pass", "key", "auth", "dsn", "pat", "jwt", "cookie", "session_key"}

_URI_PASSWORD = re.compile(
    r"(?P<pre>[a-zA-Z][\w+.\-]*://[^/\s:@'\"]*:)(?P<secret>[^/\s@'\"]+)(?P<post>@)"
)
_QUERY_SECRET = re.compile(
    r"(?P<pre>[?&;]"
    r"(?:password|passwd|pwd|pass|token|access_token|secret|api_key|apikey|key|auth)=)"
    r"(?P<secret>[^&;#\s'\"]+)",
    re.IGNORECASE,
)
_TOKEN_SHAPES = re.compile(
    r"\b(?:sk-[A-Za-z0-9_\-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16}"
    r"|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]+)"
)
#: Secrets shorter than this are redacted in the parameter list but not searched for in
#: the notebook text (replacing every "1" in a report would destroy it).
MIN_SCRUB_LENGTH = 4


def is_secret_name(name: str) -> bool:
    """Whether a parameter *name* says its value is a secret."""
    low = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name)).lower()
    if any(w in low for w in _SECRET_WORDS):
        return True
    return any(t in _SECRET_TOKENS for t in re.split(r"[^a-z0-9]+", low))


def secrets_in(text: str) -> list[str]:
    """The secret-looking substrings of a value (URI passwords, token query values, tokens)."""
    found = [m.group("secret") for m in _URI_PASSWORD.finditer(text)]
    found += [m.group("secret") for m in _QUERY_SECRET.finditer(text)]
    found += [m.group(0) for m in _TOKEN_SHAPES.finditer(text)]
    return [s for s in found if s and s != REDACTED]


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets and any secret-looking parts replaced by ``***``.

    ``scheme://user:secret@host/db`` becomes ``scheme://user:***@host/db``; a path or a
    URI without secrets is returned unchanged.
    """
    for s in sorted({s for s in secrets if len(s) >= MIN_SCRUB_LENGTH}, key=len, reverse=True):
        text = text.replace(s, REDACTED)
    text = _URI_PASSWORD.sub(lambda m: m.group("pre") + REDACTED + m.group("post"), text)
    text = _QUERY_SECRET.sub(lambda m: m.group("pre") + REDACTED, text)
    return _TOKEN_SHAPES.sub(REDACTED, text)


def redact_parameters(params: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Redact a parameter dict.

    Parameters
    ----------
    params
        ``{name: value}`` as passed to papermill.

    Returns
    -------
    redacted : dict
        The parameters safe to publish.
    secrets : set of str
        The secret strings found, to scrub from notebook text
        (:func:`shopbook.report.render.scrub_notebook`).
    """
    secrets: set[str] = set()

    def value(v: Any, secret: bool) -> Any:
        if isinstance(v, Mapping):
            return {k: value(x, secret or is_secret_name(k)) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [value(x, secret) for x in v]
        if secret:
            if v not in (None, "", False):
                secrets.add(str(v))
            return REDACTED if v not in (None, "") else v
        if isinstance(v, str):
            found = secrets_in(v)
            secrets.update(found)
            return redact_text(v, found) if found else v
        return v

    return {k: value(v, is_secret_name(k)) for k, v in params.items()}, secrets
