"""Every error message the factory and the command line can print, as templates.

Collected from the source with ``ast`` (never by running anything): the text of each
``raise SomeError("...")``, each ``_fail("...")``, each ``ConfigProblem(path, "...")``, each
per-stream ``error = f"..."``, each health reason and each refusal, with every ``{...}`` part
replaced by ``…``. ``docs/troubleshooting.md`` must cover each one, and each of its entries
must still match one (tests/test_docs.py).

    python -m tools.messages        # list them: file:line  template
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "…"
#: A message whose longest fixed part is shorter than this cannot be told apart ("{a}: {b}").
MIN_SIGNATURE = 8
SOURCES = ("factory/**/*.py", "yellowtui/cli/*.py", "yellowtui/services/*.py")
#: Calls whose string arguments are messages: the name, and which positional argument.
MESSAGE_CALLS = {"_fail": 0, "fail": 0, "ConfigProblem": 1, "Unmapped": 1, "add": 2, "secho": 0}
#: Assignments whose value is a message: ``error = f"..."``, ``report.refused[key] = "..."``.
MESSAGE_NAMES = ("error", "refused", "reason", "detail")
#: Raised for programmers, or caught and reworded before anyone sees them.
INTERNAL = frozenset(
    {
        "module 'factory' has no attribute …",  # a typo in code importing from factory
        "unknown format",  # read_journal's own check, reported as "the migration journal … cannot be read"
        "… is not a JSON number",  # reported as "not valid JSON: NaN is not a JSON number"
    }
)


@dataclass(frozen=True)
class Message:
    file: str
    line: int
    text: str

    @property
    def parts(self) -> list[str]:
        return [p.strip() for p in self.text.split(PLACEHOLDER) if p.strip()]

    @property
    def signature(self) -> str:
        return max(self.parts, key=len, default="")


def template(node: ast.AST) -> str | None:
    """The message an expression builds, ``{...}`` parts as ``…``; None when it is no text."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        out = ""
        for value in node.values:
            if isinstance(value, ast.Constant):
                out += str(value.value)
            else:
                out += PLACEHOLDER
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = template(node.left), template(node.right)
        if left is None and right is None:
            return None
        return (left or PLACEHOLDER) + (right or PLACEHOLDER)
    return None


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


#: Functions whose returned text is a message (``skipped_message``, ``cron_problem``, ...).
MESSAGE_FUNCTION_SUFFIXES = ("_message", "_problem")


def _returned(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef) and function.name.endswith(MESSAGE_FUNCTION_SUFFIXES):
            for node in ast.walk(function):
                if isinstance(node, ast.Return) and node.value is not None:
                    text = template(node.value)
                    if text is not None:
                        found.append((node.lineno, text))
    return found


def _pairs(node: ast.Assign | ast.AnnAssign) -> list[tuple[ast.AST, ast.AST]]:
    """(target, value) pairs, tuple assignments (``a.verdict, a.detail = x, "..."``) unpacked."""
    if node.value is None:
        return []
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    pairs: list[tuple[ast.AST, ast.AST]] = []
    for target in targets:
        if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
            pairs += list(zip(target.elts, node.value.elts, strict=False))
        else:
            pairs.append((target, node.value))
    return pairs


def _calls(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = _returned(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            for arg in node.exc.args[:1]:
                text = template(arg)
                if text is not None:
                    found.append((node.lineno, text))
        elif isinstance(node, ast.Call):
            position = MESSAGE_CALLS.get(_name(node.func))
            if position is not None and len(node.args) > position:
                text = template(node.args[position])
                if text is not None:
                    found.append((node.lineno, text))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            for target, value in _pairs(node):
                base = target.value if isinstance(target, ast.Subscript) else target
                if _name(base) in MESSAGE_NAMES:
                    text = template(value)
                    if text is not None:
                        found.append((node.lineno, text))
    return found


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\\n", " ")).strip()


def collect(root: Path = ROOT) -> list[Message]:
    messages: dict[str, Message] = {}
    for pattern in SOURCES:
        for path in sorted(root.glob(pattern)):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for line, text in _calls(tree):
                message = Message(str(path.relative_to(root)), line, normalize(text))
                if len(message.signature) >= MIN_SIGNATURE and message.text not in INTERNAL:
                    messages.setdefault(message.text, message)
    return sorted(messages.values(), key=lambda m: (m.file, m.line))


def main() -> int:
    for m in collect():
        print(f"{m.file}:{m.line}  {m.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
