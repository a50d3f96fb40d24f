"""Text from data, made safe to show: every character that could act on a terminal or hide what
a line says is shown as an escape, so the operator sees exactly what is stored.

One function, :func:`visible`, used by every screen, widget and CLI output that shows text from
a row, a history entry, a parse report, a file or Airflow. It is pure (no Rich, no Textual): the
dashboard wraps its result in literal ``Content``/``Text`` (never markup), the command line
prints it as is.

Shown as escapes (``\\x1b``, ``\\u202e``):

- C0 controls (``\\x00``-``\\x1f``, so ESC, BEL, CR, backspace, NUL; newline and tab too unless
  the caller keeps them), DEL and the C1 controls (``\\x80``-``\\x9f``, which include CSI and
  OSC on some terminals);
- bidirectional overrides, embeddings, isolates and marks (U+202A-U+202E, U+2066-U+2069,
  U+200E, U+200F, U+061C), which can make a line read differently from what it holds;
- zero-width and invisible characters (U+200B-U+200D, U+2060-U+2064, U+FEFF, U+180E, U+00AD)
  and the line/paragraph separators U+2028/U+2029;
- lone surrogates (text that came from broken UTF-16) and other unassigned-format code points
  of category Cc/Cf/Cs/Co are covered by the rules above or shown escaped.

Markup is a separate matter: text shown through this function is never parsed as markup,
because callers pass it to literal constructors. :func:`visible` leaves ``[`` and ``]`` alone
so the operator sees ``[bold]`` exactly as stored.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

#: Characters always escaped besides C0/C1 controls: bidi controls, zero-width characters,
#: separators that break lines where no newline is.
_INVISIBLE = frozenset(
    [
        *range(0x202A, 0x202F),  # LRE RLE PDF LRO RLO
        *range(0x2066, 0x206A),  # LRI RLI FSI PDI
        0x200E,
        0x200F,
        0x061C,  # LRM RLM ALM
        *range(0x200B, 0x200E),  # ZWSP ZWNJ ZWJ
        *range(0x2060, 0x2065),  # WJ, invisible operators
        0xFEFF,
        0x180E,
        0x00AD,
        0x2028,
        0x2029,
        0x034F,
        *range(0x206A, 0x2070),  # deprecated format characters
        *range(0xFFF9, 0xFFFC),  # interlinear annotation
    ]
)


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


@lru_cache(maxsize=4096)
def _needs_escape(ch: str) -> bool:
    code = ord(ch)
    if code < 0x20 or 0x7F <= code <= 0x9F or code in _INVISIBLE:
        return True
    if code < 0x300:
        return False
    category = unicodedata.category(ch)
    return category in ("Cc", "Cs", "Co", "Cn") or (category == "Cf" and code not in _SHOWN_FORMAT)


#: Format characters that are part of ordinary text in some scripts (Arabic number signs and the
#: like render visibly); every other Cf character is escaped.
_SHOWN_FORMAT = frozenset([*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x08E2, 0x110BD, 0x110CD])


def visible(text: object, *, keep_newlines: bool = False, keep_tabs: bool = False) -> str:
    """``text`` (any object, turned into ``str``) with every control, bidi and invisible
    character shown as an escape; ``keep_newlines``/``keep_tabs`` let multi-line views keep
    ``\\n``/``\\t`` as layout. Fast path: plain printable text is returned unchanged."""
    s = text if isinstance(text, str) else str(text)
    if s.isascii() and s.isprintable() and "\x7f" not in s:
        return s
    out: list[str] = []
    for ch in s:
        if (ch == "\n" and keep_newlines) or (ch == "\t" and keep_tabs) or not _needs_escape(ch):
            out.append(ch)
        else:
            out.append(_escape(ch))
    return "".join(out)


def one_line(text: object, limit: int | None = None) -> str:
    """:func:`visible` for a single line (newlines and tabs escaped too), cut at ``limit``
    characters with an ellipsis."""
    s = visible(text)
    if limit is not None and len(s) > limit:
        return s[: max(0, limit - 1)] + "…"
    return s


def is_visible(text: str) -> bool:
    """True when ``text`` holds nothing :func:`visible` would escape (newlines aside)."""
    return visible(text, keep_newlines=True) == text


def json_visible(json_text: str) -> str:
    """JSON text (as ``json.dumps(..., ensure_ascii=False)`` writes it) with every character
    :func:`visible` would escape written as a JSON ``\\uXXXX`` escape instead: the same data,
    still valid JSON, but nothing in it acts on a terminal. (JSON already escapes C0 controls.)"""
    if json_text.isascii():
        return json_text
    out: list[str] = []
    for ch in json_text:
        if ord(ch) < 0x80 or not _needs_escape(ch):
            out.append(ch)
        elif ord(ch) > 0xFFFF:
            high, low = divmod(ord(ch) - 0x10000, 0x400)
            out.append(f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}")
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)
