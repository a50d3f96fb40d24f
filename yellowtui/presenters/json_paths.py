"""Pretty-printed JSON that knows the JSON path of every line, to mark problems where they are.

The factory reports problems as paths such as ``$.schedule`` or ``$.datasets[2]``
(:func:`factory.models.json_path`); :func:`config_lines` prints a config like
``json.dumps(indent=2)`` does and tags each line with the path of the value it shows, and
:func:`locate` finds the line for a path (or its nearest ancestor, for a missing field).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from factory.json_diff import json_diff

_POSITION = re.compile(r"line (\d+) column (\d+)")
RAW_WIDTH = 72


@dataclass(frozen=True)
class JsonLine:
    text: str
    #: JSON path of the value that starts (or, for a closing bracket, ends) on this line.
    path: str
    closing: bool = False
    #: For text that is not JSON: the 0-based column of the parse error on this line, if any.
    error_column: int | None = None


@dataclass(frozen=True)
class ConfigText:
    lines: list[JsonLine]
    #: False when the text is not JSON at all: the lines are the raw text, wrapped.
    is_json: bool


def _emit(value: Any, path: str, depth: int, prefix: str, suffix: str, out: list[JsonLine]) -> None:
    pad = "  " * depth
    if isinstance(value, dict) and value:
        out.append(JsonLine(f"{pad}{prefix}{{", path))
        items = list(value.items())
        for i, (key, item) in enumerate(items):
            key_text = json.dumps(key, ensure_ascii=False)
            _emit(item, f"{path}.{key}", depth + 1, f"{key_text}: ", "," if i < len(items) - 1 else "", out)
        out.append(JsonLine(f"{pad}}}{suffix}", path, closing=True))
    elif isinstance(value, list) and value:
        out.append(JsonLine(f"{pad}{prefix}[", path))
        for i, item in enumerate(value):
            _emit(item, f"{path}[{i}]", depth + 1, "", "," if i < len(value) - 1 else "", out)
        out.append(JsonLine(f"{pad}]{suffix}", path, closing=True))
    else:
        out.append(JsonLine(f"{pad}{prefix}{json.dumps(value, ensure_ascii=False)}{suffix}", path))


def config_lines(raw: str) -> ConfigText:
    """``raw`` pretty-printed with a path per line; text that is not JSON comes back wrapped,
    with the column of the parse error marked on its line."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return ConfigText(_raw_lines(raw, exc), is_json=False)
    out: list[JsonLine] = []
    _emit(data, "$", 0, "", "", out)
    return ConfigText(out, is_json=True)


def _raw_lines(raw: str, exc: ValueError) -> list[JsonLine]:
    match = _POSITION.search(str(exc))
    line_no, column = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
    out: list[JsonLine] = []
    for n, text in enumerate(raw.splitlines() or [""], start=1):
        chunks = [text[i : i + RAW_WIDTH] for i in range(0, len(text), RAW_WIDTH)] or [""]
        for c, chunk in enumerate(chunks):
            start = c * RAW_WIDTH
            hit = n == line_no and start <= column - 1 < start + RAW_WIDTH
            at_end = n == line_no and c == len(chunks) - 1 and column - 1 >= start + len(chunk)
            out.append(JsonLine(chunk, "$", error_column=(column - 1 - start) if (hit or at_end) else None))
    return out


def parent_path(path: str) -> str | None:
    """``$.a.b`` -> ``$.a``; ``$.a[2]`` -> ``$.a``; ``$`` -> None."""
    if path == "$":
        return None
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else "$"


def locate(text: ConfigText, path: str) -> tuple[int, bool]:
    """Index of the line showing ``path`` and whether it is exact (False: nearest ancestor)."""
    if not text.is_json:
        for i, line in enumerate(text.lines):
            if line.error_column is not None:
                return i, path == "$"
        return 0, path == "$"
    wanted: str | None = path
    exact = True
    while wanted is not None:
        for i, line in enumerate(text.lines):
            if line.path == wanted and not line.closing:
                return i, exact
        wanted = parent_path(wanted)
        exact = False
    return 0, False


def changed_fields(old_json: str | None, new_json: str | None) -> list[str]:
    """Top-level fields that differ between two configs (for the change history)."""
    try:
        old = json.loads(old_json) if old_json else {}
        new = json.loads(new_json) if new_json else {}
    except ValueError:
        return ["(not JSON)"]
    if not isinstance(old, dict) or not isinstance(new, dict):
        return ["(whole value)"] if json_diff(old, new, depth=0, exact_types=False) else []
    return [c.path for c in json_diff(old, new, "", depth=1, exact_types=False)]
