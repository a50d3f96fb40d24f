"""Credential-looking values in a config row: refused by field, never echoed.

A row names Kubernetes secrets; it never holds a credential. A value that carries one (a
password or token in a URL's userinfo or query, a private key, a provider token, a long
random-looking string) is a problem at the field's JSON path whose message says what kind of
thing was found, never the value itself.

Checked per string value with one combined regular expression and a cheap pre-filter, so the
common case (short names, plain URLs) costs a few microseconds per row.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from factory.redact import is_secret_name, split_userinfo

#: Known token shapes, each named by what it is.
_TOKEN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("a private key", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|PRIVATE KEY-----"),
    ("a GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
    ("a GitLab token", r"\bglpat-[A-Za-z0-9_\-]{16,}"),
    ("a Slack token", r"\bxox[abposr]-[A-Za-z0-9\-]{8,}"),
    ("a Slack webhook", r"hooks\.slack\.com/services/"),
    ("an AWS access key", r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    ("a Google API key", r"\bAIza[A-Za-z0-9_\-]{30,}"),
    ("a JSON web token", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\."),
    ("an OpenAI-style key", r"\bsk-[A-Za-z0-9_\-]{20,}"),
    ("a bearer token", r"\b[Bb](?:earer|EARER)\s+[A-Za-z0-9._~+/\-]{12,}"),
)
_TOKENS_RE = re.compile("|".join(f"(?P<t{i}>{p})" for i, (_, p) in enumerate(_TOKEN_PATTERNS)))
_URL_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<authority>[^/?#\s]*)(?P<rest>[^\s]*)")
_QUERY_PAIR_RE = re.compile(r"[?&;](?P<name>[^=&;#\s]+)=(?P<value>[^&;#\s]*)")
#: A long run of token characters; judged by its mix of characters and its entropy.
_RUN_RE = re.compile(r"[A-Za-z0-9+/=_\-]{32,}")
_HEX_RUN_RE = re.compile(r"^[0-9a-fA-F]+$")
_DIGIT_RE = re.compile(r"[0-9]")
#: Characters that make a string worth a closer look at all (the fast path skips the rest).
_TRIGGER_RE = re.compile(
    r"://|@|-----|[?&;][^=]*=|gh[pousr]_|github_pat_|glpat-|xox|AKIA|ASIA|AIza|eyJ|sk-|[Bb]earer|[A-Za-z0-9+/=_\-]{32}"
)

ENTROPY_BITS = 4.3
KEY_KIND = "a field name that looks like a credential"


def _entropy(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _random_looking(run: str) -> bool:
    """A long run with upper case, lower case and digits and high entropy (not a hex digest)."""
    if run.lower() == run or run.upper() == run or not _DIGIT_RE.search(run):
        return False  # needs upper case, lower case and digits
    if _HEX_RUN_RE.match(run):
        return False  # digests (sha256:<64 hex>) and hashes are not credentials
    return _entropy(run) >= ENTROPY_BITS


def credential_kind(value: str) -> str | None:
    """What kind of credential ``value`` seems to hold, or None. Never returns the value."""
    if not _TRIGGER_RE.search(value):
        return None
    for url in _URL_RE.finditer(value):
        # The host is found from the right, so a password holding an unencoded '/' or '@' is caught.
        parts = split_userinfo(url["authority"] + url["rest"]) if "@" in url[0] else None
        if parts is not None:
            userinfo = parts[0]
            if ":" in userinfo and userinfo.split(":", 1)[1]:
                return "a password in the URL"
            if url["scheme"].lower() in ("http", "https") and userinfo:
                return "a token as the URL's user name"
        for pair in _QUERY_PAIR_RE.finditer(url["rest"]):
            if is_secret_name(pair["name"]) and pair["value"]:
                return f"a secret in the URL's query ({pair['name'][:40]!r})"
    token = _TOKENS_RE.search(value)
    if token is not None and token.lastgroup is not None:
        return _TOKEN_PATTERNS[int(token.lastgroup[1:])][0]
    for run in _RUN_RE.findall(value):
        if _random_looking(run):
            return "a long random-looking string (a key or token?)"
    return None


#: Literal fragments of every token shape above; a row's text holding none of them (and no URL
#: userinfo, secret-named query parameter, escape or random-looking run) skips the per-value scan.
_LITERALS = (
    "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xox", "AKIA", "ASIA", "AIza", "eyJ",
    "sk-", "earer", "EARER", "PRIVATE KEY", "hooks.slack", "\\",
)  # fmt: skip
_USERINFO_RE = re.compile(r"://[^\"\s]*@")
_QUERY_SECRET_RE = re.compile(r"[?&;][A-Za-z0-9_\-]*(?i:pass|pwd|secret|token|key|auth|cred|sig)[A-Za-z0-9_\-]*=")


def text_may_hold_credential(raw: str) -> bool:
    """Cheap whole-text check: False means no value of this JSON text can look like a credential.

    Substring tests first (C speed); regular expressions only where a character they need occurs.
    """
    if any(fragment in raw for fragment in _LITERALS):
        return True
    if "@" in raw and _USERINFO_RE.search(raw):
        return True
    if "=" in raw and _QUERY_SECRET_RE.search(raw):
        return True
    return any(_random_looking(run) for run in _RUN_RE.findall(raw))


def scan(data: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(JSON path, kind) of every string in ``data`` (keys included) that looks like a credential.

    A key that looks like one is yielded at its own path with :data:`KEY_KIND`; callers report
    it at the object holding it, so the key itself is never shown.
    """
    if isinstance(data, str):
        kind = credential_kind(data)
        if kind is not None:
            yield path, kind
    elif isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and credential_kind(key) is not None:
                yield (*path, key), KEY_KIND
                continue
            yield from scan(value, (*path, key))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from scan(item, (*path, i))
