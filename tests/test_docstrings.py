"""The dashboard's screens and widgets document their public API the way Textual documents its own.

Read with ``ast`` (nothing is imported), so the check is cheap and cannot fail on an import.
What needs a docstring follows Textual's own source:

- every public class, nested ones included (Message classes say when they are posted and what
  they carry), and every public module-level function;
- every public method and property of a public class, ``action_*`` methods included;
- ``__init__`` when it takes arguments (Textual puts a widget's ``Args:`` there);
- every ``reactive``/``var`` attribute, by a docstring after it or a comment above it.

Left out, as Textual leaves them: names with a leading underscore, event handlers (``on_*``),
reactive hooks (``watch_*``, ``validate_*``, ``compute_*``), property setters, and overrides of
Textual's own hooks (``compose``, ``render``, ``render_line``...), which its docs cover.

``python tests/test_docstrings.py`` prints the coverage by this rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("yellowtui/screens", "yellowtui/widgets")

#: Methods a widget overrides from Textual, documented there.
TEXTUAL_HOOKS = frozenset(
    {
        "compose",
        "render",
        "render_line",
        "render_lines",
        "get_content_width",
        "get_content_height",
        "notify_style_update",
    }
)
#: Method prefixes Textual calls by name (handlers and reactive hooks).
HOOK_PREFIXES = ("on_", "watch_", "validate_", "compute_")
REACTIVE_FACTORIES = frozenset({"reactive", "var"})


def modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).glob("*.py"))


def _is_setter(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Attribute) and d.attr in ("setter", "deleter") for d in node.decorator_list)


def _needs_doc(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    if node.name == "__init__":
        args = node.args
        return len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs) > 1 or bool(args.vararg or args.kwarg)
    if node.name.startswith("_") or node.name.startswith(HOOK_PREFIXES) or node.name in TEXTUAL_HOOKS:
        return False
    return not _is_setter(node)


def _reactive_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.AnnAssign):
        target, value = node.target, node.value
    elif isinstance(node, ast.Assign):
        target, value = node.targets[0], node.value
    else:
        return None
    if not isinstance(value, ast.Call) or not isinstance(target, ast.Name):
        return None
    func = value.func
    called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return target.id if called in REACTIVE_FACTORIES else None


def _is_string(node: ast.stmt | None) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _class_items(cls: ast.ClassDef, qualname: str, lines: list[str]) -> Iterator[tuple[str, bool]]:
    yield qualname, ast.get_docstring(cls) is not None
    body = cls.body
    for i, node in enumerate(body):
        name = f"{qualname}.{getattr(node, 'name', '')}"
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            yield from _class_items(node, name, lines)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _needs_doc(node):
            yield name, ast.get_docstring(node) is not None
        elif (reactive := _reactive_name(node)) is not None:
            commented = lines[node.lineno - 2].strip().startswith("#")
            yield f"{qualname}.{reactive}", commented or _is_string(body[i + 1] if i + 1 < len(body) else None)


def public_items(path: Path) -> Iterator[tuple[str, bool]]:
    """Each public name of one module by the rule above, and whether it is documented.

    Args:
        path: A Python source file.

    Returns:
        Pairs of ``module:Qualified.name`` and True when it has its docstring (or comment).
    """
    source = path.read_text(encoding="utf-8")
    module = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
    lines = source.splitlines()
    for node in ast.parse(source, filename=str(path)).body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            yield from ((f"{module}:{name}", ok) for name, ok in _class_items(node, node.name, lines))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
            yield f"{module}:{node.name}", ast.get_docstring(node) is not None


def test_public_api_is_documented() -> None:
    assert modules(), "no screen or widget modules found"
    missing = [name for path in modules() for name, ok in public_items(path) if not ok]
    assert not missing, "public names without a docstring:\n  " + "\n  ".join(missing)


if __name__ == "__main__":
    for package in PACKAGES:
        items = [ok for path in sorted((ROOT / package).glob("*.py")) for _, ok in public_items(path)]
        print(f"{package}: {sum(items)}/{len(items)} documented ({100 * sum(items) / max(1, len(items)):.0f}%)")
