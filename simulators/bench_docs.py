"""Writing a benchmark's section into docs/benchmarks.md: each benchmark owns one ``## `` section
and rewrites only that one, so the others (and any hand-written notes it keeps) stay as they are."""

from __future__ import annotations

from pathlib import Path

DOCS_PATH = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_section(heading: str, section: str, path: Path = DOCS_PATH, *, notes_mark: str | None = None) -> None:
    """Replace the section that starts with the line ``heading`` by ``section`` (or append it).

    With ``notes_mark``, the lines from that marker to the section's end are hand-written notes:
    they are kept after the new text (the marker is added when the section had none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        new = text.rstrip("\n") + "\n\n" + section + ("\n" + notes_mark + "\n" if notes_mark else "")
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        rest = "".join(lines[end:])
        if notes_mark:
            mark = next((i for i in range(start, end) if lines[i].rstrip() == notes_mark), None)
            kept = "".join(lines[mark:end]) if mark is not None else notes_mark + "\n"
            section = section + "\n" + kept.rstrip("\n") + "\n"
        new = "".join(lines[:start]) + section + ("\n" + rest if rest else "")
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")
