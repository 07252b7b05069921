"""Secrets out of anything shared: the one set of redaction rules.

A shared report is a publication (DESIGN §6), and a source's address is shown in reports,
data-health tables and error messages. Everything that shows a URI or a parameter
passes it through these rules — :func:`shopbook.data.sources.open_source` (the address a
source reports), :mod:`shopbook.report.render` (executed notebooks, HTML),
:mod:`shopbook.report.runs` (``summary.json``, source fingerprints) and the ``shopbook``
command, whose every printed line goes through :class:`RedactingStream`:

* :func:`is_secret_name`: a parameter *name* that says its value is secret (password,
  pw, token, key, secret, credential, auth, dsn, webhook…);
* :func:`secrets_in`: the secret *parts* of a value — the password of
  ``scheme://user:pass@host`` (any scheme, misspelt ones too; ``@`` and ``/`` inside the
  password are covered: it runs to the last ``@``), ``?password=…`` / ``?token=…`` /
  ``?access_token=…`` / ``?key=…`` query values, ``password=…`` / ``pw=…`` inside a value
  (``host=a password=x``), webhook paths (``hooks.slack.com/services/…``, ``…/hook/…``),
  ``Bearer …`` credentials, API-token shapes such as ``sk-…``, ``ghp_…``, ``AKIA…``, JWTs;
* :func:`redact_text` / :func:`redact_parameters` replace them with ``***``;
  :func:`secrets_of_arguments` collects the secrets of a command line.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

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
    "webhook",
)
_SECRET_TOKENS = {
    "pw",
    "pwd",
    "pass",
    "key",
    "auth",
    "dsn",
    "pat",
    "jwt",
    "cookie",
    "session_key",
    "hook",
    "sig",
    "signature",
}

#: ``scheme://user:password@host``, any scheme (a misspelt ``postgress://`` too). The
#: password runs to the LAST ``@`` of the address, so a password holding ``@`` or ``/`` is
#: redacted whole; the user part holds no ``:``, ``/``, ``?`` or ``#``.
_URI_PASSWORD = re.compile(
    r"(?P<pre>\b[a-zA-Z][\w+.\-]*://[^\s:/?#'\"<>`]*:)(?P<secret>[^\s\"<>`]+)(?P<post>@)"
)
#: Webhook addresses whose path is the secret: ``hooks.slack.com/services/…``, Feishu/Lark
#: ``…/bot/v2/hook/…``, Discord ``…/api/webhooks/…``, Teams ``…/webhookb2/…``, Zapier.
_WEBHOOK_PATH = re.compile(
    r"(?P<pre>\bhttps?://(?:hooks\.slack\.com/(?:services|workflows|triggers)/"
    r"|[^\s/'\"<>`]+(?:/[^\s/?#'\"<>`]+)*?/(?:web)?hooks?\w*/))"
    r"(?P<secret>[^\s?#'\"<>`]{8,})(?P<post>)",
    re.IGNORECASE,
)
_SECRET_KEYS = (
    r"password|passwd|passphrase|pwd|pw|pass|token|access_token|refresh_token|secret"
    r"|client_secret|api_key|apikey|access_key|key|auth|sign|signature|sig"
)
#: ``?password=…``, ``&token=…``, DingTalk ``?access_token=…``, WeCom ``?key=…``.
_QUERY_SECRET = re.compile(
    rf"(?P<pre>[?&;](?:{_SECRET_KEYS})=)(?P<secret>[^&;#\s'\"<>`]+)(?P<post>)",
    re.IGNORECASE,
)
#: ``password=…`` inside a value: a libpq keyword string (``host=a password=x``), a
#: ``-p db_password=…`` pair, an assignment in an error message, a quoted key of a dict or
#: JSON text (``{'password': 'x'}``).
_SECRET_NAME_END = r"(?:password|passwd|passphrase|pwd|pw|secret|token|api_?key)"
_KEYWORD_SECRET = re.compile(
    rf"(?P<pre>(?:(?:^|(?<=[\s,;=(\[{{]))[\w.\-]{{0,30}}?{_SECRET_NAME_END}\s*=\s*"
    rf"|(?P<q>[\"'])[\w.\-]{{0,30}}?{_SECRET_NAME_END}(?P=q)\s*:\s*)[\"']?)"
    r"(?P<secret>(?<=['\"])[^'\"\n]+|(?<!['\"])[^\s,;'\"()\[\]{}=][^\s,;'\"()\[\]{}]*)"
    r"(?P<post>)",
    re.IGNORECASE | re.MULTILINE,
)
#: ``Authorization: Bearer …`` / ``Authorization: Basic …`` / ``Bearer …`` (``Basic`` alone
#: is an English word).
_AUTH_HEADER = re.compile(
    r"(?P<pre>\bAuthorization[\"']?\s*[:=]\s*[\"']?(?:(?:Bearer|Basic|Token)\s+)?"
    r"|\bBearer\s+)(?P<secret>[A-Za-z0-9._~+/\-]{12,}=*)(?P<post>)"
)
_TOKEN_SHAPES = re.compile(
    r"(?P<pre>)(?P<secret>\b(?:sk-[A-Za-z0-9_\-]{16,}|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_\-]{20,}"
    r"|xox[abeprs]-[A-Za-z0-9\-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{35}"
    r"|hf_[A-Za-z0-9]{30,}|npm_[A-Za-z0-9]{36}"
    r"|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]+))(?P<post>)"
)
#: Every rule, in the order applied, with a quick test a text must pass for the rule to
#: be tried (it keeps long texts — notebook outputs — fast); each rule has the groups
#: ``pre``, ``secret`` and ``post``.
_RULES = (
    (re.compile("://"), _URI_PASSWORD),
    (re.compile("hook", re.IGNORECASE), _WEBHOOK_PATH),
    (re.compile("="), _QUERY_SECRET),
    (re.compile(rf"{_SECRET_NAME_END}[\"']?\s*[=:]", re.IGNORECASE), _KEYWORD_SECRET),
    (re.compile("Bearer|Authorization"), _AUTH_HEADER),
    (re.compile(""), _TOKEN_SHAPES),
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
    """The secret-looking substrings of a value.

    URI passwords, webhook paths, ``password=`` / ``token=`` values (in a query or a
    keyword string), ``Bearer`` credentials and API-token shapes.
    """
    found = [
        m.group("secret") for hint, rule in _RULES if hint.search(text) for m in rule.finditer(text)
    ]
    return [s for s in dict.fromkeys(found) if s and s != REDACTED]


def _replace(match: re.Match[str]) -> str:
    return match.group("pre") + REDACTED + match.group("post")


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets and any secret-looking parts replaced by ``***``.

    The one redactor: reports, summaries, source addresses and every line the ``shopbook``
    command prints (:class:`RedactingStream`) pass through it.
    ``scheme://user:secret@host/db`` becomes ``scheme://user:***@host/db`` — the password
    runs to the last ``@`` of the address, so ``@`` and ``/`` inside it are covered — and
    ``host=h password=x`` becomes ``host=h password=***``; a path or a URI without
    secrets is returned unchanged. An address whose query holds another ``@`` loses more
    than its password (redacting too much is the safe side).
    """
    for s in sorted({s for s in secrets if len(s) >= MIN_SCRUB_LENGTH}, key=len, reverse=True):
        text = text.replace(s, REDACTED)
    for hint, rule in _RULES:
        if hint.search(text):
            text = rule.sub(_replace, text)
    return text


def secrets_of_arguments(args: Iterable[str]) -> set[str]:
    """The secrets given on a command line: in values, and as values of secret names.

    ``--source postgres://u:pw@h/db`` gives ``pw``; ``-p db_password=x`` gives ``x``.
    They are scrubbed literally from everything printed, so a message that shows a
    password out of its URI (a driver quoting it alone) is covered too.
    """
    found: set[str] = set()
    for arg in args:
        found.update(secrets_in(arg))
        key, eq, value = str(arg).partition("=")
        if eq and value and is_secret_name(key.lstrip("-")):
            found.add(value)
    return found


class RedactingStream:
    """A text stream that passes everything written to it through :func:`redact_text`.

    Text is held until a line is complete (or the stream is flushed), so a secret split
    over several writes is still seen whole. It offers no binary ``buffer``: bytes
    written there would bypass the redaction.

    Parameters
    ----------
    stream
        The stream to write the redacted text to (``sys.stderr``…).
    secrets
        Exact strings to remove as well (:func:`secrets_of_arguments`).
    """

    #: A line longer than this is written out in pieces.
    MAX_PENDING = 1 << 20

    def __init__(self, stream: TextIO, secrets: Iterable[str] = ()) -> None:
        self.stream = stream
        self.secrets = set(secrets)
        self._pending = ""
        self._lock = threading.RLock()

    def write(self, text: str) -> int:
        """Redact the complete lines of ``text`` and write them; keep the rest."""
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        with self._lock:
            self._pending += text
            head, newline, tail = self._pending.rpartition("\n")
            if newline:
                self.stream.write(redact_text(head + newline, self.secrets))
                self._pending = tail
            if len(self._pending) > self.MAX_PENDING:
                self._emit()
        return len(text)

    def _emit(self) -> None:
        if self._pending:
            self.stream.write(redact_text(self._pending, self.secrets))
            self._pending = ""

    def flush(self) -> None:
        """Write what is held (redacted) and flush the wrapped stream."""
        with self._lock:
            self._emit()
            self.stream.flush()

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def close(self) -> None:
        """Flush; the wrapped stream stays open (it belongs to the caller)."""
        self.flush()

    @property
    def closed(self) -> bool:
        return bool(getattr(self.stream, "closed", False))

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:
        return getattr(self.stream, "errors", None)

    @property
    def name(self) -> str:
        return str(getattr(self.stream, "name", "<redacted>"))

    def isatty(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())

    def fileno(self) -> int:
        return self.stream.fileno()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False


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
