"""Hiding credentials: database URLs, Airflow connection JSON, and error texts that quote them.

One place decides what a secret looks like, so every message, report, spool and snapshot the
factory writes goes through the same rules:

- URL userinfo: ``scheme://user:PASSWORD@host`` keeps ``user``; the password may hold ``@``, ``:``
  or ``/`` that were never percent-encoded (the host is found from the right).
- URL query parameters whose name says secret (``password``, ``sslpassword``, ``passphrase``,
  ``token``, ``access_token``, ``secret``, ``api_key``, ...).
- ``AIRFLOW_CONN_*`` JSON: ``password`` and every secret-named key inside ``extra``.
- libpq DSN text (``password=... sslpassword='...'``) inside driver error messages.
- Every secret seen in a URL that passed through :func:`remember_url_secrets` (``normalize_url``
  does that), wherever it appears later in any text, in its plain and percent-encoded forms.

A URL shown on its own (a status bar, an error naming the database or Airflow) goes through
:func:`display_url`, which hides more: the whole userinfo and the whole query.
"""

from __future__ import annotations

import json
import re
import threading
from functools import lru_cache
from urllib.parse import quote, quote_plus, unquote

MASK = "***"

#: Parameter and key names that carry a secret (compared lower-cased, ``-`` read as ``_``).
SECRET_NAME_RE = re.compile(
    r"(pass(word|wd|phrase)?|pwd|secret|token|api_?key|private_?key|credential|auth(orization)?|"
    r"sslpassword|client_secret|keyfile_dict|service_account|session_key|signature|sig)$"
)
_SCHEME_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<rest>.*)$", re.DOTALL)
#: What may follow the ``@`` of userinfo: a host (name, IPv4, [IPv6]) and a port, or nothing (socket).
_HOST_AFTER_AT_RE = re.compile(r"^(?:[A-Za-z0-9.\-_~%]*|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?(?=[/?#]|$)")
#: ``name=value`` pairs of a query string or of a libpq DSN, value quoted or not.
_PAIR_RE = re.compile(
    r"(?P<name>\b[A-Za-z][A-Za-z0-9_\-]*)(?P<eq>\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&;'\"]+)"
)
#: A URL embedded in free text, with userinfo.
_URL_IN_TEXT_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]*@[^\s'\"<>]*")

_known: set[str] = set()
_known_lock = threading.Lock()


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME_RE.search(name.lower().replace("-", "_")))


def split_userinfo(rest: str) -> tuple[str, str] | None:
    """``rest`` (after ``scheme://``) split as (userinfo, host-and-after), trying ``@`` from the right."""
    at = len(rest)
    while True:
        at = rest.rfind("@", 0, at)
        if at < 0:
            return None
        if _HOST_AFTER_AT_RE.match(rest[at + 1 :]):
            return rest[:at], rest[at + 1 :]


def split_userinfo_loosely(rest: str) -> tuple[str, str] | None:
    """Like :func:`split_userinfo`, and for a URL that cannot be parsed (a port that is not a
    number, a broken IPv6 literal) the userinfo up to the last ``@``: hiding too much is safe."""
    parts = split_userinfo(rest)
    if parts is not None and "@" not in _before_query(parts[1]):
        return parts
    head = _before_query(rest)
    at = head.rfind("@") if "@" in head else rest.rfind("@")
    return (rest[:at], rest[at + 1 :]) if at >= 0 else parts


def _before_query(text: str) -> str:
    return text.split("?", 1)[0].split("#", 1)[0]


def url_secrets(url: str) -> list[str]:
    """The secret values a URL holds: its password and its secret-named query values."""
    return list(_url_secrets(url))


@lru_cache(maxsize=64)
def _url_secrets(url: str) -> tuple[str, ...]:
    found: list[str] = []
    match = _SCHEME_RE.match(url.strip())
    if match:
        parts = split_userinfo_loosely(match["rest"])
        if parts is not None:
            user, sep, password = parts[0].partition(":")
            if sep and password:
                found.append(password)
            elif not sep and user and match["scheme"].lower().startswith("http"):
                found.append(user)  # https://TOKEN@host: the user is the token
    for pair in _PAIR_RE.finditer(url):
        if is_secret_name(pair["name"]):
            value = pair["value"].strip("'\"")
            if value:
                found.append(value)
    return tuple(dict.fromkeys(found))


def remember_url_secrets(url: str) -> None:
    """Note the secrets of a URL the process uses, so :func:`redact_text` hides them anywhere."""
    secrets = [s for s in _url_secrets(url) if len(s) >= 3]
    if secrets and not _known.issuperset(secrets):
        with _known_lock:
            _known.update(secrets)


def redact_url(url: str) -> str:
    """The URL with its password, token userinfo and secret query values replaced by ``***``."""
    text = url.strip()
    if text.startswith("{"):
        return redact_connection_json(text)
    match = _SCHEME_RE.match(text)
    if not match:
        return redact_text(text)
    scheme, rest = match["scheme"], match["rest"]
    parts = split_userinfo_loosely(rest)
    if parts is not None:
        userinfo, after = parts
        user, sep, password = userinfo.partition(":")
        if sep:
            userinfo = f"{user}:{MASK}" if password else f"{user}:"
        elif scheme.lower().startswith("http"):
            userinfo = MASK
        rest = f"{userinfo}@{after}"
    return scheme + _redact_pairs(rest)


def display_url(url: str) -> str:
    """The one form a URL is shown in: scheme, host, port and path; the whole userinfo becomes
    ``***`` and the query and fragment are left out.

    The stricter union of the two rules it replaces (the database's: password hidden, the host
    found from the right even in a URL that does not parse; Airflow's: userinfo, query and
    fragment dropped). A user name can be a token and any query parameter a credential, so
    neither is shown; ``***`` still says that a credential was given. Never raises. Text that is
    not a URL (connection JSON, free text) gets :func:`redact_url`'s rules.
    """
    text = url.strip()
    match = _SCHEME_RE.match(text)
    if match is None or text.startswith("{"):
        return redact_url(text)
    rest = match["rest"]
    parts = split_userinfo_loosely(rest)
    if parts is not None:
        rest = f"{MASK}@{parts[1]}"
    ends = [at for at in (rest.find("?"), rest.find("#")) if at >= 0]
    return match["scheme"] + (rest[: min(ends)] if ends else rest)


def _redact_pairs(text: str) -> str:
    def hide(pair: re.Match[str]) -> str:
        if not is_secret_name(pair["name"]):
            return pair[0]
        return f"{pair['name']}{pair['eq']}{MASK}"

    return _PAIR_RE.sub(hide, text)


def redact_connection_json(text: str) -> str:
    """An ``AIRFLOW_CONN_*`` JSON value with ``password`` and secret-named ``extra`` keys hidden."""
    try:
        data = json.loads(text)
    except ValueError:
        return redact_text(text)
    return json.dumps(_redact_mapping(data), sort_keys=True)


def _redact_mapping(data: object) -> object:
    if isinstance(data, dict):
        out: dict[str, object] = {}
        for key, value in data.items():
            if isinstance(key, str) and is_secret_name(key) and value not in (None, ""):
                out[key] = MASK
            elif key == "extra" and isinstance(value, str):
                try:
                    out[key] = json.dumps(_redact_mapping(json.loads(value)), sort_keys=True)
                except ValueError:
                    out[key] = redact_text(value)
            elif key in ("host", "uri", "url", "dsn", "conn_uri") and isinstance(value, str):
                out[key] = redact_url(value)
            else:
                out[key] = _redact_mapping(value)
        return out
    if isinstance(data, list):
        return [_redact_mapping(v) for v in data]
    if isinstance(data, str) and "://" in data:
        return redact_url(data)
    return data


def redact_text(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """Free text (a driver's error message, a log line) with every credential hidden.

    Hides the given ``secrets`` and every remembered one (plain, percent-encoded and
    ``+``-encoded), URLs with userinfo, and secret-named ``name=value`` pairs (libpq DSNs, query
    strings).
    """
    if not text:
        return text
    candidates = {s for s in (*secrets, *_known) if s and len(s) >= 3}
    for secret in sorted(candidates, key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote_plus(secret), unquote(secret)}:
            if len(form) >= 3 and form in text:
                text = text.replace(form, MASK)
    if "://" in text:
        text = _URL_IN_TEXT_RE.sub(lambda m: redact_url(m[0]), text)
    if "=" in text:
        text = _redact_pairs(text)
    return text


def forget_secrets() -> None:
    """Tests only: drop the remembered secrets."""
    with _known_lock:
        _known.clear()
    _url_secrets.cache_clear()
