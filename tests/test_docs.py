"""The documentation operators rely on stays true: the configuration reference is generated
from the model, and troubleshooting covers every message the code can print, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from tools import config_reference
from tools.messages import PLACEHOLDER, Message, collect, normalize

ROOT = Path(__file__).resolve().parent.parent
TROUBLESHOOTING = ROOT / "docs" / "troubleshooting.md"
SECTION = "## Every message"
_ROW = re.compile(r"^\|\s*(`+)(.+?)\1\s*\|")


def entries() -> list[str]:
    """The message column of every table row under the "Every message" heading."""
    text = TROUBLESHOOTING.read_text(encoding="utf-8")
    assert SECTION in text, f"docs/troubleshooting.md has no '{SECTION}' section"
    found = []
    for line in text.split(SECTION, 1)[1].splitlines():
        match = _ROW.match(line)
        if match:
            found.append(normalize(match.group(2)))
    return found


def covers(entry: str, message: Message) -> bool:
    """The entry holds the message's longest fixed part, and each fixed part of the entry is in
    the message (``…`` stands for what varies)."""
    parts = [p.strip() for p in entry.split(PLACEHOLDER) if p.strip()]
    return message.signature in entry and all(p in message.text for p in parts)


def test_configuration_reference_is_up_to_date():
    assert config_reference.main(["--check"]) == 0, "run: python -m tools.config_reference"


def test_every_message_is_in_troubleshooting():
    documented = entries()
    missing = [f"{m.file}:{m.line}  {m.text}" for m in collect() if not any(covers(e, m) for e in documented)]
    assert missing == [], "add these to docs/troubleshooting.md (cause and fix):\n" + "\n".join(missing)


def test_every_troubleshooting_entry_matches_a_message():
    messages = collect()
    stale = [e for e in entries() if not any(covers(e, m) for m in messages)]
    assert stale == [], "no message in the code reads like these any more:\n" + "\n".join(stale)


def test_the_check_is_not_vacuous():
    messages = collect()
    assert len(messages) > 100
    assert any("cannot read the config database" in m.text for m in messages)  # a raise
    assert any("refusing to drop without confirmation" in m.text for m in messages)  # a _fail
    assert any(covers("`stream … changed since it was read (…); reload and try again`".strip("`"), m) for m in messages)
    assert not any(covers("`something no code ever says`".strip("`"), m) for m in messages)


def test_every_document_is_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for doc in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{doc.name})" in readme, doc.name
