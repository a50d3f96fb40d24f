"""Where a JSON path sits in JSON text as someone typed it: the editor marks problems there.

:mod:`yellowtui.presenters.json_paths` knows the lines of JSON it pretty-printed itself; an
editor holds text laid out by a person. :func:`path_lines` scans that text once and gives the
0-based line where each value starts (for an object member: the line of its key), and
:func:`problem_line` finds the line of a problem's path, or of its nearest enclosing value
when the field is missing. Text that is not JSON gives the line of the parse error.
"""

from __future__ import annotations

import json
import re

from yellowtui.presenters.json_paths import parent_path

_WS = " \t\r\n"
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_ERROR_LINE = re.compile(r"line (\d+),? column (\d+)")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.found: dict[str, int] = {}

    def line(self, pos: int) -> int:
        return self.text.count("\n", 0, pos)

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _WS:
            self.pos += 1

    def value(self, path: str, at: int | None = None) -> None:
        self.skip()
        self.found.setdefault(path, self.line(self.pos if at is None else at))
        if self.pos >= len(self.text):
            raise ValueError("unexpected end")
        ch = self.text[self.pos]
        if ch == "{":
            self.pos += 1
            self.skip()
            if self.text.startswith("}", self.pos):
                self.pos += 1
                return
            while True:
                self.skip()
                key_at = self.pos
                key = self.string()
                self.skip()
                self.expect(":")
                self.value(f"{path}.{key}", at=key_at)
                self.skip()
                if self.text.startswith(",", self.pos):
                    self.pos += 1
                    continue
                self.expect("}")
                return
        if ch == "[":
            self.pos += 1
            self.skip()
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return
            i = 0
            while True:
                self.value(f"{path}[{i}]")
                i += 1
                self.skip()
                if self.text.startswith(",", self.pos):
                    self.pos += 1
                    continue
                self.expect("]")
                return
        if ch == '"':
            self.string()
            return
        for word in ("true", "false", "null"):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return
        match = _NUMBER.match(self.text, self.pos)
        if not match:
            raise ValueError(f"unexpected {ch!r}")
        self.pos = match.end()

    def string(self) -> str:
        self.expect('"', advance=False)
        decoder = json.JSONDecoder()
        value, end = decoder.raw_decode(self.text, self.pos)
        self.pos = end
        return str(value)

    def expect(self, ch: str, advance: bool = True) -> None:
        if not self.text.startswith(ch, self.pos):
            raise ValueError(f"expected {ch!r}")
        if advance:
            self.pos += len(ch)


def path_lines(text: str) -> dict[str, int]:
    """The 0-based line where each JSON path's value starts; ``{}`` when the text is not JSON."""
    scanner = _Scanner(text)
    try:
        scanner.value("$")
    except ValueError:
        return {}
    scanner.skip()
    return scanner.found if scanner.pos == len(text) else {}


def problem_line(text: str, path: str, message: str = "") -> tuple[int, bool]:
    """The 0-based line to mark for a problem at ``path`` and whether it is exact (False: the
    nearest enclosing value, e.g. the object a missing field belongs in). For text that is not
    JSON, the line named in the message (``line 3 column 5``), else the first line."""
    found = path_lines(text)
    if not found:
        match = _ERROR_LINE.search(message)
        return (int(match.group(1)) - 1 if match else 0), path == "$"
    wanted: str | None = path
    exact = True
    while wanted is not None:
        if wanted in found:
            return found[wanted], exact
        wanted = parent_path(wanted)
        exact = False
    return 0, False
